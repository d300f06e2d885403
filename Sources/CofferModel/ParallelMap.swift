import Dispatch
import Foundation

/// Runs an independent step over many values on every core: checking, opening and sealing items are
/// each dominated by per-item crypto and JSON, so a large vault unlocks and imports in a fraction of
/// the time one thread takes.
public enum ParallelMap {
    /// Below this many values the threads cost more than they save.
    public static let threshold = 1000

    /// `values.map(transform)`, in order, spread over the cores from `threshold` values on (lower it
    /// for a step that is heavy on each value, like compressing a megabyte); the error of the first
    /// chunk (in order) that threw is the one rethrown, and nothing is returned.
    ///
    /// Each worker writes its outputs straight into the result, so an output is never copied: a copy
    /// of an item retains and releases each of its few dozen references, which at 100,000 items was
    /// a tenth of reading an import's items.
    public static func map<Value: Sendable, Output: Sendable, Failure: Error>(
        _ values: [Value], threshold: Int = threshold, _ transform: @Sendable (Value) throws(Failure) -> Output
    ) throws(Failure) -> [Output] {
        guard values.count > threshold else { return try values.map(transform) }
        let chunkCount = ProcessInfo.processInfo.activeProcessorCount * 4
        let chunkSize = (values.count + chunkCount - 1) / chunkCount
        let progress = ChunkProgress<Failure>(chunkCount: chunkCount, chunkSize: chunkSize)
        let outputs = [Output](unsafeUninitializedCapacity: values.count) { buffer, initializedCount in
            let slots = DisjointSlots(buffer)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let start = chunk * chunkSize
                let end = min(start + chunkSize, values.count)
                var position = start
                do throws(Failure) {
                    while position < end {
                        slots.initialize(position, to: try transform(values[position]))
                        position += 1
                    }
                    progress.finish(chunk, initializedUpTo: position, failure: nil)
                } catch {
                    progress.finish(chunk, initializedUpTo: position, failure: error)
                }
            }
            if progress.firstFailure == nil {
                initializedCount = values.count
            } else {
                // Nothing is returned: every output made so far is destroyed, chunk by chunk.
                for (start, end) in progress.initializedRanges where end > start {
                    (buffer.baseAddress! + start).deinitialize(count: end - start)
                }
                initializedCount = 0
            }
        }
        if let failure = progress.firstFailure { throw failure }
        return outputs
    }
}

/// The result's storage, shared by the workers of ``ParallelMap/map(_:_:)``.
///
/// `@unchecked Sendable` is sound: each worker initializes only the positions of its own chunk, the
/// chunks do not overlap, and the buffer is read only after `concurrentPerform` has returned.
private struct DisjointSlots<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>

    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }

    func initialize(_ position: Int, to element: consuming Element) {
        (buffer.baseAddress! + position).initialize(to: element)
    }
}

/// How far each chunk got, and the error it stopped at.
///
/// `@unchecked Sendable` is sound: `ends` and `failures` are only read or written under `lock`.
private final class ChunkProgress<Failure: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private let chunkSize: Int
    private var ends: [Int]
    private var failures: [Failure?]

    init(chunkCount: Int, chunkSize: Int) {
        self.chunkSize = chunkSize
        ends = (0..<chunkCount).map { $0 * chunkSize }
        failures = Array(repeating: nil, count: chunkCount)
    }

    func finish(_ chunk: Int, initializedUpTo end: Int, failure: Failure?) {
        lock.withLock {
            ends[chunk] = end
            failures[chunk] = failure
        }
    }

    /// The error of the first chunk, in order, that threw.
    var firstFailure: Failure? { lock.withLock { failures.lazy.compactMap { $0 }.first } }

    /// Each chunk's initialized positions, as (start, end).
    var initializedRanges: [(Int, Int)] { lock.withLock { ends.indices.map { ($0 * chunkSize, ends[$0]) } } }
}
