public import CofferAPI
public import Foundation

/// What several server processes on one database share: the secret's fingerprint, attempt counts, the janitor's lease and change announcements.
public protocol CoordinationRepository: Sendable {
    /// Records `fingerprint` as the server secret's when none is recorded; returns whether the
    /// recorded one is `fingerprint` (a process with another secret must not serve).
    func adoptSecretFingerprint(_ fingerprint: Data) async throws -> Bool
    /// Counts one attempt under `key` in a fixed window of `window` seconds; returns the attempts in
    /// the current window and when it started.
    func countAttempt(key: Data, window: TimeInterval, now: Date) async throws -> (count: Int, windowStart: Date)
    /// Deletes attempt windows that started before `cutoff`; returns how many.
    func deleteAttemptWindows(before cutoff: Date) async throws -> Int
    /// Takes or renews the janitor's lease for `holder` until `until`; `false` while another holder's
    /// lease runs.
    func takeJanitorLease(holder: String, now: Date, until: Date) async throws -> Bool
    /// Tells every server process on this database that `accountID` changed up to `sequence`.
    func announceChange(accountID: UUID, sequence: Int64) async throws
    /// Hands every change announced on this database to `deliver`, until cancelled.
    func receiveChanges(_ deliver: @escaping @Sendable (UUID, Int64) async -> Void) async
}
