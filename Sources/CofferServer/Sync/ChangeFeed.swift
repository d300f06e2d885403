import CofferAPI
public import Foundation
import Metrics
import Synchronization

/// "Account changed, sequence N" for devices listening on `/api/v2/changes`, so an unlocked device
/// learns of another device's change at once instead of polling.
///
/// The hint carries no data and proves nothing: a device only syncs as usual when it hears one.
/// Announcements go through the database (PostgreSQL `NOTIFY`, so every server process hears every
/// change; in-process with SQLite) and come back to each process's feed, which hands them to the
/// devices of that account connected to it.
public final class ChangeFeed: Sendable {
    private let listeners = Mutex<[UUID: [UUID: AsyncStream<Int64>.Continuation]]>([:])

    /// A feed with no listeners yet.
    public init() {}

    /// A stream of the sequences announced for `accountID`, until `stop` is called.
    func subscribe(accountID: UUID) -> (stream: AsyncStream<Int64>, stop: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int64.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        listeners.withLock { $0[accountID, default: [:]][id] = continuation }
        Gauge(label: ServerMetrics.changeStreams).record(listenerCount)
        let stop: @Sendable () -> Void = { [weak self] in
            continuation.finish()
            guard let self else { return }
            listeners.withLock { all in
                all[accountID]?[id] = nil
                if all[accountID]?.isEmpty == true { all[accountID] = nil }
            }
            Gauge(label: ServerMetrics.changeStreams).record(listenerCount)
        }
        continuation.onTermination = { _ in stop() }
        return (stream, stop)
    }

    /// Hands an announcement to the account's listeners in this process.
    func deliver(accountID: UUID, sequence: Int64) {
        for continuation in listeners.withLock({ Array(($0[accountID] ?? [:]).values) }) {
            continuation.yield(sequence)
        }
    }

    /// How many devices listen in this process (for metrics and tests).
    var listenerCount: Int { listeners.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// The text of an announcement, as the database carries it.
    static func payload(accountID: UUID, sequence: Int64) -> String {
        "\(accountID.uuidString.lowercased()) \(sequence)"
    }

    /// An announcement read back; `nil` for anything else on the channel.
    static func parse(_ payload: String) -> (accountID: UUID, sequence: Int64)? {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let account = UUID(uuidString: String(parts[0])), let sequence = Int64(parts[1]),
            sequence >= 0
        else { return nil }
        return (account, sequence)
    }
}
