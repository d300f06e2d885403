import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer lock`: drops the account key from the agent.
struct Lock: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lock the vault now; a PIN set with `coffer pin set` keeps working for quick unlock.")

    func run() throws {
        guard let agent = AgentClient.connectIfRunning(ProfilePaths()) else {
            Terminal.note("Already locked.")
            return
        }
        do {
            _ = try agent.call(LockVault())
            Terminal.note("Locked.")
        } catch let failure where failure.kind == .agentUnavailable {
            // An agent of another Coffer version (after an upgrade), or one that no longer answers,
            // cannot be asked: its process ends instead, and the keys with it.
            try agent.stopProcess()
            Terminal.note(
                "Locked: the running agent was from another version of Coffer or did not answer, so it was stopped.")
        }
    }
}
