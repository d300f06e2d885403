import CofferClient
public import CofferModel
public import CofferStore
import CofferVault
public import Foundation

/// What this device holds from before an account reset: the vault file itself when the device has
/// not yet signed in to the new key epoch, and archived vault files once it has.
public struct BeforeResetHoldings: Sendable, Equatable {
    /// What the server said when this device learned of the reset, until it signs in again.
    public var notice: AccountResetNotice?
    /// Records in the current vault file that belong to the old epoch (the device was not signed in yet).
    public var itemsInVault: Int
    /// Archived vault files of older epochs, with their record counts.
    public var archives: [Archive]

    /// One archived vault file.
    public struct Archive: Sendable, Equatable, Codable {
        /// Its path.
        public var path: String
        /// Its key epoch.
        public var epoch: UInt32
        /// Records (live and trashed items) it holds.
        public var items: Int
    }

    /// Items held from before the reset, wherever they are on this device.
    public var itemCount: Int { itemsInVault + itemsInArchives }

    /// Items in archived vault files only (the current vault file not counted).
    public var itemsInArchives: Int { archives.reduce(0) { $0 + $1.items } }

    /// Reads the holdings next to the profile's vault without unlocking anything (counts of records only).
    public static func read(paths: ProfilePaths) -> BeforeResetHoldings {
        let store = try? VaultStore.open(at: paths.vaultFile)
        let notice = try? store?.resetNotice()
        let header = try? store?.header()
        var inVault = 0
        if let notice, let header, notice.epoch > header.epoch {
            inVault = (try? store?.recordCount()) ?? 0
        }
        let archives = VaultArchive.archives(besides: paths.vaultFile).compactMap { path -> Archive? in
            guard let archived = try? VaultStore.open(at: path), let epoch = try? archived.header().epoch else {
                return nil
            }
            return Archive(path: path, epoch: epoch, items: (try? archived.recordCount()) ?? 0)
        }
        return BeforeResetHoldings(notice: notice ?? nil, itemsInVault: inVault, archives: archives)
    }
}

/// Moving items from an older key epoch into the current account.
public enum EpochRecovery {
    /// Opens every archived vault file of `accountID` older than `epoch` with `oldPassword`, checking
    /// each against its manifest, and returns all their items (trashed ones included).
    ///
    /// Throws when the password opens none of them, naming which password would.
    public static func archivedItems(
        paths: ProfilePaths, accountID: UUID, before epoch: UInt32, oldPassword: String
    ) throws -> [Item] {
        let candidates = VaultArchive.archives(besides: paths.vaultFile).compactMap { path -> VaultStore? in
            guard let store = try? VaultStore.open(at: path), let header = try? store.header(),
                header.accountID == accountID, header.epoch < epoch
            else { return nil }
            return store
        }
        guard !candidates.isEmpty else {
            throw CofferClientError.lifecycle(
                "This device holds no data from before the reset. Try another device that was signed in before it (`coffer recover --from-device` there), or the server's quarantine (`coffer recover --old-password`).",
            )
        }
        var items: [Item] = []
        var opened = 0
        for store in candidates {
            guard let keyring = try? VaultSetup.keyring(store: store, password: oldPassword) else { continue }
            items += try VaultSession(store: store, keyring: keyring).list(ItemFilter(scope: .all))
            opened += 1
        }
        guard opened > 0 else {
            throw CofferVaultError.wrongSecretFor(
                "That password does not open this device's data from before the reset. It opens with the master password this device used before the reset (the second line of --password-stdin)."
            )
        }
        return items
    }
}
