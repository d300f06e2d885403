import CofferModel
import CofferStore
import Foundation

/// Serves the vault part of the protocol on an unlocked session; the agent and the in-process
/// path both use it, so a command behaves the same with or without an agent.
struct VaultRequestHandler {
    let session: VaultSession
    let isLocked: Bool
    let pinEnabled: Bool
    /// Runs work the answer need not wait for; the agent defers it until the answer is sent.
    var schedule: (@escaping () -> Void) -> Void = { $0() }
    /// Starts a sync that the answer does not wait for (the agent's background syncs); `nil` syncs
    /// before answering, as a single command without an agent must.
    var syncInBackground: (() -> Void)?

    /// Runs a change, then syncs it when the vault is connected and the server answers; offline,
    /// the change simply waits for the next sync.
    private func syncingAfter<Result>(_ change: () throws -> Result) throws -> Result {
        let result = try change()
        afterChange()
        return result
    }

    /// Syncs a change and makes the automatic backup when one is due; neither failing undoes it.
    private func afterChange() {
        if (try? session.store.syncState()) != nil {
            if let syncInBackground {
                syncInBackground()
            } else {
                _ = try? ServerRequestHandler(store: session.store, keyring: session.keyring).handle(.sync)
                try? session.refreshIfChanged()
            }
        }
        schedule { [session] in try? BackupService.automatic(for: session, paths: ProfilePaths())?.afterChange() }
    }

    func handle(_ request: AgentRequest) -> AgentResponse {
        do {
            try session.refreshIfChanged()
            switch request {
            case .status: return .status(session.status(isLocked: isLocked, pinEnabled: pinEnabled))
            case .list(let filter): return .items(ItemBatch(try session.list(filter)))
            case .search(let query, let filter): return .items(ItemBatch(try session.search(query, filter: filter)))
            case .summaries(let filter, let query):
                return .summaries(SummaryBatch(try session.summaries(filter, query: query)))
            case .resolve(let name, let scope): return .item(try session.resolve(name, scope: scope))
            case .resolveReferences(let references):
                let now = Date()
                return .values(
                    try references.map { reference throws(AgentFailure) in try session.value(of: reference, at: now) })
            case .add(let item): return .item(try syncingAfter { try session.add(item) })
            case .update(let item): return .item(try syncingAfter { try session.update(item) })
            case .trash(let id): return .item(try syncingAfter { try session.trash(id) })
            case .restore(let id): return .item(try syncingAfter { try session.restore(id) })
            case .purge(let id): return .item(try syncingAfter { try session.purge(id) })
            case .mergeRecovered(let recovered):
                return .merged(try syncingAfter { try session.mergeRecovered(recovered.elements) })
            case .importItems(let batch, let duplicates, let dryRun):
                let importing = { try session.importItems(batch.elements, duplicates: duplicates, dryRun: dryRun) }
                return .imported(try dryRun ? importing() : syncingAfter(importing))
            case .backup(let command, let settings):
                let response = try BackupService(session: session, settings: settings).handle(command)
                if case .restore = command { afterChange() }
                return response
            case .sync, .healServer, .devices, .revokeDevice, .accountEvents, .confirmEmail, .pendingDeletions,
                .cancelDeletion,
                .logout:
                let response = try ServerRequestHandler(store: session.store, keyring: session.keyring).handle(request)
                try session.refreshIfChanged()
                return response
            case .unlock, .unlockWithPIN, .setPIN, .clearPIN, .lock, .agentState, .serveSSHKeys:
                return .failure(AgentFailure(.invalidInput, "That request needs a running agent: run `coffer unlock`."))
            }
        } catch {
            return .failure(AgentFailure(error))
        }
    }
}
