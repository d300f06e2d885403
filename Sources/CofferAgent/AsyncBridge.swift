import Dispatch
import Foundation

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
