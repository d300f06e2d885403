import CofferClient
public import CofferModel
public import CofferStore
public import CofferVault
import Foundation

/// The profile's vault at the account's current key epoch, for the flows that bring data from
/// before an account reset into the account.
public enum CurrentEpoch {
    /// The vault at the current epoch, signing in to it first when this device still holds an older
    /// epoch (which archives the old file). `address` is asked for only when signing in.
    public static func signedIn(
        _ paths: ProfilePaths, password: String, address: () throws -> AccountAddress
    ) throws -> (store: VaultStore, keyring: Keyring) {
        let holdings = BeforeResetHoldings.read(paths: paths)
        let needsSignIn =
            holdings.itemsInVault > 0 || !FileManager.default.fileExists(atPath: paths.vaultFile)
            || ProfileVault.syncState(paths)?.sealedRefreshToken == nil
        // The new password not opening this device's vault also means it still holds the old epoch
        // (the device has not heard of the reset yet): signing in settles it.
        if !needsSignIn, let unlocked = try? VaultSetup.unlock(paths: paths, password: password) {
            return unlocked
        }
        let account = try address()
        AgentHandoff.lockRunningAgent(paths)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        let file = paths.vaultFile
        let signedIn = try AsyncBridge.wait {
            try await AccountFlows.login(
                server: account.server, email: account.email, password: password, deviceName: account.deviceName,
                vaultFile: file)
        }
        return (try VaultStore.open(at: file), signedIn.keyring)
    }

    /// Re-encrypts `items` under the current keys and merges them in (syncing when connected).
    public static func merge(_ items: [Item], into store: VaultStore, keyring: Keyring) throws -> RecoveryMerge {
        try InProcessVault(session: try VaultSession(store: store, keyring: keyring)).call(MergeRecovered(items))
    }
}
