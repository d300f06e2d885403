public import Foundation

// The JSON bodies of the Coffer HTTP API, shared by the server and the client.
// `docs/openapi.yaml` is their description; a test checks that every route matches it.
// Byte strings are standard base64 (Foundation's `Data` coding).

/// Argon2id parameters as they travel; the client validates them before use.
public struct WireKDF: Codable, Sendable, Equatable {
    /// Memory in KiB.
    public var memoryKiB: UInt32
    /// Passes.
    public var iterations: UInt32
    /// Lanes.
    public var parallelism: UInt32

    /// Creates parameters.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }
}

/// `POST /api/v1/prelogin`.
public struct PreloginRequest: Codable, Sendable {
    /// The account's e-mail address.
    public var email: String
    /// Creates a request.
    public init(email: String) { self.email = email }
}

/// What a client needs to derive the master key. Unknown addresses get stable fake values.
public struct PreloginResponse: Codable, Sendable, Equatable {
    /// Argon2id parameters.
    public var kdf: WireKDF
    /// The account's salt.
    public var salt: Data
    /// Creates a response.
    public init(kdf: WireKDF, salt: Data) {
        self.kdf = kdf
        self.salt = salt
    }
}

/// The device making a request, named by the user.
public struct DeviceInfo: Codable, Sendable, Equatable {
    /// Chosen by the device when it first signs in, and kept.
    public var id: UUID
    /// Shown in device lists and account events, e.g. "alice-laptop".
    public var name: String
    /// Creates a device description.
    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

/// `POST /api/v1/register`: a new account with its keys already wrapped by the client.
public struct RegisterRequest: Codable, Sendable {
    /// The account's e-mail address.
    public var email: String
    /// Chosen by the client; bound into every ciphertext.
    public var accountID: UUID
    /// Argon2id parameters.
    public var kdf: WireKDF
    /// 16 random bytes.
    public var salt: Data
    /// HKDF(master key, "coffer/v1/auth"); the server stores only its SHA-256.
    public var authKey: Data
    /// HKDF(recovery code, "coffer/v1/recovery-auth"); the server stores only its SHA-256.
    public var recoveryAuthKey: Data
    /// The account key wrapped by the password.
    public var passwordWrappedKey: Data
    /// The account key wrapped by the recovery code.
    public var recoveryWrappedKey: Data
    /// The registering device.
    public var device: DeviceInfo

    /// Creates a request.
    public init(
        email: String, accountID: UUID, kdf: WireKDF, salt: Data, authKey: Data, recoveryAuthKey: Data,
        passwordWrappedKey: Data, recoveryWrappedKey: Data, device: DeviceInfo
    ) {
        self.email = email
        self.accountID = accountID
        self.kdf = kdf
        self.salt = salt
        self.authKey = authKey
        self.recoveryAuthKey = recoveryAuthKey
        self.passwordWrappedKey = passwordWrappedKey
        self.recoveryWrappedKey = recoveryWrappedKey
        self.device = device
    }
}

/// `POST /api/v1/login`.
public struct LoginRequest: Codable, Sendable {
    /// The account's e-mail address.
    public var email: String
    /// HKDF(master key, "coffer/v1/auth").
    public var authKey: Data
    /// The device signing in.
    public var device: DeviceInfo
    /// Creates a request.
    public init(email: String, authKey: Data, device: DeviceInfo) {
        self.email = email
        self.authKey = authKey
        self.device = device
    }
}

/// Tokens for a signed-in device.
public struct SessionResponse: Codable, Sendable {
    /// The account.
    public var accountID: UUID
    /// Sent as `Authorization: Bearer …`; short-lived.
    public var accessToken: String
    /// Seconds until the access token expires.
    public var expiresIn: Int
    /// Exchanged for new tokens at `/api/v1/token/refresh`; single use, per device.
    public var refreshToken: String
    /// Creates a response.
    public init(accountID: UUID, accessToken: String, expiresIn: Int, refreshToken: String) {
        self.accountID = accountID
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
    }
}

/// `POST /api/v1/token/refresh` and `/api/v1/logout`.
public struct RefreshRequest: Codable, Sendable {
    /// The current refresh token.
    public var refreshToken: String
    /// Creates a request.
    public init(refreshToken: String) { self.refreshToken = refreshToken }
}

/// `GET /api/v1/account`: what a signed-in device needs to open the vault.
public struct AccountState: Codable, Sendable, Equatable {
    /// The account.
    public var accountID: UUID
    /// Its e-mail address.
    public var email: String
    /// Whether the address was confirmed through the mailed link.
    public var emailVerified: Bool
    /// The key epoch.
    public var epoch: UInt32
    /// Argon2id parameters.
    public var kdf: WireKDF
    /// The salt.
    public var salt: Data
    /// The account key wrapped by the password.
    public var passwordWrappedKey: Data
    /// The account key wrapped by the recovery code.
    public var recoveryWrappedKey: Data

