import CofferCrypto
import CofferStore
public import CofferVault
import Foundation

/// Keeps the agent out of the way while a flow replaces the vault file, and hands it the keys
/// afterwards, so it never writes to a file that moved. Every flow that makes or replaces a vault
/// (init, register, login, recovery, reset) ends here.
public enum AgentHandoff {
    /// Locks a running agent; returns whether one ran.
    @discardableResult
    public static func lockRunningAgent(_ paths: ProfilePaths) -> Bool {
        guard let agent = AgentClient.connectIfRunning(paths) else { return false }
        _ = try? agent.call(LockVault())
        return true
    }

    /// Starts the agent unless one runs (this same program, `coffer agent`), and hands it the
    /// account key of `keyring`, to lock after `idleTimeoutSeconds` of inactivity (by default the
    /// user's setting, ``LockTimeout``).
    public static func unlockAgent(_ paths: ProfilePaths, with keyring: Keyring, idleTimeoutSeconds: Int? = nil)
        throws(AgentFailure)
    {
        let timeout: Int
        if let idleTimeoutSeconds { timeout = idleTimeoutSeconds } else { timeout = try LockTimeout.seconds(flag: nil) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let agent = try AgentClient.launch(paths, executable: executable)
        let key = keyring.accountKey.withUnsafeBytes { Data($0) }
        _ = try agent.call(UnlockVault(accountKey: key, idleTimeoutSeconds: timeout))
    }

    /// Derives the account key from the master password here (Argon2id runs in the command, so a
    /// wrong password never reaches the agent) and hands it to the agent.
    public static func unlockAgent(_ paths: ProfilePaths, password: String, idleTimeoutSeconds: Int? = nil) throws {
        try ProfileVault.requireVault(paths)
        let (_, keyring) = try VaultSetup.unlock(paths: paths, password: password)
        try unlockAgent(paths, with: keyring, idleTimeoutSeconds: idleTimeoutSeconds)
    }
}
