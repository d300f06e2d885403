import Crypto
import Foundation

/// Where attempts are counted: in this process (one server, the SQLite default), or in the
/// database, so several server processes behind a load balancer share one count per key.
enum AttemptCounting: Sendable {
    /// In memory: limits reset when the server restarts, which only ever gives an attacker one more
    /// window.
    case inMemory
    /// In the shared database (``CoordinationRepository/countAttempt(key:window:now:)``).
    case shared(any CoordinationRepository)
}

/// A fixed-window limiter for attempts per key (an e-mail address or a client address).
struct RateLimiter: Sendable {
    private let limit: Int
    private let window: Duration
    private let counter: Counter

    private enum Counter: Sendable {
        case memory(MemoryWindows)
        /// `bucket` keeps one limiter's keys apart from another's in the shared table.
        case database(any CoordinationRepository, bucket: String)
    }

    /// A limiter of `limit` attempts per `window`; `bucket` names it among the shared ones.
    init(limit: Int, window: Duration, bucket: String, counting: AttemptCounting) {
        self.limit = limit
        self.window = window
        counter =
            switch counting {
            case .inMemory: .memory(MemoryWindows(window: window))
            case .shared(let storage): .database(storage, bucket: bucket)
            }
    }

    /// Counts an attempt; returns the seconds to wait when the key is over its limit, else `nil`.
    func attempt(_ key: String) async throws -> Int? {
        let (count, elapsed): (Int, Duration)
        switch counter {
        case .memory(let windows):
            (count, elapsed) = await windows.count(key)
        case .database(let storage, let bucket):
            // Keyed by a hash: the table never lists the addresses it counts.
            let hashed = Data(SHA256.hash(data: Data("\(bucket):\(key)".utf8)))
            let now = Date()
            let seconds = Double(window.components.seconds)
            let counted = try await storage.countAttempt(key: hashed, window: seconds, now: now)
            (count, elapsed) = (counted.count, .seconds(max(0, now.timeIntervalSince(counted.windowStart))))
        }
        guard count > limit else { return nil }
        let remaining = window - elapsed
        return max(1, Int(remaining.components.seconds) + 1)
    }
}

/// The windows of one in-memory limiter.
actor MemoryWindows {
    private let window: Duration
    private let clock = ContinuousClock()
    private var windows: [String: (start: ContinuousClock.Instant, count: Int)] = [:]

    init(window: Duration) {
        self.window = window
    }

    /// Counts an attempt under `key`: the attempts in its current window and the window's age.
    func count(_ key: String) -> (Int, Duration) {
        let now = clock.now
        var entry = windows[key] ?? (now, 0)
        if now - entry.start >= window { entry = (now, 0) }
        entry.count += 1
        windows[key] = entry
        if windows.count > 100_000 { windows = windows.filter { now - $0.value.start < window } }
        return (entry.count, now - entry.start)
    }
}
