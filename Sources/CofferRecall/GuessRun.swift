import Foundation
import Synchronization

/// Tries variants of remembered passwords against a file with every core, cheapest variants first,
/// until one opens it or every variant up to the maximum cost was tried.
public enum GuessRun {
    /// How far a run has got.
    public struct Progress: Sendable {
        /// Variants tried so far, including those of earlier runs that were resumed.
        public let tried: Int
        /// Variants tried in this run.
        public let triedNow: Int
        /// Variants per second in this run.
        public let rate: Double
        /// The cost being tried, with how many of it were handed out and found so far.
        public let tier: (cost: Int, done: Int, total: Int)?
    }

    /// How a run ended.
    public enum Outcome: Sendable {
        /// `password` opens the file; it was variant `index` (from 0), `steps` away from remembered
        /// password number `remembered` (from 0).
        case found(password: String, index: Int, remembered: Int, steps: [String])
        /// Nothing up to the maximum cost opened it; `tried` variants in all.
        case exhausted(tried: Int)
    }

    private struct Shared {
        var search: VariantSearch
        var finished: Set<Int> = []
        /// Every variant below this index was tried.
        var triedPrefix: Int
        var triedNow = 0
        var found: VariantSearch.Variant?
    }

    /// Runs the search: skips the first `resumeAfter` variants (tried by an earlier run), then tries
    /// the rest on `workers` threads. `tried` is called with the new count each time the run of tried
    /// variants from the start grows, in order, so a caller can record it and resume from there.
    public static func run(
        target: GuessTarget, remembered: [String], rules: VariantRules, resumeAfter: Int = 0,
        workers: Int = GuessRun.workers(), tried: @Sendable (Int) -> Void = { _ in },
        progress: @Sendable (Progress) -> Void = { _ in }
    ) -> Outcome {
        var search = VariantSearch(remembered: remembered, rules: rules)
        for _ in 0..<resumeAfter where search.next() == nil { break }
        let shared = Mutex(Shared(search: search, triedPrefix: search.count))
        let started = Date()
        DispatchQueue.concurrentPerform(iterations: max(1, workers)) { _ in
            while let variant = shared.withLock({ $0.found == nil ? $0.search.next() : nil }) {
                let opens = target.opens(with: variant.text)
                let report = shared.withLock { state in
                    if opens, state.found.map({ $0.index > variant.index }) ?? true { state.found = variant }
                    state.finished.insert(variant.index)
                    state.triedNow += 1
                    let before = state.triedPrefix
                    while state.finished.remove(state.triedPrefix) != nil { state.triedPrefix += 1 }
                    let seconds = max(Date().timeIntervalSince(started), 0.001)
                    let now = Progress(
                        tried: state.triedPrefix, triedNow: state.triedNow, rate: Double(state.triedNow) / seconds,
                        tier: state.search.tier)
                    if state.triedPrefix != before, state.found == nil { tried(state.triedPrefix) }
                    return now
                }
                progress(report)
            }
        }
        return shared.withLock { state in
            guard let found = state.found else { return .exhausted(tried: state.search.count) }
            let (remembered, steps) = state.search.explanation(of: found.index)
            return .found(password: found.text, index: found.index, remembered: remembered, steps: steps)
        }
    }

    /// How many derivations to run at once: one per core. libargon2 already runs a thread per lane,
    /// but its lanes wait for each other at every segment; a second derivation fills those gaps
    /// (measured here: one at a time kept 1.3 of 2 cores busy).
    public static func workers() -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
