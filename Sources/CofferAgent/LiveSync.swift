import CofferClient
import CofferStore
import CofferVault
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// While the vault is unlocked, listens on the server's change stream (``ChangeStream``) and wakes
/// the agent's loop when another device changed the account, so the agent syncs within moments.
///
/// It runs as a task beside the loop; the loop learns of a hint through a pipe it polls, as it
/// learns of a finished sync. A broken connection is tried again after a pause that doubles up to
/// a minute (with jitter, so devices do not return in step after a server restart); a server
/// without the stream is asked again every ten minutes.
final class LiveSync {
    /// Readable when the agent should sync; the agent polls it.
    let wakeDescriptor: Int32
    private let signalDescriptor: Int32
    private var task: Task<Void, Never>?

    init() throws(AgentFailure) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw AgentFailure(.agentUnavailable, "Cannot create the agent's change pipe.") }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        wakeDescriptor = ends[0]
        signalDescriptor = ends[1]
    }

    deinit {
        task?.cancel()
        close(wakeDescriptor)
        close(signalDescriptor)
    }

    /// Listens for the account of `store` (a vault without a server has nothing to listen to).
    func start(store: VaultStore, keyring: Keyring) {
        stop()
        guard (try? store.syncState()) != nil else { return }
        let stream = ChangeStream(store: store, keyring: keyring)
        let signal = signalDescriptor
        task = Task.detached { await LiveSync.listen(stream, signal: signal) }
    }

    /// Listens, and after each end pauses and listens again, until cancelled.
    private static func listen(_ stream: ChangeStream, signal: Int32) async {
        var pause = Duration.seconds(1)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let end = await stream.listen(onConnected: { wake(signal) }, onChange: { wake(signal) })
            // A stream that served for a while (the server ends each after 10 minutes) was healthy:
            // the next one starts from the short pause again, not from where earlier failures left it.
            if ContinuousClock.now - started > Self.healthyStream { pause = .seconds(1) }
            switch end {
            case .needsSync:
                wake(signal)
                pause = min(max(pause * 2, .seconds(5)), .seconds(60))
            case .unsupported:
                pause = .seconds(600)
            case .disconnected:
                pause = min(pause * 2, .seconds(60))
            }
            try? await Task.sleep(for: pause + .milliseconds(Int.random(in: 0...500)))
        }
    }

    /// How long a stream must have lasted to count as healthy.
    static let healthyStream: Duration = .seconds(60)

    /// Stops listening (the vault was locked).
    func stop() {
        task?.cancel()
        task = nil
    }

    /// Called by the loop when ``wakeDescriptor`` is readable: empties the pipe.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeDescriptor, &buffer, buffer.count) > 0 {}
    }

    private static func wake(_ descriptor: Int32) {
        var byte: UInt8 = 1
        _ = write(descriptor, &byte, 1)
    }
}
