public import CofferAPI
public import Foundation

/// Delayed deletions of safety nets (a quarantine, a server backup), confirmed by a mailed link.
public protocol DeletionRepository: Sendable {
    /// Records a deletion request; it waits for the link whose token hashes to `tokenHash`, which
    /// `mail` carries (posted in the same transaction).
    func requestDeletion(
        _ deletion: PendingDeletion, accountID: UUID, tokenHash: Data, event: AccountEvent, mail: OutboxMail
    ) async throws
    /// The account's deletions that may still happen: confirmed ones, and unconfirmed ones whose link
    /// has not lapsed at `now`.
    func pendingDeletions(accountID: UUID, now: Date) async throws -> [PendingDeletion]
    /// The pending deletion a link names, with its account, when the token is that link's.
    func deletion(id: UUID, tokenHash: Data, now: Date) async throws -> (deletion: PendingDeletion, accountID: UUID)?
    /// Confirms a deletion from its link: it then happens at `executesAt`. `nil` when the link is wrong,
    /// lapsed, or the deletion was confirmed, cancelled or done already.
    func confirmDeletion(id: UUID, tokenHash: Data, now: Date, executesAt: Date, event: AccountEvent) async throws
        -> PendingDeletion?
    /// Cancels a deletion that has not happened; `false` when there is none by that id.
    func cancelDeletion(accountID: UUID, id: UUID, now: Date, event: AccountEvent) async throws -> Bool
    /// Carries out every confirmed deletion whose wait is over, and lets unconfirmed ones lapse;
    /// returns how many were carried out.
    func executeDueDeletions(now: Date) async throws -> Int
}
