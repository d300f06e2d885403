public import Foundation
import GRDB
import Synchronization

/// The embedded default: one SQLite file in the data directory, through GRDB.
public final class SQLiteDriver: SQLDriver {
    private let database: DatabasePool
    private let path: String
    private let pullReader: SQLitePullReader
    /// Checkpoints the write-ahead log off the request path; run by ``runMaintenance()``.
    private let checkpointer: SQLiteCheckpointer
    /// The file's identity when it was opened: a database deleted or swapped underneath the server
    /// would otherwise go on "working" on an unlinked file.
    private let inode: UInt64?

    /// The database's file name inside the data directory.
    public static let databaseFileName = "coffer.sqlite"

    /// Opens (creating if needed) `coffer.sqlite` in `directory`, owner-only.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // Checkpoints happen in the background (SQLiteCheckpointer), not inside a request's commit.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        path = directory.appendingPathComponent(Self.databaseFileName).path
        database = try DatabasePool(path: path, configuration: configuration)
        pullReader = SQLitePullReader(path: path)
        checkpointer = SQLiteCheckpointer(path: path)
        inode = Self.inode(of: path)
    }

    private static func inode(of path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value
    }

    /// Implements ``SQLDriver/migrate()`` with GRDB's migrator. A database a newer server has
    /// migrated further is refused rather than used with a schema this version does not know.
    public func migrate() async throws {
        let superseded: Bool
        do {
            superseded = try await database.read { try SQLiteSchema.migrator.hasBeenSuperseded($0) }
        } catch {
            throw Self.failure(error)
        }
        if superseded { throw SchemaTooNew() }
        do {
            try SQLiteSchema.migrator.migrate(database)
        } catch {
            throw Self.failure(error)
        }
    }

    /// The names of the migrations this version knows, in order.
    static var migrationNames: [String] { SQLiteSchema.migrator.migrations }

    /// Implements ``SQLDriver/checkIdentity()``: the file is still the one opened.
    public func checkIdentity() throws {
        guard let inode, Self.inode(of: path) == inode else { throw StorageFailure.fileMissing(path: path) }
    }

    /// Implements ``SQLDriver/withConnections(_:)``: GRDB opens connections as needed.
    public func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }

    /// Implements ``SQLDriver/runMaintenance()``: background checkpoints for as long as it runs.
    public func runMaintenance() async {
        await checkpointer.run()
    }

    /// Implements ``SQLDriver/write(_:)`` on GRDB's single writer.
    public func write<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        do {
            return try await database.write { db in try body(GRDBTransaction(db: db)) }
        } catch {
            throw Self.failure(error)
        }
    }

    /// Implements ``SQLDriver/read(_:)`` on one of GRDB's readers (a snapshot of the write-ahead log).
    public func read<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        do {
            return try await database.read { db in try body(GRDBTransaction(db: db)) }
        } catch {
            throw Self.failure(error)
        }
    }

    /// Announcements within this process: a SQLite database has one server process.
    private let announcements = LocalAnnouncements()

    /// Implements ``SQLDriver/announce(_:)`` in this process.
    public func announce(_ payload: String) async throws {
        announcements.send(payload)
    }

    /// Implements ``SQLDriver/receiveAnnouncements(_:)`` in this process.
    public func receiveAnnouncements(_ deliver: @escaping @Sendable (String) async -> Void) async {
        let (stream, stop) = announcements.subscribe()
        defer { stop() }
        for await payload in stream { await deliver(payload) }
    }

    /// Implements ``SQLDriver/pullHead(accessHash:now:)`` with one prepared statement on its own
    /// connections (``SQLitePullReader``): the most frequent request a server gets.
    public func pullHead(accessHash: Data, now: Date) async throws -> PullHead? {
        do {
            return try pullReader.find(accessHash: accessHash, now: StoredTimestamp.text(now))
        } catch {
            throw Self.failure(error)
        }
    }

    /// Maps SQLite's failures to what an operator must know; other errors (the storage's own) pass.
    static func failure(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_FULL: return StorageFailure.full
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: return StorageFailure.readOnly
        case .SQLITE_IOERR
        where error.extendedResultCode == .SQLITE_IOERR_WRITE
            || error.extendedResultCode == .SQLITE_IOERR_FSYNC:
            return StorageFailure.full
        default: return StorageFailure.unavailable("SQLite error \(error.resultCode.rawValue)")
        }
    }
}

/// Announcements handed from whoever announces to whoever receives, in one process.
final class LocalAnnouncements: Sendable {
    private let receivers = Mutex<[UUID: AsyncStream<String>.Continuation]>([:])

    func send(_ payload: String) {
        for receiver in receivers.withLock({ Array($0.values) }) { receiver.yield(payload) }
    }

    func subscribe() -> (AsyncStream<String>, @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1024))
        let id = UUID()
        receivers.withLock { $0[id] = continuation }
        return (
            stream,
            { [weak self] in
                continuation.finish()
                self?.receivers.withLock { $0[id] = nil }
            }
        )
    }
}

/// ``SQLTransaction`` on a GRDB connection inside its transaction. Statements are cached per
/// connection, so the shared SQL is prepared once.
struct GRDBTransaction: SQLTransaction {
    let db: Database

    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let names = statement.columnNames
        return try Row.fetchAll(statement, arguments: Self.arguments(arguments)).map { row in
            SQLRow(names: names, values: row.databaseValues.map(Self.value))
        }
    }

    /// SQLite's shapes: ids as lowercase text, timestamps as GRDB's text, flags as 0 or 1.
    private static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value.sqlValue {
                case .null: .null
                case .integer(let number): number.databaseValue
                case .text(let text): text.databaseValue
                case .bytes(let bytes): bytes.databaseValue
                case .uuid(let id): id.uuidString.lowercased().databaseValue
                case .timestamp(let date): StoredTimestamp.text(date).databaseValue
                case .boolean(let flag): (flag ? 1 : 0 as Int64).databaseValue
                }
            })
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .integer(Int64(exactly: number.rounded(.towardZero)) ?? 0)
        case .string(let text): .text(text)
        case .blob(let bytes): .bytes(bytes)
        }
    }
}
