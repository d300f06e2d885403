import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer agent`: the background process `coffer unlock` starts; not for direct use.
struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the unlock agent (started by `coffer unlock`).", shouldDisplay: false)

    func run() throws {
        try AgentServer(paths: ProfilePaths()).run(readyDescriptor: 1)
    }
}
