import CofferAPI
import CofferClient
import CofferStore
import CofferVault
import Foundation

/// An unlocked vault as a ``VaultCall`` sees it: the session, and what to do after a change. The
/// agent and a process without an agent both answer calls through it, so a command behaves the same
/// with or without an agent.
public struct VaultContext {
    let session: VaultSession
    let isLocked: Bool
    let pinEnabled: Bool
    /// Runs work the answer need not wait for; the agent defers it until the answer is sent.
    var schedule: (@escaping () -> Void) -> Void = { $0() }
    /// Starts a sync that the answer does not wait for (the agent's background syncs); `nil` syncs
    /// before answering, as a single command without an agent must.
    var syncInBackground: (() -> Void)?

    /// Answers `call` on the vault as it is now on disk (another process may have changed it).
    func answer<Call: VaultCall>(_ call: Call) throws(AgentFailure) -> Call.Answer {
        do {
            try session.refreshIfChanged()
            return try call.answer(in: self)
        } catch {
            throw AgentFailure(error)
        }
    }

    /// Runs a change, then syncs it when the vault is connected and the server answers; offline,
    /// the change simply waits for the next sync.
    func syncingAfter<Result>(_ change: () throws -> Result) throws -> Result {
        let result = try change()
        afterChange()
        return result
    }

    /// Syncs a change and makes the automatic backup when one is due; neither failing undoes it.
    func afterChange() {
        if (try? session.store.syncState()) != nil {
            if let syncInBackground {
                syncInBackground()
            } else {
                _ = try? sync(healing: .refused)
            }
        }
        schedule { [session] in try? BackupService.automatic(for: session, paths: ProfilePaths())?.afterChange() }
    }

    /// Syncs now and reads back what the sync changed.
    func sync(healing: ServerHealing) throws -> SyncReport {
        let engine = SyncEngine(store: session.store, keyring: session.keyring)
        let report = try AsyncBridge.wait { try await engine.sync(healing: healing) }
        try session.refreshIfChanged()
        return report
    }
}

extension VaultSession {
    /// Runs one request to the server with the device's session (a valid access token, refreshed
    /// when needed), waiting for it from synchronous code.
    func withServer<T: Sendable>(_ request: @escaping @Sendable (APIClient, String) async throws -> T) throws -> T {
        let engine = SyncEngine(store: store, keyring: keyring)
        return try AsyncBridge.wait {
            let (api, token, _) = try await engine.session()
            return try await request(api, token)
        }
    }
}