    /// Creates a state.
    public init(
        accountID: UUID, email: String, emailVerified: Bool, epoch: UInt32, kdf: WireKDF, salt: Data,
        passwordWrappedKey: Data, recoveryWrappedKey: Data
    ) {
        self.accountID = accountID
        self.email = email
        self.emailVerified = emailVerified
        self.epoch = epoch
        self.kdf = kdf
        self.salt = salt
        self.passwordWrappedKey = passwordWrappedKey
        self.recoveryWrappedKey = recoveryWrappedKey
    }
}

/// One sealed item as the server stores it: ids and counters in clear, the rest opaque.
public struct WireRecord: Codable, Sendable, Equatable {
    /// The item.
    public var id: UUID
    /// Its revision.
    public var revision: Int64
    /// The per-account sequence number of the write that produced this revision.
    public var sequence: Int64
    /// A tombstone: the item was purged; `content` is then the sealed tombstone and `wrappedKey` is absent.
    public var isDeleted: Bool
    /// The item key wrapped by the account key.
    public var wrappedKey: Data?
    /// The sealed content, or for a tombstone the sealed proof that a device of the account purged it.
    public var content: Data?

    /// Creates a record.
    public init(id: UUID, revision: Int64, sequence: Int64, isDeleted: Bool, wrappedKey: Data?, content: Data?) {
        self.id = id
        self.revision = revision
        self.sequence = sequence
        self.isDeleted = isDeleted
        self.wrappedKey = wrappedKey
        self.content = content
    }
}

/// `GET /api/v2/sync?after=CURSOR`: one page of writes after the cursor, and the manifest the
/// server holds, read in the same transaction.
public struct SyncPage: Codable, Sendable {
    /// The largest number of records a page carries.
    public static let maximumRecords = 1000

    /// Records written after the cursor, in sequence order, each at most once.
    public var records: [WireRecord]
    /// Pass as `after` next time: the sequence of the last record on this page.
    public var cursor: Int64
    /// More records wait; pull again.
    public var hasMore: Bool
    /// The latest published manifest, `nil` before the first. Devices verify it; the server cannot.
    public var manifest: WireManifest?
    /// When the operator last recorded a restore of the server from a backup (`coffer-server
    /// record-restore`); `nil` if never. A device that synced before it heals the server's lost writes.
    public var restoredAt: Date?

    /// Creates a page.
    public init(records: [WireRecord], cursor: Int64, hasMore: Bool, manifest: WireManifest?, restoredAt: Date? = nil) {
        self.records = records
        self.cursor = cursor
        self.hasMore = hasMore
        self.manifest = manifest
        self.restoredAt = restoredAt
    }
}

/// One change a client pushes: the next revision of an item, made from the revision it last saw.
public struct PushChange: Codable, Sendable, Equatable {
    /// The largest sealed box (content or wrapped key) the server keeps for one item: 4 MiB. Clients
    /// hold back a larger item instead of failing the whole push with it.
    public static let maximumBoxBytes = 4 * 1_048_576
    /// The largest revision a change may be based on, far below `Int64.max` so no arithmetic near it
    /// can trap.
    public static let maximumRevision: Int64 = 1 << 52

    /// The item.
    public var id: UUID
    /// The revision this change was made from; 0 for a new item. The change is stored as the next one.
    public var baseRevision: Int64
    /// A tombstone.
    public var isDeleted: Bool
    /// The item key wrapped by the account key; absent for a tombstone.
    public var wrappedKey: Data?
    /// The sealed content, or the sealed tombstone.
    public var content: Data?

