import Foundation

/// A fixed-window limiter for attempts per key (an e-mail address or a client address).
///
/// In memory: limits reset when the server restarts, which only ever gives an attacker one more
/// window. Several servers behind a load balancer each count separately (documented in operations).
actor RateLimiter {
    private let limit: Int
    private let window: Duration
    private let clock: ContinuousClock
    private var windows: [String: (start: ContinuousClock.Instant, count: Int)] = [:]

    init(limit: Int, window: Duration, clock: ContinuousClock = ContinuousClock()) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// Counts an attempt; returns the seconds to wait when the key is over its limit, else `nil`.
    func attempt(_ key: String) -> Int? {
        let now = clock.now
        var entry = windows[key] ?? (now, 0)
        if now - entry.start >= window { entry = (now, 0) }
        entry.count += 1
        windows[key] = entry
        if windows.count > 100_000 { windows = windows.filter { now - $0.value.start < window } }
        guard entry.count > limit else { return nil }
        let remaining = window - (now - entry.start)
        return max(1, Int(remaining.components.seconds) + 1)
    }
}
