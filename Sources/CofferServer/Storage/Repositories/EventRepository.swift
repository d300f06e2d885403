public import CofferAPI
public import Foundation

/// The account's activity log, which its owner reads.
public protocol EventRepository: Sendable {
    /// Appends an account event.
    func recordEvent(accountID: UUID, event: AccountEvent) async throws
    /// The account's events, newest first.
    func events(accountID: UUID, limit: Int) async throws -> [AccountEvent]
}