    /// The revision the change is stored as. Wrapping arithmetic: a server checks `baseRevision`
    /// against ``maximumRevision`` before it stores anything.
    public var revision: Int64 { baseRevision &+ 1 }

    /// Creates a change.
    public init(id: UUID, baseRevision: Int64, isDeleted: Bool, wrappedKey: Data?, content: Data?) {
        self.id = id
        self.baseRevision = baseRevision
        self.isDeleted = isDeleted
        self.wrappedKey = wrappedKey
        self.content = content
    }
}

/// `POST /api/v2/sync`.
public struct PushRequest: Codable, Sendable {
    /// The largest number of changes one push carries.
    public static let maximumChanges = 1000

    /// The changes, applied in one transaction.
    public var changes: [PushChange]
    /// Versions a restored server lost, put back by a device that held them: each is stored when its
    /// revision is above the server's current one for the item, not only when it is the next one.
    public var restoresLostVersions: Bool?

    /// Creates a request.
    public init(changes: [PushChange], restoresLostVersions: Bool? = nil) {
        self.changes = changes
        self.restoresLostVersions = restoresLostVersions
    }
}

/// A change the server accepted, and the sequence number it got.
public struct AcceptedChange: Codable, Sendable, Equatable {
    /// The item.
    public var id: UUID
    /// The revision stored.
    public var revision: Int64
    /// The write's sequence number.
    public var sequence: Int64

    /// Creates an entry.
    public init(id: UUID, revision: Int64, sequence: Int64) {
        self.id = id
        self.revision = revision
        self.sequence = sequence
    }
}

/// The outcome of a push. Clients treat it as a hint only: what was stored is learned by pulling
/// again and checking it, so a server cannot slip data into a device through this answer.
public struct PushResult: Codable, Sendable {
    /// Accepted changes with the sequence each got.
    public var accepted: [AcceptedChange]
    /// Items whose base revision is no longer current: pull again, merge, push again.
    public var conflicts: [UUID]
    /// Creates a result.
    public init(accepted: [AcceptedChange], conflicts: [UUID]) {
        self.accepted = accepted
        self.conflicts = conflicts
    }
}

/// The vault manifest as the server keeps it: opaque bytes a device MACed, with the two numbers the
/// server needs to order updates. Devices check the numbers against the MACed copies inside the blob.
public struct WireManifest: Codable, Sendable, Equatable {
    /// Only grows.
    public var counter: Int64
    /// The last write sequence the manifest covers.
    public var sequence: Int64
    /// Opaque to the server.
    public var blob: Data
    /// Creates a manifest.
    public init(counter: Int64, sequence: Int64, blob: Data) {
        self.counter = counter
        self.sequence = sequence
        self.blob = blob
    }
}

/// `PUT /api/v2/manifest`: replace the manifest only if the server's counter is still `expectedCounter`.
public struct ManifestUpdate: Codable, Sendable {
    /// The largest manifest blob the server keeps (a protocol-2 manifest is 60 bytes).
    public static let maximumBlobBytes = 4096

    /// The counter the client based its change on.
    public var expectedCounter: Int64
    /// The new manifest.
    public var manifest: WireManifest
    /// Creates an update.
    public init(expectedCounter: Int64, manifest: WireManifest) {
        self.expectedCounter = expectedCounter
        self.manifest = manifest
    }
}

/// A signed-in device, for `GET /api/v1/devices`.
public struct DeviceSummary: Codable, Sendable, Equatable {
    /// The device.
    public var id: UUID
    /// Its name.
    public var name: String
    /// First sign-in.
    public var createdAt: Date
    /// Last request.
    public var lastSeenAt: Date
    /// Whether this is the device asking.
    public var isCurrent: Bool
    /// Creates a summary.
    public init(id: UUID, name: String, createdAt: Date, lastSeenAt: Date, isCurrent: Bool) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.isCurrent = isCurrent
    }
}

/// What happened to an account, for `GET /api/v1/account/events`.
public struct AccountEvent: Codable, Sendable, Equatable {
    /// What happened.
    public var kind: AccountEventKind
    /// When.
    public var at: Date
    /// From which device, when known.
    public var deviceName: String?
    /// From which client address.
    public var clientAddress: String?
    /// Creates an event.
    public init(kind: AccountEventKind, at: Date, deviceName: String?, clientAddress: String?) {
        self.kind = kind
        self.at = at
        self.deviceName = deviceName
        self.clientAddress = clientAddress
    }
}

