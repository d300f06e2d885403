public import CofferAPI
public import Foundation

/// Password and recovery keys, resets and the quarantine of an old key epoch. Each method is one transaction, so a crash leaves before or after.
public protocol KeyLifecycleRepository: Sendable {
    /// Swaps the password keys of `epoch` and signs out every device but `keepDevice` with `reason`;
    /// `false` when the account is at another epoch or waits for keys after a reset.
    func replacePasswordKeys(
        accountID: UUID, epoch: UInt32, keys: StoredPasswordKeys, keepDevice: UUID?, reason: RevocationReason,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool
    /// Swaps the recovery keys of `epoch`; `false` when the account is at another epoch.
    func replaceRecoveryKeys(accountID: UUID, epoch: UInt32, keys: StoredRecoveryKeys, event: AccountEvent)
        async throws -> Bool
    /// Quarantines the current epoch (keys, manifest, records), starts the next one waiting for keys
    /// and signs every device out; returns the new epoch.
    func resetAccount(
        accountID: UUID, now: Date, from address: String?, quarantineUntil: Date, using code: CodeUse?,
        event: AccountEvent
    )
        async throws -> UInt32
    /// Installs the first keys of a reset account's new epoch; `false` unless it waits for keys at `epoch`.
    func installKeysAfterReset(
        accountID: UUID, epoch: UInt32, password: StoredPasswordKeys, recovery: StoredRecoveryKeys,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool
    /// Every quarantine of the account, purged ones included (so a client can say when they went).
    func quarantines(accountID: UUID) async throws -> [QuarantineSummary]
    /// Releases a quarantined epoch to a proof of its old password or recovery code, in one
    /// transaction: refused without checking once `budget` failed proofs fall in its window, and a
    /// failed proof is counted and recorded as `refused`, a release as `released`.
    func openQuarantine(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        released: AccountEvent, refused: AccountEvent
    ) async throws -> QuarantineOpening
    /// Checks a proof of epoch `epoch`'s password or recovery code against the verifiers the reset
    /// kept (also after the quarantine's data was purged, for that epoch's backups), counting a wrong
    /// one against `budget` and recording `refused`; `proven` is recorded on success.
    func proveOldSecret(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        proven: AccountEvent, refused: AccountEvent
    ) async throws -> OldSecretCheck
    /// Deletes every quarantine past its expiry, recording an event for each; returns how many.
    func purgeExpiredQuarantines(now: Date) async throws -> Int
}

/// A new password's keys as stored: a verifier, never the auth key.
public struct StoredPasswordKeys: Sendable, Equatable {
    /// Argon2id parameters.
    public var kdf: WireKDF
    /// The salt.
    public var salt: Data
    /// SHA-256 of the auth key.
    public var authVerifier: Data
    /// Ciphertext.
    public var passwordWrappedKey: Data
}

/// A new recovery code's keys as stored.
public struct StoredRecoveryKeys: Sendable, Equatable {
    /// SHA-256 of the recovery auth key.
    public var recoveryVerifier: Data
    /// Ciphertext.
    public var recoveryWrappedKey: Data
}

/// How many wrong proofs of an old secret an account allows in a sliding window: enough for a person
/// trying the passwords they might have used, far too few for an offline-style guessing run.
public struct GuessBudget: Sendable {
    /// Wrong proofs allowed in one window.
    public var limit: Int
    /// The window's length.
    public var window: TimeInterval

    /// 10 per hour.
    public static let standard = GuessBudget(limit: 10, window: 3600)
}

/// The outcome of a request for a quarantined epoch.
public enum QuarantineOpening: Sendable {
    /// The proof matched: the old key wrapped by that secret, with the records.
    case released(QuarantineRelease)
    /// The proof did not match; `remaining` more may be tried in this window.
    case wrongSecret(remaining: Int)
    /// Too many wrong proofs lately; the next is accepted after `retryAfter` seconds.
    case tooManyGuesses(retryAfter: Int)
    /// There is no quarantine for that epoch.
    case missing
    /// It was deleted; the summary says when.
    case purged(QuarantineSummary)
}

/// The outcome of a proof of a secret from before a reset.
public enum OldSecretCheck: Sendable, Equatable {
    /// It matched.
    case proven
    /// It did not; `remaining` more may be tried in this window.
    case wrongSecret(remaining: Int)
    /// Too many wrong proofs lately; the next is accepted after `retryAfter` seconds.
    case tooManyGuesses(retryAfter: Int)
    /// The server kept no verifiers for that epoch.
    case unknownEpoch
}
