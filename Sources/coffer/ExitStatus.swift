import CofferAgent
import CofferModel
import Foundation

/// The documented exit codes (README, "Exit codes"); scripts may rely on them.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case notFound = 2
    case locked = 3
    case wrongSecret = 4
    case integrity = 5
    case noVault = 6
    case invalidInput = 7
    case offline = 8
    case server = 9
    case rateLimited = 10
    case unavailable = 11

    init(_ kind: AgentFailure.Kind) {
        switch kind {
        case .locked: self = .locked
        case .notFound, .ambiguous: self = .notFound
        case .wrongSecret: self = .wrongSecret
        case .integrity, .serverLostData: self = .integrity
        case .noVault: self = .noVault
        case .invalidInput: self = .invalidInput
        case .storage, .agentUnavailable: self = .failure
        case .offline: self = .offline
        case .server, .signedOut: self = .server
        case .rateLimited: self = .rateLimited
        case .unavailable: self = .unavailable
        }
    }
}