/// The kinds of account event.
public enum AccountEventKind: String, Codable, Sendable, CaseIterable {
    case register
    case emailVerified = "email-verified"
    case newDevice = "new-device"
    case deviceRevoked = "device-revoked"
    case logout
    case refreshTokenReplayed = "refresh-token-replayed"
    case passwordChanged = "password-changed"
    case recoveryKitRotated = "recovery-kit-rotated"
    case recovery
    case resetRequested = "reset-requested"
    case reset
    case resetCompleted = "reset-completed"
    case quarantineRecovery = "quarantine-recovery"
    case quarantinePurged = "quarantine-purged"
    case quarantineExpired = "quarantine-expired"
    case quarantineGuessFailed = "quarantine-guess-failed"
    case deletionRequested = "deletion-requested"
    case deletionConfirmed = "deletion-confirmed"
    case deletionCancelled = "deletion-cancelled"
    case backupDeleted = "backup-deleted"
    case portalSignIn = "portal-sign-in"
    case serverRestored = "server-restored"
    case supportViewed = "support-viewed"
    case quarantineExtended = "quarantine-extended"

    /// A sentence for people, as `coffer account events` and the portal show it.
    public var description: String {
        switch self {
        case .register: "Account created"
        case .serverRestored:
            "The server was restored from a backup; devices that hold newer data put it back at their next sync"
        case .emailVerified: "E-mail address confirmed"
        case .newDevice: "Signed in from a new device"
        case .deviceRevoked: "A device was signed out"
        case .logout: "A device signed out"
        case .refreshTokenReplayed: "A sign-in was used twice; that device was signed out"
        case .passwordChanged: "Master password changed"
        case .recoveryKitRotated: "New recovery kit made; the previous recovery code stopped working"
        case .recovery: "Password reset with the recovery code"
        case .resetRequested: "Account reset requested"
        case .reset: "Account reset; the previous data was quarantined"
        case .resetCompleted: "New password and keys set after the reset"
        case .quarantineRecovery: "Data from before a reset was downloaded to be recovered"
        case .quarantinePurged: "Quarantined data from before a reset was deleted on request"
        case .quarantineExpired: "Quarantined data from before a reset expired and was deleted"
        case .quarantineGuessFailed:
            "A wrong password or recovery code was tried for the data from before a reset"
        case .deletionRequested:
            "Deletion of quarantined data or a server backup requested; it waits for the mailed link"
        case .deletionConfirmed: "Deletion confirmed by the mailed link; it happens after the waiting period"
        case .deletionCancelled: "A pending deletion was cancelled"
        case .backupDeleted: "A backup kept on the server was deleted on request"
        case .portalSignIn: "Signed in to the account portal"
        case .supportViewed:
            "Support looked at this account's history and sizes (never at your data, which support cannot read)"
        case .quarantineExtended: "Support kept the data from before a reset for longer, at your request"
        }
    }
}

/// Every error body: a stable code for programs and a sentence for people.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// Stable, e.g. `invalid-credentials`.
    public var code: String
    /// What is wrong and what to do.
    public var message: String
    /// Facts a client may act on, e.g. when and from where an account was reset.
    public var details: [String: String]?
    /// Creates a body.
    public init(code: String, message: String, details: [String: String]? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

/// An array decoded without the elements this version cannot read, such as an event of a kind a
/// newer server added: an old client then shows what it knows instead of failing on the whole list.
public struct SkippingUnreadable<Element: Decodable & Sendable>: Decodable, Sendable {
    /// The elements that could be read, in order.
    public var elements: [Element]

    /// Decodes every element that can be read and steps over the others.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var elements: [Element] = []
        while !container.isAtEnd {
            if let element = try? container.decode(Element.self) {
                elements.append(element)
            } else {
                _ = try container.decode(Unread.self)
            }
        }
        self.elements = elements
    }

    /// Any JSON value, left unread.
    private struct Unread: Decodable {
        init(from decoder: any Decoder) throws {}
    }
}
