import CofferModel
import CofferStore
import CofferVault
import Dispatch
import Foundation

/// Opens many sealed records on every core: unlocking a large vault is dominated by decryption and
/// decoding, which are independent per record.
enum ParallelOpener {
    static func open(_ records: [SealedItem], with keyring: Keyring) throws -> [Item] {
        guard records.count > 1000 else { return try records.map { try keyring.open($0) } }
        let chunkCount = ProcessInfo.processInfo.activeProcessorCount * 4
        let chunkSize = (records.count + chunkCount - 1) / chunkCount
        let results = ChunkResults(count: chunkCount)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let start = chunk * chunkSize
            let end = min(start + chunkSize, records.count)
            guard start < end else { return results.store(chunk, .success([])) }
            do {
                results.store(chunk, .success(try records[start..<end].map { try keyring.open($0) }))
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
private final class ChunkResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<[Item], any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<[Item], any Error>) {
        lock.withLock { slots[index] = result }
    }

    func collect() throws -> [Item] {
        let all = lock.withLock { slots }
        var items: [Item] = []
        for slot in all {
            if let slot { items += try slot.get() }
        }
        return items
    }
}
