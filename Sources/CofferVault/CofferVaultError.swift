import CofferCrypto
public import Foundation

/// What can go wrong with a vault's keys and records, as a sentence the user can act on.
public enum CofferVaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The master password does not open the account key.
    case wrongPassword
    /// The recovery code does not open the account key.
    case wrongRecoveryCode
    /// A secret that does not open something, with which secrets would.
    case wrongSecretFor(String)
    /// A stored record or the manifest failed its integrity check.
    case integrity(String)
    /// Stored data could not be decoded.
    case corruptRecord(String)
    /// An item was written in a content format this build does not know: a newer Coffer wrote it.
    case newerContentFormat(itemID: UUID, marker: UInt8)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .wrongPassword:
            return "That master password is not correct. Nothing was changed; try again (or use your recovery kit)."
        case .wrongRecoveryCode:
            return "That recovery code does not open this account. Check it against your recovery kit."
        case .wrongSecretFor(let explanation):
            return explanation
        case .integrity(let detail):
            return
                "Integrity check failed: \(detail). The vault file was modified outside Coffer; nothing was changed. Restore it from a backup or another device."
        case .newerContentFormat(let itemID, let marker):
            return
                "Item \(itemID.uuidString.lowercased()) was written by a newer Coffer (content format \(marker)), which this version cannot read. Update Coffer on this device; nothing was changed."
        case .corruptRecord(let detail):
            return
                "A stored record cannot be read (\(detail)); the vault file is damaged. Restore it from a backup or another device."
        }
    }

    /// Maps a failure to open an item record to an integrity error that names the item.
    static func itemIntegrity(_ id: UUID, _ error: CofferCryptoError) -> CofferVaultError {
        .integrity("item \(id.uuidString.lowercased()) does not open (\(error.shortReason))")
    }
}

extension CofferCryptoError {
    var shortReason: String {
        switch self {
        case .wrongKey: "its key does not match"
        case .tampered: "its content or position was changed"
        case .malformed: "it is truncated"
        case .unsupportedVersion(let version): "unknown format version \(version)"
        default: "\(self)"
        }
    }
}
