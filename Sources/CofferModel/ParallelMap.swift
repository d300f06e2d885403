import Dispatch
import Foundation

/// Runs an independent step over many values on every core: checking, opening and sealing items are
/// each dominated by per-item crypto and JSON, so a large vault unlocks and imports in a fraction of
/// the time one thread takes.
public enum ParallelMap {
    /// Below this many values the threads cost more than they save.
    public static let threshold = 1000

    /// `values.map(transform)`, in order, spread over the cores when there are many values; the
    /// first error thrown stops nothing already running but is the one rethrown.
    public static func map<Value: Sendable, Output: Sendable, Failure: Error>(
        _ values: [Value], _ transform: @Sendable (Value) throws(Failure) -> Output
    ) throws(Failure) -> [Output] {
        guard values.count > threshold else { return try values.map(transform) }
        let chunkCount = ProcessInfo.processInfo.activeProcessorCount * 4
        let chunkSize = (values.count + chunkCount - 1) / chunkCount
        let results = ChunkResults<Output, Failure>(count: chunkCount)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let start = chunk * chunkSize
            let end = min(start + chunkSize, values.count)
            guard start < end else { return results.store(chunk, .success([])) }
            do throws(Failure) {
                results.store(chunk, .success(try values[start..<end].map(transform)))
            } catch {
                results.store(chunk, .failure(error))
            }
        }
        return try results.collect()
    }
}

/// Per-chunk results written by concurrent workers.
///
/// `@unchecked Sendable` is sound: `slots` is only read or written under `lock`.
private final class ChunkResults<Value: Sendable, Failure: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<[Value], Failure>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<[Value], Failure>) {
        lock.withLock { slots[index] = result }
    }

    func collect() throws(Failure) -> [Value] {
        let all = lock.withLock { slots }
        var values: [Value] = []
        values.reserveCapacity(all.reduce(0) { $0 + ((try? $1?.get())?.count ?? 0) })
        for slot in all {
            if let slot { values += try slot.get() }
        }
        return values
    }
}
