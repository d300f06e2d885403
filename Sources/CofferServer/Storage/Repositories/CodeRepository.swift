public import CofferAPI
public import Foundation

/// One-time codes sent by e-mail, stored as keyed hashes.
public protocol CodeRepository: Sendable {
    /// Remembers a one-time code (hashed) until `expiresAt`, and posts the `mail` carrying it (if it
    /// is mailed) in the same transaction.
    func addEmailCode(hash: Data, accountID: UUID, purpose: String, expiresAt: Date, mail: OutboxMail?) async throws
    /// Deletes e-mail codes and links that expired before `cutoff` (stand-in codes for unknown
    /// addresses among them); returns how many.
    func deleteExpiredEmailCodes(before cutoff: Date) async throws -> Int
    /// Checks a code, counting wrong ones against every live code of that purpose and cancelling them
    /// all at `allowedFailures`; `consume` uses it up.
    func checkEmailCode(
        hash: Data, accountID: UUID, purpose: String, now: Date, consume: Bool, allowedFailures: Int
    ) async throws -> EmailCodeCheck
}

/// The outcome of checking a one-time code.
public enum EmailCodeCheck: Sendable, Equatable {
    /// Known, unused, unexpired.
    case valid
    /// Wrong, used or expired.
    case invalid
    /// Too many wrong attempts: every live code of that purpose was cancelled.
    case exhausted
}

/// A one-time code (or link token) that a change uses up in its own transaction: the change and the
/// code's use are one, so neither a crash between them nor two requests racing with one code can
/// make a code authorise two changes, or a change happen with its code left usable.
public struct CodeUse: Sendable {
    /// The code's keyed hash.
    public var hash: Data
    /// What it was issued for.
    public var purpose: String
    /// The time to judge expiry by.
    public var now: Date
    /// Wrong tries after which the code no longer works.
    public var allowedFailures: Int
}

/// The code of a ``CodeUse`` was used, cancelled or expired before the change could take it;
/// nothing was changed.
public struct CodeNoLongerValid: Error {}
