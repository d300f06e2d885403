public import CofferStore
import CofferVault
import Foundation

/// The profile's vault as a command reaches it: through the agent when it holds the key, otherwise
/// opened by the command itself with the master password.
public enum ProfileVault {
    /// The running agent, if it holds the key.
    public static func unlockedAgent(_ paths: ProfilePaths) -> AgentClient? {
        guard let agent = AgentClient.connectIfRunning(paths), (try? agent.state().isUnlocked) == true else {
            return nil
        }
        return agent
    }

    /// The agent holding the key, unlocked first with the password `masterPassword` gives when it
    /// does not (asked for only then): for what only the agent does, such as serving SSH keys.
    public static func unlockedAgent(_ paths: ProfilePaths, masterPassword: () throws -> String) throws -> AgentClient {
        if let agent = unlockedAgent(paths) { return agent }
        try requireVault(paths)
        try AgentHandoff.unlockAgent(
            paths, password: try masterPassword())
        guard let agent = AgentClient.connectIfRunning(paths) else {
            throw AgentFailure(.agentUnavailable, "The agent stopped. Run `coffer unlock` again.")
        }
        return agent
    }

    /// The unlocked vault: the agent when it holds the key; otherwise a session opened here with the
    /// password `masterPassword` gives, asked for only then (it throws when it cannot ask).
    public static func unlocked(_ paths: ProfilePaths, masterPassword: () throws -> String) throws -> any VaultAccess {
        if let agent = unlockedAgent(paths) { return agent }
        try requireVault(paths)
        let (store, keyring) = try VaultSetup.unlock(paths: paths, password: try masterPassword())
        let session = try VaultSession(store: store, keyring: keyring)
        // Without an agent, the next command opens the vault again: bring the index cache up to date.
        try? session.saveIndexCache()
        return InProcessVault(session: session)
    }

    /// Fails with `noVault` and where it was looked for unless the profile has a vault file.
    public static func requireVault(_ paths: ProfilePaths) throws(AgentFailure) {
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else {
            throw AgentFailure(.noVault, CofferStoreError.noVault(path: paths.vaultFile).description)
        }
    }

    /// The profile's sync state (server, address, device name); `nil` when the vault is local-only or
    /// there is no vault. Read without a password: none of it is secret.
    public static func syncState(_ paths: ProfilePaths) -> SyncState? {
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else { return nil }
        return try? VaultStore.open(at: paths.vaultFile).syncState()
    }

    /// Whether the profile's vault exists and syncs with no server.
    public static func isLocalOnly(_ paths: ProfilePaths) throws -> Bool {
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else { return false }
        return try VaultStore.open(at: paths.vaultFile).syncState() == nil
    }

    /// The key epoch of the vault file; `nil` when there is none or it cannot be read.
    public static func epoch(_ paths: ProfilePaths) -> UInt32? {
        try? VaultStore.open(at: paths.vaultFile).header().epoch
    }

    /// How many records the vault file holds, of every epoch; 0 when there is none.
    public static func recordCount(_ paths: ProfilePaths) -> Int {
        (try? VaultStore.open(at: paths.vaultFile).recordCount()) ?? 0
    }
}
