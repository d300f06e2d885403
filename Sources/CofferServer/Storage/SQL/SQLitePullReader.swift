import CofferAPI
import Foundation
import GRDBSQLite
import Synchronization

/// The one statement that answers most requests a server gets — a device asking whether anything
/// changed — on its own SQLite connections, kept open with the statement prepared.
///
/// Through GRDB's pool, that statement's cost was mostly the pool's bookkeeping (dispatch queues,
/// locks, schema checks) rather than SQLite's; here it is a lock, a bind and a step. It is a
/// single statement, so it sees one consistent state without a transaction. Everything else —
/// writes, and pulls that return records — goes through GRDB as usual.
final class SQLitePullReader: Sendable {
    /// One connection and its lock.
    final class Slot: Sendable {
        let connection = Mutex<Connection?>(nil)
    }

    private let path: String
    private let slots: [Slot]

    /// Readers for the database at `path`, opened on first use (after migrations ran).
    init(path: String, count: Int = 2) {
        self.path = path
        slots = (0..<max(1, count)).map { _ in Slot() }
    }

    /// The account of the unexpired, unrevoked access token `accessHash`, with its last write
    /// sequence and manifest; `nil` when the token is unknown, expired or revoked.
    func find(accessHash: Data, now: String) throws -> PullHead? {
        // Take a free connection if there is one; else wait for the first.
        for slot in slots {
            if let found = try slot.connection.withLockIfAvailable({ try Self.use(&$0, path: path, accessHash, now) }) {
                return found
            }
        }
        return try slots[0].connection.withLock { try Self.use(&$0, path: path, accessHash, now) }
    }

    private static func use(_ slot: inout Connection?, path: String, _ hash: Data, _ now: String) throws -> PullHead? {
        if slot == nil { slot = try Connection(path: path) }
        guard let connection = slot else { return nil }
        return try connection.find(accessHash: hash, now: now)
    }

    /// An open connection and its prepared statement; used only under its slot's lock.
    final class Connection {
        private var database: OpaquePointer?
        private var statement: OpaquePointer?

        init(path: String) throws {
            guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
                sqlite3_busy_timeout(database, 10_000) == SQLITE_OK,
                sqlite3_prepare_v3(database, PullHead.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
                    == SQLITE_OK
            else {
                let reason = database.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                sqlite3_finalize(statement)
                sqlite3_close_v2(database)
                throw StorageFailure.unavailable(reason)
            }
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(database)
        }

        func find(accessHash: Data, now: String) throws -> PullHead? {
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            _ = accessHash.withUnsafeBytes { bytes in
                sqlite3_bind_blob(statement, 1, bytes.baseAddress, Int32(bytes.count), transient)
            }
            _ = sqlite3_bind_text(statement, 2, now, -1, transient)
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                guard let account = UUID(uuidString: String(cString: sqlite3_column_text(statement, 0))) else {
                    throw StorageFailure.unavailable("an account id in the database is not an id")
                }
                var manifest: WireManifest?
                if sqlite3_column_type(statement, 4) != SQLITE_NULL {
                    let count = Int(sqlite3_column_bytes(statement, 4))
                    let blob = sqlite3_column_blob(statement, 4).map { Data(bytes: $0, count: count) } ?? Data()
                    manifest = WireManifest(
                        counter: sqlite3_column_int64(statement, 2), sequence: sqlite3_column_int64(statement, 3),
                        blob: blob)
                }
                let restoredAt =
                    sqlite3_column_type(statement, 5) == SQLITE_NULL
                    ? nil : StoredTimestamp.date(String(cString: sqlite3_column_text(statement, 5)))
                return PullHead(
                    accountID: account, lastSequence: sqlite3_column_int64(statement, 1), manifest: manifest,
                    restoredAt: restoredAt)
            case SQLITE_DONE:
                return nil
            case let code:
                throw StorageFailure.unavailable("SQLite error \(code)")
            }
        }
    }
}
