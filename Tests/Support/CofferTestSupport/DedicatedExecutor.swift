public import Foundation

/// A task executor with threads of its own, outside Swift's cooperative pool.
///
/// Tests that drive the `coffer` binary block pool threads while they wait for it (on two cores the
/// pool has two). A server a test runs in its own process — the hostile proxy — must keep answering
/// meanwhile, or the command it serves waits on the test that waits on it. Tasks started under
/// `withTaskExecutorPreference(executor)` and their children run here instead.
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    // `@unchecked Sendable` is sound: `jobs` is only touched with `condition` held.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// Starts `threads` threads named `name-N`; they live as long as the process.
    public init(threads: Int, name: String) {
        for index in 0..<threads {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `job` on one of the threads.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
