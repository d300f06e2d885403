public import CofferAPI
public import Foundation

/// What the support console may read of an account: its history and the sizes of what it stores.
///
/// The type has no field for a wrapped key, a verifier, a salt, a token, a code or a ciphertext, so
/// no rendering of it can leak one: support learns what happened, never anything that opens data.
public struct AccountDossier: Codable, Sendable {
    /// The account's address (lowercased).
    public var email: String
    /// The account's id.
    public var id: UUID
    /// When it was registered.
    public var createdAt: Date
    /// Whether the address was confirmed (codes for recovery and reset go only to a confirmed one).
    public var emailConfirmed: Bool
    /// The key epoch in force; each reset starts a new one.
    public var epoch: UInt32
    /// Reset and waiting for a device to set the new password.
    public var awaitingNewPassword: Bool
    /// When the operator last restored the server from a backup, if ever.
    public var serverRestoredAt: Date?
    /// Every device that ever signed in, newest activity first.
    public var devices: [Device]
    /// What the account stores now and in each quarantined epoch.
    public var storage: [EpochStorage]
    /// When the last change reached the server.
    public var lastChangeAt: Date?
    /// Resets, newest first.
    public var resets: [Reset]
    /// Quarantined data from before resets, newest first.
    public var quarantines: [Quarantine]
    /// Backups kept on the server, newest first.
    public var backups: [ServerBackup]
    /// Deletions asked for and not yet carried out or ended.
    public var pendingDeletions: [PendingDeletion]
    /// How close the account is to its guessing limits.
    public var limits: Limits
    /// The account's events, newest first.
    public var events: [AccountEvent]

    /// A device as support sees it.
    public struct Device: Codable, Sendable {
        /// The name the user gave it (`user@host` by default).
        public var name: String
        /// First sign-in.
        public var firstSeenAt: Date
        /// Last request.
        public var lastSeenAt: Date
        /// Why it was signed out, or `nil` while signed in.
        public var signedOut: SignOut?
    }

    /// Why a device no longer syncs.
    public enum SignOut: String, Codable, Sendable {
        /// The master password changed on another device.
        case passwordChanged = "password-changed"
        /// The password was reset with the recovery code.
        case recovered
        /// The account was reset.
        case accountReset = "account-reset"
        /// Signed out by the user, revoked from another device, or unused for too long.
        case signedOut = "signed-out"
    }

    /// Items stored for one epoch.
    public struct EpochStorage: Codable, Sendable {
        /// The key epoch.
        public var epoch: UInt32
        /// Where the records are.
        public var place: Place
        /// Items (not counting deletions kept so other devices learn of them).
        public var items: Int
        /// Deletions kept as tombstones.
        public var deletions: Int
        /// Bytes of ciphertext.
        public var ciphertextBytes: Int64
    }

    /// Where an epoch's records are.
    public enum Place: String, Codable, Sendable {
        /// In use: devices of the current epoch sync them.
        case current
        /// Kept after a reset, released only to proof of that epoch's password or recovery code.
        case quarantine
    }

    /// One reset of the account.
    public struct Reset: Codable, Sendable {
        /// When.
        public var at: Date
        /// The client address it came from.
        public var from: String?
        /// `web portal`, or the name of the device the reset ran on.
        public var through: String?
    }

    /// A quarantined epoch.
    public struct Quarantine: Codable, Sendable {
        /// The epoch from before the reset.
        public var epoch: UInt32
        /// When the reset happened.
        public var resetAt: Date
        /// When the data is deleted unless extended.
        public var expiresAt: Date
        /// When it was deleted, or `nil` while it can still be recovered.
        public var purgedAt: Date?
        /// Items it holds (deletions not counted).
        public var items: Int
        /// Whether the old password's and recovery code's proofs are kept (quarantines made before
        /// the server kept them can be opened by any signed-in device).
        public var needsOldSecret: Bool
    }

    /// Guessing limits as they stand.
    public struct Limits: Codable, Sendable {
        /// Wrong old passwords or recovery codes tried against the quarantine in the last hour.
        public var wrongOldSecretsLastHour: Int
        /// How many are allowed per hour before even the right one waits.
        public var oldSecretsAllowedPerHour: Int
        /// E-mail codes and links still valid.
        public var liveEmailCodes: Int
        /// Wrong codes typed against them.
        public var wrongEmailCodes: Int
    }
}

/// One line of the account search.
public struct AccountListing: Codable, Sendable {
    /// The address.
    public var email: String
    /// When it was registered.
    public var createdAt: Date
    /// Whether the address was confirmed.
    public var emailConfirmed: Bool
    /// Signed-in devices.
    public var devices: Int
    /// The last time any device was seen.
    public var lastSeenAt: Date?
}

/// The deployment in numbers, for capacity and for spotting a wave of resets.
public struct ServerStatistics: Codable, Sendable {
    /// Accounts.
    public var accounts: Int
    /// Accounts whose address is confirmed.
    public var confirmedAccounts: Int
    /// Devices signed in.
    public var devices: Int
    /// Ciphertext stored: records, quarantines and backups.
    public var storedBytes: Int64
    /// Since when the counts below go.
    public var since: Date
    /// Accounts registered in that time.
    public var registrations: Int
    /// Resets in that time.
    public var resets: Int
    /// Passwords set again with a recovery code in that time.
    public var recoveries: Int
    /// Quarantines opened to bring old data back in that time.
    public var quarantineRecoveries: Int
    /// Master password changes in that time.
    public var passwordChanges: Int
}

/// The support console's own queries; everything else it shows comes from ``ServerStorage``.
public protocol SupportStorage: Sendable {
    /// Every device that ever signed in to the account, signed out ones included.
    func deviceHistory(accountID: UUID) async throws -> [AccountDossier.Device]
    /// Item counts and ciphertext sizes per epoch, and when the last change arrived.
    func storedItems(accountID: UUID) async throws -> (epochs: [AccountDossier.EpochStorage], lastChangeAt: Date?)
    /// The quarantined epochs that keep their old secrets' proofs.
    func quarantinesNeedingOldSecret(accountID: UUID) async throws -> Set<UInt32>
    /// Wrong old-secret proofs since `since`, live e-mail codes at `now` and wrong codes typed against them.
    func guessing(accountID: UUID, since: Date, now: Date) async throws -> (
        wrongOldSecrets: Int, liveEmailCodes: Int, wrongEmailCodes: Int
    )
    /// Accounts whose address contains `fragment` (all when empty), oldest first, one page.
    func accounts(containing fragment: String, offset: Int, limit: Int) async throws -> [AccountListing]
    /// Counts for the whole deployment; the time-bound ones since `since`.
    func statistics(since: Date) async throws -> ServerStatistics
    /// Moves the expiry of every quarantine of the account that still holds data `days` days later
    /// and records `event`; returns the new expiries (empty, and nothing changed, when none held data).
    func extendQuarantines(accountID: UUID, days: Int, event: AccountEvent) async throws -> [Date]
}
