import CofferAgent
import Foundation

/// Finds the unlocked vault for a command: the agent when it holds the key, otherwise a session
/// opened here with the master password (asked for, or read from standard input).
struct VaultConnector {
    let paths = ProfilePaths()
    let secrets: SecretReader

    func open() throws -> any VaultAccess { try ProfileVault.unlocked(paths, masterPassword: masterPassword) }

    /// The agent holding the key, unlocked first with the master password when it does not.
    func unlockedAgent() throws -> AgentClient { try ProfileVault.unlockedAgent(paths, masterPassword: masterPassword) }

    /// The master password, asked for or read from standard input; a locked-vault failure when
    /// neither can be done (a script without --password-stdin).
    private func masterPassword() throws -> String {
        guard secrets.canRead else {
            throw AgentFailure(
                .locked,
                "The vault is locked. Run `coffer unlock` first, or pass --password-stdin with the master password.")
        }
        return try secrets.require("Master password: ")
    }
}
