import CofferAPI
import CofferClient
import CofferStore
import CofferVault
import Dispatch
import Foundation

/// Serves the requests that talk to the server (sync, devices, events, logout) for an unlocked vault.
///
/// The agent and the CLI are synchronous; these requests wait for the async client on a semaphore.
struct ServerRequestHandler {
    let store: VaultStore
    let keyring: Keyring

    func handle(_ request: AgentRequest) throws -> AgentResponse {
        let engine = SyncEngine(store: store, keyring: keyring)
        switch request {
        case .sync:
            return .syncReport(try AsyncBridge.wait { try await engine.sync() })
        case .healServer:
            return .syncReport(try AsyncBridge.wait { try await engine.sync(healing: .allowed) })
        case .devices:
            return .devices(
                try withSession(engine) { api, token in try await api.devices(token: token) })
        case .revokeDevice(let id):
            try withSession(engine) { api, token in try await api.revokeDevice(id, token: token) }
            return .done
        case .accountEvents:
            return .events(
                try withSession(engine) { api, token in try await api.events(token: token) })
        case .confirmEmail:
            return .emailConfirmation(
                try withSession(engine) { api, token in try await api.confirmEmail(token: token) })
        case .pendingDeletions:
            return .deletions(
                try withSession(engine) { api, token in try await api.pendingDeletions(token: token) })
        case .cancelDeletion(let id):
            try withSession(engine) { api, token in try await api.cancelDeletion(id, token: token) }
            return .done
        case .logout:
            let store = store
            let keyring = keyring
            try AsyncBridge.wait { try await AccountFlows.logout(store: store, keyring: keyring) }
            return .done
        default:
            return .failure(AgentFailure(.invalidInput, "Not a server request."))
        }
    }

    /// Runs one request with the engine's session (a valid access token, refreshed when needed).
    private func withSession<T: Sendable>(
        _ engine: SyncEngine, _ request: @escaping @Sendable (APIClient, String) async throws -> T
    ) throws -> T {
        try AsyncBridge.wait {
            let (api, token, _) = try await engine.session()
            return try await request(api, token)
        }
    }
}

/// Runs async work to completion from synchronous code.
public enum AsyncBridge {
    /// Blocks the calling thread (never a cooperative-pool thread: the CLI's main thread or the
    /// agent's loop) until `body` finishes, and returns its result.
    public static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            do {
                box.set(.success(try await body()))
            } catch {
                box.set(.failure(error))
            }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.get()
    }
}

/// The result handed from the task to the waiting thread.
///
/// `@unchecked Sendable` is sound: `value` is only touched under `lock`.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?

    func set(_ result: Result<T, any Error>) { lock.withLock { value = result } }

    func get() throws -> T {
        guard let value = lock.withLock({ value }) else {
            throw AgentFailure(.storage, "An operation ended without a result.")
        }
        return try value.get()
    }
}
