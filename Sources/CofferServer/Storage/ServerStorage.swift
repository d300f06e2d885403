public import CofferAPI
public import Foundation

/// Everything the server persists, behind one protocol so SQLite (the default) and PostgreSQL
/// (for deployments that outgrow one machine) are interchangeable. Implementations see only
/// opaque payloads: wrapped keys, sealed records, verifiers and token hashes.
public protocol ServerStorage: Sendable {
    /// Creates or upgrades the schema (versioned, append-only migrations).
    func migrate() async throws
    /// Throws when the database cannot answer; backs `/health/ready`.
    func checkReadiness() async throws
    /// Background upkeep the storage needs while the server runs (SQLite: moving the write-ahead log
    /// into the database file); returns when the task is cancelled.
    func runMaintenance() async
    /// Runs `body` while the storage's connections are up: every use of the storage happens inside
    /// it (PostgreSQL's connection pool runs beside `body` and closes after it).
    func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T

    /// Creates an account; returns `false` if the e-mail address is taken.
    func createAccount(_ account: StoredAccount) async throws -> Bool
    /// The account with this (lowercased) address.
    func account(email: String) async throws -> StoredAccount?
    /// The account with this id.
    func account(id: UUID) async throws -> StoredAccount?

    /// Remembers an e-mail verification token (hashed) until `expiresAt`, and posts the `mail`
    /// carrying it in the same transaction.
    func addVerificationToken(hash: Data, accountID: UUID, expiresAt: Date, mail: OutboxMail) async throws
    /// The account of a known, unused, unexpired verification token; when `consume`, the token is
    /// used up and the address marked confirmed in the same transaction.
    func verificationToken(hash: Data, now: Date, consume: Bool) async throws -> UUID?

    /// Records a sign-in: creates or renames the device and sets its refresh token hash.
    /// Returns whether the device is new to the account.
    func signIn(accountID: UUID, device: DeviceInfo, refreshHash: Data, now: Date) async throws -> Bool
    /// Stores an access token hash.
    func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws
    /// The session an unexpired access token belongs to.
    func session(accessHash: Data, now: Date) async throws -> AuthenticatedSession?
    /// Exchanges a refresh token for a new pending one and an access token, in one transaction.
    ///
    /// The presented token stays valid until its successor is used, so a device that never received
    /// the successor can try again; a token older than that (used before its successor was) is a
    /// replay, and signs the device out. A device that has not refreshed since `unusedSince` is
    /// signed out instead (``RefreshOutcome/expiredUnused``).
    func refresh(
        presentedHash: Data, successorHash: Data, access: NewAccessToken, now: Date, unusedSince: Date
    ) async throws -> RefreshOutcome
    /// Signs out the device holding this refresh token (current or pending); returns it.
    func signOut(refreshHash: Data) async throws -> (accountID: UUID, deviceID: UUID)?
    /// Deletes access tokens that expired before `cutoff`; returns how many.
    func deleteExpiredAccessTokens(before cutoff: Date) async throws -> Int
    /// Signs a device out: its refresh and access tokens stop working.
    func revokeDevice(accountID: UUID, deviceID: UUID) async throws -> Bool
    /// The account's signed-in devices.
    func devices(accountID: UUID) async throws -> [StoredDevice]

    /// The records written after `cursor` (at most `limit`) and the manifest of the account whose
    /// unexpired access token hashes to `accessHash`, read in one transaction — a device's most frequent
    /// request is one database round trip. `nil` when the token is unknown, expired or revoked.
    func pull(accessHash: Data, now: Date, after cursor: Int64, limit: Int) async throws -> SyncPage?
    /// Applies the changes `rule` accepts, in one transaction; reports the others as conflicts.
    func push(accountID: UUID, changes: [PushChange], rule: PushRule, now: Date) async throws -> PushResult
    /// Records that the operator restored the server from a backup: every account gets an event and
    /// its pulls say so from now on, so devices put back what the backup lacked. Returns the number of
    /// accounts.
    func recordRestore(at now: Date) async throws -> Int
    /// When a restore was last recorded, if ever.
    func lastRestore() async throws -> Date?
    /// Replaces the manifest only if its counter is still `expectedCounter` and it covers at least the
    /// writes the current one covers and no write the server never made.
    func updateManifest(accountID: UUID, expectedCounter: Int64, manifest: WireManifest) async throws
        -> ManifestUpdateOutcome

