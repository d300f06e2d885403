import ArgumentParser
import CofferAgent
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// `coffer unlock`: opens the vault in the background agent.
struct Unlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock the vault in the background agent, so other commands need no password.",
        discussion:
            "Uses the PIN when quick unlock is set (`coffer pin set`); --password asks for the master password instead."
    )

    @OptionGroup var secrets: SecretOptions

    @Flag(help: "Use the master password even when a PIN is set.")
    var password = false

    @Flag(name: .customLong("pin-stdin"), help: "Read the PIN from standard input.")
    var pinStandardInput = false

    @Option(help: "Lock after this much inactivity, e.g. 15m, 90s, 2h (default 15m, or COFFER_LOCK_TIMEOUT).")
    var timeout: String?

    func run() throws {
        let paths = ProfilePaths()
        let timeoutSeconds = try LockTimeout.seconds(flag: timeout)
        let agent = AgentClient.connectIfRunning(paths)
        if let agent, let state = try? agent.state() {
            if state.isUnlocked {
                Terminal.note("Already unlocked.")
                return
            }
            if state.hasPIN && !password && !secrets.passwordStdin {
                let reader = SecretReader(fromStandardInput: pinStandardInput)
                let pin = try reader.require("PIN: ")
                _ = try agent.call(UnlockWithPIN(pin: pin))
                Terminal.note("Unlocked with your PIN.")
                return
            }
        }
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else {
            throw AgentFailure(.noVault, CofferStoreError.noVault(path: paths.vaultFile).description)
        }
        let reader = secrets.reader()
        let masterPassword = try reader.require("Master password: ")
        let (_, keyring) = try VaultSetup.unlock(paths: paths, password: masterPassword)
        try AgentLauncher.unlock(paths: paths, keyring: keyring, timeoutSeconds: timeoutSeconds)
        Terminal.note(
            "Unlocked; the agent locks after \(timeoutSeconds / 60 > 0 ? "\(timeoutSeconds / 60) min" : "\(timeoutSeconds) s") of inactivity."
        )
    }
}

/// Starts (or reuses) the agent and hands it the account key.
enum AgentLauncher {
    static func unlock(paths: ProfilePaths, keyring: Keyring, timeoutSeconds: Int) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let agent = try AgentClient.launch(paths, executable: executable)
        let key = keyring.accountKey.withUnsafeBytes { Data($0) }
        _ = try agent.call(UnlockVault(accountKey: key, idleTimeoutSeconds: timeoutSeconds))
    }
}

/// Parses lock timeouts such as `15m`, `90s`, `2h` or a bare number of minutes.
enum LockTimeout {
    static func seconds(flag: String?) throws -> Int {
        guard let text = flag ?? ProcessInfo.processInfo.environment["COFFER_LOCK_TIMEOUT"] else {
            return AgentServer.defaultIdleTimeoutSeconds
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        let multiplier = trimmed.last.flatMap { units[$0] } ?? 60
        let number = trimmed.last.map { units[$0] != nil } == true ? String(trimmed.dropLast()) : trimmed
        guard let value = Int(number), value > 0, value * multiplier <= 7 * 24 * 3600 else {
            throw AgentFailure(
                .invalidInput, "'\(text)' is not a lock timeout: use e.g. 15m, 90s or 2h (at most a week).")
        }
        return value * multiplier
    }
}
