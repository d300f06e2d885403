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

    /// Creates an account; returns `false` if the e-mail address is taken.
    func createAccount(_ account: StoredAccount) async throws -> Bool
    /// The account with this (lowercased) address.
    func account(email: String) async throws -> StoredAccount?
    /// The account with this id.
    func account(id: UUID) async throws -> StoredAccount?

    /// Remembers an e-mail verification token (hashed) until `expiresAt`.
    func addVerificationToken(hash: Data, accountID: UUID, expiresAt: Date) async throws
    /// Marks the address verified if the token is known, unused and unexpired; returns the account.
    func useVerificationToken(hash: Data, now: Date) async throws -> UUID?

    /// Records a sign-in: creates or renames the device and sets its refresh token hash.
    /// Returns whether the device is new to the account.
    func signIn(accountID: UUID, device: DeviceInfo, refreshHash: Data, now: Date) async throws -> Bool
    /// Stores an access token hash.
    func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws
    /// The session an unexpired access token belongs to.
    func session(accessHash: Data, now: Date) async throws -> AuthenticatedSession?
    /// Swaps a refresh token for a new one, detecting replays of an already used one.
    func rotateRefreshToken(oldHash: Data, newHash: Data, now: Date) async throws -> RefreshOutcome
    /// Signs a device out: its refresh and access tokens stop working.
    func revokeDevice(accountID: UUID, deviceID: UUID) async throws -> Bool
    /// The account's signed-in devices.
    func devices(accountID: UUID) async throws -> [StoredDevice]

    /// Records written after `cursor`, at most `limit`.
    func pull(accountID: UUID, after cursor: Int64, limit: Int) async throws -> PullResponse
    /// Applies changes whose base revision is current, in one transaction; reports the others.
    func push(accountID: UUID, changes: [PushChange], now: Date) async throws -> PushResponse
    /// The stored manifest.
    func manifest(accountID: UUID) async throws -> WireManifest?
    /// Replaces the manifest only if its counter is `expectedCounter`; returns the current one otherwise.
    func updateManifest(accountID: UUID, expectedCounter: Int64, manifest: WireManifest) async throws -> WireManifest?

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

/// What happened to a refresh token.
public enum RefreshOutcome: Sendable, Equatable {
    /// Swapped; the session continues.
    case rotated(accountID: UUID, deviceID: UUID)
    /// An already used token came back: someone copied it. The device is signed out.
    case replayed(accountID: UUID, deviceID: UUID)
    /// Not a token this server issued (or the device was revoked).
    case unknown
}
