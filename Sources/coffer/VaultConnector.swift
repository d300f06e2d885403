import CofferAgent
import Foundation

/// Finds the unlocked vault for a command: the agent when it holds the key, otherwise a session
/// opened here with the master password (asked for, or read from standard input).
struct VaultConnector {
    let paths = ProfilePaths()
    let secrets: SecretReader

    func open() throws -> any VaultAccess {
        try ProfileVault.unlocked(paths) {
            guard secrets.canRead else {
                throw AgentFailure(
                    .locked,
                    "The vault is locked. Run `coffer unlock` first, or pass --password-stdin with the master password."
                )
            }
            return try secrets.require("Master password: ")
        }
    }
}
