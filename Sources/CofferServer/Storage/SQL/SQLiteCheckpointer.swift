import Foundation
import GRDBSQLite
import Synchronization

/// Moves the write-ahead log into the database file in the background, on a connection of its own.
///
/// By default SQLite does this inside whichever commit crosses 1,000 log pages, and that commit then
/// waits for the copy and its fsync: under load that one request takes tens of milliseconds. The
/// server turns automatic checkpoints off on its connections and runs a passive checkpoint here
/// every second instead, which never blocks a writer or a reader.
final class SQLiteCheckpointer: Sendable {
    private let path: String
    private let database = Mutex<OpaquePointer?>(nil)

    init(path: String) { self.path = path }

    deinit {
        database.withLock { sqlite3_close_v2($0) }
    }

    /// Runs one passive checkpoint; failures are left for the next run (the log keeps everything).
    func checkpoint() {
        database.withLock { connection in
            if connection == nil {
                guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK
                else {
                    sqlite3_close_v2(connection)
                    connection = nil
                    return
                }
            }
            _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
    }

    /// Checkpoints every `interval` until the task is cancelled.
    func run(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            checkpoint()
            try? await Task.sleep(for: interval)
        }
    }
}
