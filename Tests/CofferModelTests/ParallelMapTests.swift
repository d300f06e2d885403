import CofferModel
import Foundation
import Synchronization
import Testing

/// `ParallelMap` writes each output straight into the result from the worker that made it; these
/// check the order, the error it reports, and that a failure leaves no output alive.
@Suite("ParallelMap")
struct ParallelMapTests {
    @Test("outputs come back in order, below and far above the threshold")
    func order() {
        for count in [0, 1, ParallelMap.threshold, ParallelMap.threshold + 1, 25_013] {
            let values = Array(0..<count)
            #expect(ParallelMap.map(values) { "\($0 * 3)" } == values.map { "\($0 * 3)" })
        }
        // Spread from the first value: fewer values than chunks leaves some chunks empty.
        for count in [2, 3, 7, 41] {
            let values = Array(0..<count)
            #expect(ParallelMap.map(values, threshold: 1) { "\($0 * 3)" } == values.map { "\($0 * 3)" })
        }
    }

    @Test("the error of the first failing chunk is rethrown, and every output made before it is destroyed")
    func failureDestroysOutputs() {
        let live = LiveCount()
        let values = Array(0..<20_000)
        // Several chunks fail; the one at the lowest position is the one reported.
        let failing: Set = [19_500, 7_321, 12_000]
        #expect(throws: Failure(position: 7_321)) {
            _ = try ParallelMap.map(values) { (value: Int) throws(Failure) -> Tracked in
                if failing.contains(value) { throw Failure(position: value) }
                return Tracked(live)
            }
        }
        #expect(live.count == 0)
        // And without a failure every output is alive until the result is dropped.
        do {
            let outputs = ParallelMap.map(values) { _ in Tracked(live) }
            #expect(outputs.count == values.count)
            #expect(live.count == values.count)
        }
        #expect(live.count == 0)
    }

    struct Failure: Error, Equatable {
        let position: Int
    }

    /// How many ``Tracked`` instances are alive.
    final class LiveCount: Sendable {
        private let value = Atomic<Int>(0)
        var count: Int { value.load(ordering: .sequentiallyConsistent) }
        func add(_ delta: Int) { value.add(delta, ordering: .sequentiallyConsistent) }
    }

    /// An output that counts itself in ``LiveCount`` while it is alive.
    final class Tracked: Sendable {
        private let live: LiveCount

        init(_ live: LiveCount) {
            self.live = live
            live.add(1)
        }

        deinit { live.add(-1) }
    }
}
