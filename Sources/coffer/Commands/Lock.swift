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
        _ = try agent.call(LockVault())
        Terminal.note("Locked.")
    }
}
