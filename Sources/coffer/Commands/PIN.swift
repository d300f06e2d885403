import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer pin`: quick unlock by PIN, kept in the agent's memory only.
struct PIN: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quick unlock by PIN, held in the agent's memory only (never on disk).",
        discussion: """
            After `coffer pin set`, `coffer lock` and the idle timeout keep a PIN-wrapped copy of the key in \
            the agent, so `coffer unlock` asks for the PIN. After 5 wrong PINs that copy is erased and the \
            master password is needed; nothing else changes. Restarting the machine also needs the master password.
            """,
        subcommands: [Set.self, Clear.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a PIN for quick unlock (the vault must be unlocked).")

        @Flag(name: .customLong("pin-stdin"), help: "Read the PIN from standard input.")
        var pinStandardInput = false

        func run() throws {
            guard let agent = AgentClient.connectIfRunning(ProfilePaths()), try agent.state().isUnlocked else {
                throw AgentFailure(.locked, "Unlock the vault with `coffer unlock` before setting a PIN.")
            }
            let reader = SecretReader(fromStandardInput: pinStandardInput)
            let pin = try reader.require("New PIN (at least 4 characters): ")
            if !reader.isScripted, try reader.require("Repeat the PIN: ") != pin {
                throw AgentFailure(.invalidInput, "The two PINs differ; no PIN was set.")
            }
            _ = try agent.call(SetPIN(pin: pin))
            Terminal.note("PIN set for this session of the agent. After 5 wrong PINs the master password is needed.")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn quick unlock off and erase the PIN-wrapped key.")

        func run() throws {
            guard let agent = AgentClient.connectIfRunning(ProfilePaths()) else {
                Terminal.note("No PIN is set.")
                return
            }
            _ = try agent.call(ClearPIN())
            Terminal.note("PIN cleared.")
        }
    }
}
