public import CofferAPI
import CofferClient
public import CofferCrypto
import CofferStore
import CofferVault
public import Foundation

/// The flows that change what opens the account: a new master password, a new recovery code,
/// recovery of a local-only vault, and asking the server to delete a safety net. Each opens the
/// profile's vault first, so a missing vault is said before any secret is asked for.
public enum AccountKeyFlows {
    /// Locks the vault key under a new password; returns whether the vault syncs (other devices are
    /// then signed out). Items are not touched.
    public static func changePassword(
        _ paths: ProfilePaths, current: () throws -> String, new: () throws -> String
    ) throws -> Bool {
        let store = try VaultStore.open(at: paths.vaultFile)
        let (currentPassword, newPassword) = (try current(), try new())
        let synced = try store.syncState() != nil
        _ = try AsyncBridge.wait {
            try await KeyChanges.changePassword(
                store: store, currentPassword: currentPassword, newPassword: newPassword)
        }
        return synced
    }

    /// A new recovery code for the account (the previous one stops opening it), with the account's
    /// address and server for the kit when the vault syncs.
    public static func newRecoveryCode(_ paths: ProfilePaths, password: () throws -> String) throws -> (
        code: RecoveryCode, email: String?, server: String?
    ) {
        let store = try VaultStore.open(at: paths.vaultFile)
        let password = try password()
        let code = try AsyncBridge.wait { try await KeyChanges.rotateRecoveryCode(store: store, password: password) }
        let state = try store.syncState()
        return (code, state?.email, state?.serverURL)
    }

    /// A vault that syncs with no server: the recovery code opens it and sets a new password, offline;
    /// the agent then holds the vault unlocked.
    public static func recoverLocally(_ paths: ProfilePaths, recoveryCode: RecoveryCode, newPassword: String) throws {
        AgentHandoff.lockRunningAgent(paths)
        let store = try VaultStore.open(at: paths.vaultFile)
        let keyring = try AsyncBridge.wait {
            try await KeyChanges.recoverLocally(store: store, recoveryCode: recoveryCode, newPassword: newPassword)
        }
        try AgentHandoff.unlockAgent(paths, with: keyring)
    }

    /// Asks the server to delete a safety net (the quarantine, or a server backup), proven with the
    /// master password; returns the pending deletion's id and the address its link goes to.
    public static func requestDeletion(
        _ paths: ProfilePaths, _ what: DeletionKind, backupID: UUID?, password: String
    ) throws -> (id: UUID, email: String?) {
        let (store, _) = try VaultSetup.unlock(paths: paths, password: password)
        let pending = try AsyncBridge.wait {
            try await AccountRecovery.requestDeletion(what, backupID: backupID, store: store, password: password)
        }
        return (pending.id, try? store.syncState()?.email)
    }
}
