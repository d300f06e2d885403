import CofferAgentTransport
import CofferClient
import CofferStore
import CofferVault
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the agent's syncs on a thread of their own, so a slow or stalled server never holds up
/// the agent's other commands.
///
/// The agent's loop stays single-threaded: it starts a run, keeps serving, and learns that the run
/// ended through a pipe it polls beside its socket. A run touches only the vault file (whose commits
/// are guarded per item, so edits made meanwhile are merged, never overwritten) and the keyring; the
/// loop then reads what the run changed. Requests for a sync while one runs are served by the next
/// run, which starts as soon as the current one ends, so every change is synced after it was made.
///
/// A command that changed the vault gets its answer once the sync it started has run (as without an
/// agent, so a script that adds an item on one device and syncs another finds it there); only that
/// command waits — every other command is served meanwhile.
final class BackgroundSync {
    /// Readable when a run has ended; the agent polls it.
    let wakeDescriptor: Int32
    private let signalDescriptor: Int32
    private let outcome = OutcomeBox()
    private var isRunning = false
    private var runAgain = false
    /// A connection waiting for a run, and the answer frame it gets then (`nil`: the sync report).
    private typealias Waiter = (connection: UnixSocket, answer: Data?)
    /// Connections waiting for the run in progress, and for the one after it.
    private var waiting: [Waiter] = []
    private var waitingForNext: [Waiter] = []

    init() throws(AgentFailure) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw AgentFailure(.agentUnavailable, "Cannot create the agent's sync pipe.") }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        wakeDescriptor = ends[0]
        signalDescriptor = ends[1]
    }

    deinit {
        close(wakeDescriptor)
        close(signalDescriptor)
    }

    /// Whether a run is in progress (the agent waits for it before exiting).
    var isBusy: Bool { isRunning }

    /// Asks for a sync of `store`; `connection`, if given, gets `answer` — or, when that is `nil`,
    /// the sync's report — once the sync has run.
    func request(store: VaultStore, keyring: Keyring, reply connection: UnixSocket?, answer: Data? = nil) {
        latest = (store, keyring)
        if isRunning {
            runAgain = true
            if let connection { waitingForNext.append((connection, answer)) }
            return
        }
        if let connection { waiting.append((connection, answer)) }
        start(store: store, keyring: keyring)
    }

    private func start(store: VaultStore, keyring: Keyring) {
        isRunning = true
        let outcome = outcome
        let signal = signalDescriptor
        // A thread, not a task: the run blocks on the async client through AsyncBridge, which must
        // never wait on a cooperative-pool thread.
        let thread = Thread {
            let result = Result { try AsyncBridge.wait { try await SyncEngine(store: store, keyring: keyring).sync() } }
            outcome.set(result.mapError { AgentFailure($0) })
            var byte: UInt8 = 1
            _ = write(signal, &byte, 1)
        }
        thread.start()
    }

    /// The vault of the latest request: a run asked for during another one syncs this.
    private var latest: (VaultStore, Keyring)?

    /// Called by the loop when ``wakeDescriptor`` is readable: answers the waiting connections with
    /// the run's outcome, starts the next run if one was asked for, and returns the outcome.
    func finish() -> Result<SyncReport, AgentFailure>? {
        var buffer = [UInt8](repeating: 0, count: 16)
        _ = read(wakeDescriptor, &buffer, buffer.count)
        guard let result = outcome.take() else { return nil }
        isRunning = false
        let report = AgentProtocol.frame(answer: result)
        for waiter in waiting {
            try? waiter.connection.writeMessage(waiter.answer ?? report)
            waiter.connection.close()
        }
        waiting = waitingForNext
        waitingForNext = []
        if runAgain, let (store, keyring) = latest {
            runAgain = false
            start(store: store, keyring: keyring)
        }
        return result
    }
}

/// The run's outcome, handed from the sync thread to the agent's loop.
///
/// `@unchecked Sendable` is sound: `value` is only touched under `lock`.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<SyncReport, AgentFailure>?

    func set(_ result: Result<SyncReport, AgentFailure>) { lock.withLock { value = result } }

    func take() -> Result<SyncReport, AgentFailure>? {
        lock.withLock {
            defer { value = nil }
            return value
        }
    }
}