    // MARK: Account lifecycle (each method is one transaction, so a crash leaves before or after)

    /// Swaps the password keys of `epoch` and signs out every device but `keepDevice` with `reason`;
    /// `false` when the account is at another epoch or waits for keys after a reset.
    func replacePasswordKeys(
        accountID: UUID, epoch: UInt32, keys: StoredPasswordKeys, keepDevice: UUID?, reason: RevocationReason,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool
    /// Swaps the recovery keys of `epoch`; `false` when the account is at another epoch.
    func replaceRecoveryKeys(accountID: UUID, epoch: UInt32, keys: StoredRecoveryKeys, event: AccountEvent)
        async throws -> Bool
    /// Remembers a one-time code (hashed) until `expiresAt`, and posts the `mail` carrying it (if it
    /// is mailed) in the same transaction.
    func addEmailCode(hash: Data, accountID: UUID, purpose: String, expiresAt: Date, mail: OutboxMail?) async throws
    /// Deletes e-mail codes and links that expired before `cutoff` (stand-in codes for unknown
    /// addresses among them); returns how many.
    func deleteExpiredEmailCodes(before cutoff: Date) async throws -> Int
    /// Checks a code, counting wrong ones against every live code of that purpose; `consume` uses it up.
    func checkEmailCode(hash: Data, accountID: UUID, purpose: String, now: Date, consume: Bool) async throws
        -> EmailCodeCheck
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

    // MARK: Delayed deletions of safety nets

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

    // MARK: Backups kept for new devices (opaque, sealed by the client)

    /// Stores a backup from its bytes as they arrive, a bounded chunk at a time; nothing is listed
    /// until the last chunk is in. Nothing is ever evicted to make room: over `quota` backups, the
    /// upload is refused before a byte is stored.
    func storeBackup(
        accountID: UUID, id: UUID, epoch: UInt32, now: Date, quota: Int, chunks: AsyncThrowingStream<Data, any Error>
    ) async throws -> BackupStoreOutcome
    /// The account's stored backups, newest first.
    func backups(accountID: UUID) async throws -> [ServerBackup]
    /// How many chunks one stored backup has; `nil` when there is no such backup.
    func backupChunkCount(accountID: UUID, id: UUID) async throws -> Int?
    /// One chunk of a stored backup, in order from 0.
    func backupChunk(accountID: UUID, id: UUID, index: Int) async throws -> Data?

    // MARK: What several server processes share

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

    // MARK: The mail outbox

    /// Posts a message that carries no code (a notice).
    func postMail(_ mail: OutboxMail) async throws
    /// Leases up to `limit` deliverable messages that are due at `now` for `lease` seconds (counting
    /// an attempt for each), oldest first; deletes stand-ins, and messages whose code lapsed.
    func claimMail(now: Date, lease: TimeInterval, limit: Int) async throws -> OutboxClaim
    /// Deletes a delivered (or undeliverable) message.
    func finishMail(id: UUID) async throws
    /// Makes a message whose delivery failed due again at `time`.
    func retryMail(id: UUID, at time: Date) async throws

    /// Appends an account event.
    func recordEvent(accountID: UUID, event: AccountEvent) async throws
    /// The account's events, newest first.
    func events(accountID: UUID, limit: Int) async throws -> [AccountEvent]
}

/// An account as stored: nothing here opens the vault.
public struct StoredAccount: Sendable, Equatable {
    /// The account.
    public var id: UUID
    /// Lowercased address.
    public var email: String
    /// Whether the address was confirmed.
    public var emailVerified: Bool
    /// The key epoch.
    public var epoch: UInt32
    /// Argon2id parameters.
    public var kdf: WireKDF
    /// The salt.
    public var salt: Data
    /// SHA-256 of the auth key.
    public var authVerifier: Data
    /// SHA-256 of the recovery auth key.
    public var recoveryVerifier: Data
    /// Ciphertext.
    public var passwordWrappedKey: Data
    /// Ciphertext.
    public var recoveryWrappedKey: Data
    /// When it was created.
    public var createdAt: Date
    /// Reset, and waiting for a client to set the new epoch's keys.
    public var awaitingKeys = false
    /// When the last reset happened.
    public var resetAt: Date?
    /// From which client address.
    public var resetFrom: String?

