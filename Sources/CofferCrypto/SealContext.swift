public import Foundation

/// What a sealed box is for; part of its associated data so a box cannot be reused for another purpose.
public enum SealPurpose: String, Sendable, CaseIterable {
    case accountKeyByPassword = "account-key/password"
    case accountKeyByRecoveryCode = "account-key/recovery"
    case accountKeyByPIN = "account-key/pin"
    case itemKey = "item-key"
    case itemContent = "item-content"
    case backupBody = "backup-body"
    case sessionToken = "session-token"
    /// Proof that a device of the account purged an item at a revision (sync protocol 2).
    case tombstone = "tombstone"
    /// The vault file's own set digest, sealed so its sum never sits in clear.
    case vaultDigest = "vault-digest"
    /// The digest of the server state this device last verified.
    case syncView = "sync-view"
    /// The device's cache of its vault's index (titles, subtitles, tags; never a secret value).
    case indexCache = "index-cache"
}

/// The associated data bound into every sealed box: where it belongs.
///
/// A server or a local attacker that moves a ciphertext to another item, account, epoch or purpose
/// makes it fail to open instead of producing a wrong-but-valid value.
public struct SealContext: Sendable, Equatable {
    /// What the box is for.
    public var purpose: SealPurpose
    /// The account the box belongs to.
    public var accountID: UUID
    /// The key epoch, bumped by an account reset.
    public var epoch: UInt32
    /// The item, for item keys and item content.
    public var itemID: UUID?
    /// Extra bytes to bind, such as the KDF parameters and salt of a password wrap.
    public var extra: [UInt8]

    /// Creates a context.
    public init(purpose: SealPurpose, accountID: UUID, epoch: UInt32, itemID: UUID? = nil, extra: [UInt8] = []) {
        self.purpose = purpose
        self.accountID = accountID
        self.epoch = epoch
        self.itemID = itemID
        self.extra = extra
    }

    /// The canonical encoding: every field length-prefixed so no two contexts encode the same.
    public var associatedData: [UInt8] {
        var bytes: [UInt8] = []
        func append(_ field: [UInt8]) {
            withUnsafeBytes(of: UInt32(field.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: field)
        }
        append(Array("coffer/v1/seal".utf8))
        append([SealedBox.formatVersion])
        append(Array(purpose.rawValue.utf8))
        append(accountID.bytes)
        append(withUnsafeBytes(of: epoch.bigEndian) { Array($0) })
        append(itemID?.bytes ?? [])
        append(extra)
        return bytes
    }
}
