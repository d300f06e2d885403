public import CofferAPI
public import Foundation

/// Accounts and the confirmation of their e-mail address.
public protocol AccountRepository: Sendable {
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
