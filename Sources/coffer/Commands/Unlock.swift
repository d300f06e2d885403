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
        try ProfileVault.requireVault(paths)
        let masterPassword = try secrets.reader().require("Master password: ")
        try AgentHandoff.unlockAgent(paths, password: masterPassword, idleTimeoutSeconds: timeoutSeconds)
        Terminal.note(
            "Unlocked; the agent locks after \(timeoutSeconds / 60 > 0 ? "\(timeoutSeconds / 60) min" : "\(timeoutSeconds) s") of inactivity."
        )
    }
}
