public import CofferCrypto
public import CofferStore
public import CofferVault
public import Foundation

/// Creating and unlocking a profile's vault file: the steps `init` and `unlock` share.
public enum VaultSetup {
    /// Creates a local-only vault protected by `password`; returns the recovery code to show once.
    public static func create(
        paths: ProfilePaths, password: String, parameters: KDFParameters = .default
    ) throws -> (keyring: Keyring, recoveryCode: RecoveryCode) {
        guard !FileManager.default.fileExists(atPath: paths.vaultFile) else {
            throw CofferStoreError.vaultExists(path: paths.vaultFile)
        }
        let (header, accountKey, recoveryCode) = try AccountHeader.create(password: password, parameters: parameters)
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        // A new account: every device that will read it runs this build or a later one.
        _ = try VaultStore.create(at: paths.vaultFile, header: header, keyring: keyring, writing: .compact)
        return (keyring, recoveryCode)
    }

    /// Opens the vault file and derives its account key from `password`.
    public static func unlock(paths: ProfilePaths, password: String) throws -> (store: VaultStore, keyring: Keyring) {
        let store = try VaultStore.open(at: paths.vaultFile)
        return (store, try keyring(store: store, password: password))
    }

    /// The keyring `password` opens: the current header's, or, while a password change is pending
    /// (interrupted before the server confirmed it), the new header's, so neither password is lost.
    public static func keyring(store: VaultStore, password: String) throws -> Keyring {
        do {
            return try Keyring(header: store.header(), password: password)
        } catch CofferVaultError.wrongPassword {
            guard let pending = try store.pendingHeader() else { throw CofferVaultError.wrongPassword }
            return try Keyring(header: pending, password: password)
        }
    }

    /// Rebuilds a keyring from an account key handed over by another process.
    public static func keyring(store: VaultStore, accountKeyBytes: Data) throws -> Keyring {
        let header = try store.header()
        return Keyring(
            accountID: header.accountID, epoch: header.epoch, accountKey: try AccountKey(bytes: accountKeyBytes))
    }
}