    /// Creates an account value.
    public init(
        id: UUID, email: String, emailVerified: Bool, epoch: UInt32, kdf: WireKDF, salt: Data, authVerifier: Data,
        recoveryVerifier: Data, passwordWrappedKey: Data, recoveryWrappedKey: Data, createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.emailVerified = emailVerified
        self.epoch = epoch
        self.kdf = kdf
        self.salt = salt
        self.authVerifier = authVerifier
        self.recoveryVerifier = recoveryVerifier
        self.passwordWrappedKey = passwordWrappedKey
        self.recoveryWrappedKey = recoveryWrappedKey
        self.createdAt = createdAt
    }
}

/// A device as stored.
public struct StoredDevice: Sendable, Equatable {
    /// The device.
    public var id: UUID
    /// Its name.
    public var name: String
    /// First sign-in.
    public var createdAt: Date
    /// Last request.
    public var lastSeenAt: Date
}

/// The outcome of a manifest update.
public enum ManifestUpdateOutcome: Sendable, Equatable {
    /// Stored.
    case updated
    /// Another device published first: the counter is no longer the one expected.
    case counterMoved(current: Int64)
    /// The manifest claims to cover writes the server never made, or fewer than the current one.
    case sequenceOutOfRange(lastSequence: Int64, publishedSequence: Int64)
}

/// An access token to store with a refresh: its hash and expiry.
public struct NewAccessToken: Sendable {
    /// SHA-256 of the token.
    public var hash: Data
    /// When it stops working.
    public var expiresAt: Date

    /// Creates a value.
    public init(hash: Data, expiresAt: Date) {
        self.hash = hash
        self.expiresAt = expiresAt
    }
}

/// What happened to a refresh token.
public enum RefreshOutcome: Sendable, Equatable {
    /// Swapped; the session continues.
    case rotated(accountID: UUID, deviceID: UUID)
    /// An already used token came back: someone copied it. The device is signed out.
    case replayed(accountID: UUID, deviceID: UUID)
    /// The device was signed out by an account change; the client is told which.
    case revoked(accountID: UUID, reason: RevocationReason)
    /// The device had not refreshed since before the cutoff: a sign-in left unused that long (a lost
    /// or forgotten device) ends, and the device was signed out.
    case expiredUnused
    /// Not a token this server issued (or the device was revoked).
    case unknown
}

/// Why an account change signed a device out, so the device can say what to do next.
public enum RevocationReason: String, Sendable {
    /// The password changed elsewhere: sign in with the new one, local data stays.
    case passwordChanged = "password-changed"
    /// The password was reset with the recovery code.
    case recovered
    /// The account was reset: a new key epoch, the old data quarantined.
    case accountReset = "account-reset"
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

/// The outcome of checking a one-time code.
public enum EmailCodeCheck: Sendable, Equatable {
    /// Known, unused, unexpired.
    case valid
    /// Wrong, used or expired.
    case invalid
    /// Too many wrong attempts: every live code of that purpose was cancelled.
    case exhausted
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

/// What became of a backup upload.
public enum BackupStoreOutcome: Sendable, Equatable {
    /// It is stored and listed.
    case stored
    /// A backup with that id was already stored; it stays as it was.
    case alreadyStored
    /// The account keeps `quota` backups already; nothing was stored.
    case overQuota(quota: Int)
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
}

/// The code of a ``CodeUse`` was used, cancelled or expired before the change could take it;
/// nothing was changed.
public struct CodeNoLongerValid: Error {}

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

/// The database was migrated by a newer coffer-server than this one.
public struct SchemaTooNew: Error, CustomStringConvertible {
    /// What to do about it.
    public var description: String {
        "This database was upgraded by a newer coffer-server. Start that version, or restore the backup made before the upgrade (docs/operations.md, \"Upgrading the server\")."
    }
}

/// Which pushed changes a server stores.
public enum PushRule: Sendable {
    /// The normal rule: a change is stored only on top of the revision it was made from, so two
    /// devices never overwrite each other unseen.
    case onTopOfBase
    /// A device putting back versions a restored server lost: a change is stored when its revision
    /// is above the item's current one (the device held it before the restore; nothing newer is lost).
    case aboveCurrent
}
