import CofferAgent
import CofferModel
import CofferStore
import Foundation

/// Finds the unlocked vault: the agent when it holds the key, otherwise a session opened here with
/// the master password (asked for, or read from standard input).
struct VaultConnector {
    let paths = ProfilePaths()
    let secrets: SecretReader

    func open() throws -> any VaultAccess {
        if let agent = AgentClient.connectIfRunning(paths), (try? agent.state().isUnlocked) == true { return agent }
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else {
            throw AgentFailure(.noVault, CofferStoreError.noVault(path: paths.vaultFile).description)
        }
        guard secrets.canRead else {
            throw AgentFailure(
                .locked,
                "The vault is locked. Run `coffer unlock` first, or pass --password-stdin with the master password.")
        }
        let password = try secrets.require("Master password: ")
        let (store, keyring) = try VaultSetup.unlock(paths: paths, password: password)
        let session = try VaultSession(store: store, keyring: keyring)
        // Without an agent, the next command opens the vault again: bring the index cache up to date.
        try? session.saveIndexCache()
        return InProcessVault(session: session)
    }
}
