import CofferModel
import Foundation

/// Serves the vault part of the protocol on an unlocked session; the agent and the in-process
/// path both use it, so a command behaves the same with or without an agent.
struct VaultRequestHandler {
    let session: VaultSession
    let isLocked: Bool
    let pinEnabled: Bool

    func handle(_ request: AgentRequest) -> AgentResponse {
        do {
            try session.refreshIfChanged()
            switch request {
            case .status: return .status(session.status(isLocked: isLocked, pinEnabled: pinEnabled))
            case .list(let filter): return .items(session.list(filter))
            case .search(let query, let filter): return .items(session.search(query, filter: filter))
            case .resolve(let name, let scope): return .item(try session.resolve(name, scope: scope))
            case .add(let item): return .item(try session.add(item))
            case .update(let item): return .item(try session.update(item))
            case .trash(let id): return .item(try session.trash(id))
            case .restore(let id): return .item(try session.restore(id))
            case .purge(let id): return .item(try session.purge(id))
            case .unlock, .unlockWithPIN, .setPIN, .clearPIN, .lock, .agentState:
                return .failure(AgentFailure(.invalidInput, "That request needs a running agent: run `coffer unlock`."))
            }
        } catch {
            return .failure(AgentFailure(error))
        }
    }
}
