public import Foundation
public import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// PostgreSQL through PostgresNIO, for deployments that run several `coffer-server` processes on
/// one database.
///
/// **Why transactions run on threads of their own.** The storage logic is one synchronous text
/// (``SQLTransaction``) shared with SQLite, whose GRDB transactions are synchronous closures. Here
/// each transaction leases a connection from `PostgresClient`'s pool and runs on a thread of a
/// pool sized like the connection pool, waiting for each statement's answer there. Those threads
/// do nothing else, so waiting never blocks an event loop or Swift's cooperative threads, and at
/// most `maximumConnections` transactions are in flight, as the pool allows anyway.
///
/// **Why serializable.** Write transactions run at `SERIALIZABLE`: several server processes push
/// to one account at once, and a push reads the account's last sequence number, then writes the
/// next ones. PostgreSQL aborts one of two such transactions that would otherwise both read the
/// same number, and the driver runs the aborted one again from the start; so no two writes ever
/// get one sequence number and a manifest's compare-and-set is never lost, with the same SQL that
/// SQLite runs under its single writer.
public final class PostgreSQLDriver: SQLDriver {
    private let configuration: PostgresClient.Configuration
    private let maximumConnections: Int
    private let logger: Logger
    /// The pool and the transaction threads while ``withConnections(_:)`` runs.
    private let connections = Mutex<Connections?>(nil)
    /// Where the database is, for the listening connection.
    private let address: PostgreSQLAddress
    /// Where the database is, for messages (never the password).
    private let place: String
    /// The database's name.
    let databaseName: String

    /// A connection pool and the threads transactions run on, for one ``withConnections(_:)``.
    private struct Connections: Sendable {
        let client: PostgresClient
        let threads: NIOThreadPool
    }

    /// How many connections (and transaction threads) one server process uses at most.
    public static let defaultMaximumConnections = 16
    /// How often a transaction PostgreSQL aborted for a conflict is run again before giving up.
    static let attemptsPerTransaction = 25

    /// A driver for the database at `address`; it connects in ``withConnections(_:)``.
    public init(address: PostgreSQLAddress, maximumConnections: Int = defaultMaximumConnections, logger: Logger) {
        var configuration: PostgresClient.Configuration
        if let socket = address.socketDirectory {
            configuration = PostgresClient.Configuration(
                unixSocketPath: socket + "/.s.PGSQL.\(address.port)", username: address.user,
                password: address.password, database: address.database)
        } else {
            let tls: PostgresClient.Configuration.TLS =
                switch address.tls {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = PostgresClient.Configuration(
                host: address.host, port: address.port, username: address.user, password: address.password,
                database: address.database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.logger = logger
        self.address = address
        place = address.description
        databaseName = address.database
    }

    /// Implements ``SQLDriver/withConnections(_:)``: a connection pool (PostgresNIO's
    /// `PostgresClient`) and the transaction threads run for as long as `body` does; a nested call
    /// uses the ones already running.
    public func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let fresh = Connections(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger),
            threads: NIOThreadPool(numberOfThreads: maximumConnections))
        let installed = connections.withLock { current in
            guard current == nil else { return false }
            current = fresh
            return true
        }
        guard installed else { return try await body() }
        fresh.threads.start()
        defer {
            connections.withLock { $0 = nil }
            fresh.threads.shutdownGracefully { _ in }
        }
        // A child task, so it runs where `body` runs (a caller's task executor too); cancelled when
        // `body` is done, it closes its connections and returns once none is leased. The services
        // that lease connections have all stopped by then; the change listener leases none.
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await fresh.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Implements ``SQLDriver/runMaintenance()``: PostgreSQL needs none from the server.
    public func runMaintenance() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// Implements ``SQLDriver/checkIdentity()``: a server-side database has no file to lose.
    public func checkIdentity() throws {}

    /// Implements ``SQLDriver/write(_:)``: `SERIALIZABLE`, run again on a serialization failure or a
    /// deadlock after a short random wait that grows with each attempt, so writers that collided do
    /// not collide again in step.
    public func write<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await serializableWrite(turnOf: nil, body)
    }

    /// Implements ``SQLDriver/write(serializingAccount:_:)``: after a first attempt that collided, a
    /// session-level advisory lock on the account is taken *before* `BEGIN`, so the transaction's
    /// snapshot already sees the previous holder's commit and does not conflict with it; the lock is
    /// released after `COMMIT`.
    public func write<T: Sendable>(
        serializingAccount account: UUID, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        try await serializableWrite(turnOf: Self.lockKey(account), body)
    }

    /// The advisory lock key of an account: 64 bits of its id. Two accounts sharing one only wait
    /// for each other.
    static func lockKey(_ account: UUID) -> Int64 {
        withUnsafeBytes(of: account.uuid) { $0.loadUnaligned(as: Int64.self) }
    }

    private func serializableWrite<T: Sendable>(
        turnOf lock: Int64?, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        for attempt in 1...Self.attemptsPerTransaction {
            do {
                // Optimistic first: most writes meet no other writer of their account. Only one that
                // already collided waits its turn, so a busy account's writers stop aborting each
                // other, while a connection is never held waiting for a lock it did not need.
                return try await transaction(
                    "BEGIN ISOLATION LEVEL SERIALIZABLE", holding: attempt == 1 ? nil : lock, body)
            } catch let error as PSQLError where Self.isConflict(error) {
                Counter(label: ServerMetrics.databaseConflictRetries).increment()
                let ceiling = min(100, 1 << min(attempt, 7))
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            }
        }
        throw StorageFailure.unavailable(
            "PostgreSQL at \(place) aborted one transaction \(Self.attemptsPerTransaction) times for conflicting writers"
        )
    }

    /// Implements ``SQLDriver/read(_:)``: one snapshot, read-only.
    public func read<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Runs `body` between `begin` and `COMMIT` on a leased connection, on a transaction thread,
    /// holding the advisory lock `lock` (if any) from before `begin` until after the end.
    private func transaction<T: Sendable>(
        _ begin: String, holding lock: Int64? = nil, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        let logger = logger
        let connections = try running()
        let lease = LeaseWait()
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await connections.client.withConnection { connection in
                        // A transaction starts only if its wait for a connection has not been given up.
                        guard lease.acquire() else { throw CancellationError() }
                        return try await connections.threads.runIfActive {
                            let transaction = PostgreSQLTransaction(connection: connection, logger: logger)
                            if let lock { try transaction.execute("SELECT pg_advisory_lock(?)", [lock]) }
                            defer { if let lock { transaction.releaseAdvisoryLock(lock) } }
                            try transaction.execute(begin)
                            do {
                                let value = try body(transaction)
                                try transaction.execute("COMMIT")
                                return value
                            } catch {
                                _ = try? transaction.execute("ROLLBACK")
                                throw error
                            }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.connectionWait)
                    // Only the wait for a connection is bounded: a transaction under way always ends by
                    // itself, so an answer never says "failed" about a write that committed.
                    guard lease.giveUp() else { return nil }
                    throw self.unreachable
                }
                while let value = try await group.next() {
                    if let value {
                        group.cancelAll()
                        return value
                    }
                }
                throw CancellationError()
            }
        } catch let error as PSQLError where Self.isConflict(error) {
            throw error
        } catch {
            throw failure(error)
        }
    }

    /// Implements ``SQLDriver/pullHead(accessHash:now:)`` as one statement on a pooled connection,
    /// without a transaction around it (a single statement sees one state) and without a hop to a
    /// transaction thread: most requests a server gets are devices asking whether anything changed.
    public func pullHead(accessHash: Data, now: Date) async throws -> PullHead? {
        let connections = try running()
        let query = try PostgreSQLTransaction.query(PullHead.sql, [accessHash, now])
        let logger = logger
        do {
            // Read-only, so giving up the wait is harmless whenever it happens.
            return try await withThrowingTaskGroup(of: PullHead?.self) { group in
                group.addTask {
                    let rows = try await connections.client.query(query, logger: logger)
                    for try await row in rows { return try PullHead.make(try PostgreSQLTransaction.row(row)) }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: Self.connectionWait)
                    throw self.unreachable
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
        } catch {
            throw failure(error)
        }
    }

    /// The pool and threads of the ``withConnections(_:)`` under way.
    private func running() throws -> Connections {
        guard let connections = connections.withLock({ $0 }) else {
            throw StorageFailure.unavailable("PostgreSQL at \(place) is used outside withConnections")
        }
        return connections
    }

    /// No connection came within ``connectionWait``.
    private var unreachable: StorageFailure {
        .unavailable("PostgreSQL at \(place) cannot be reached (no connection within \(Self.connectionWait))")
    }

    /// How long a transaction waits for a connection before the request fails with 503 (the pool
    /// keeps trying to connect meanwhile).
    static let connectionWait: Duration = .seconds(10)

    /// The channel change announcements travel on.
    static let announcementChannel = "coffer_changes"

    /// Implements ``SQLDriver/announce(_:)`` with `NOTIFY`: every server process listening on the
    /// database hears it.
    public func announce(_ payload: String) async throws {
        _ = try await transaction("BEGIN") { db in
            try db.execute("SELECT pg_notify(?, ?)", [Self.announcementChannel, payload])
        }
    }

    /// Implements ``SQLDriver/receiveAnnouncements(_:)`` with `LISTEN` on a connection of its own,
    /// outside the pool, opened again (after a growing pause, at most 5 s) whenever it breaks.
    ///
    /// Not a pooled connection: after the database restarted, a pool could leave the listener
    /// waiting for a connection for good, and with it live sync and the server's shutdown.
    public func receiveAnnouncements(_ deliver: @escaping @Sendable (String) async -> Void) async {
        var pause = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try listenerConfiguration(), id: 0, logger: logger)
                do {
                    try await connection.listen(on: Self.announcementChannel) { notifications in
                        pause = .milliseconds(100)
                        for try await notification in notifications { await deliver(notification.payload) }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch  where !Task.isCancelled {
                logger.warning(
                    "listening for change announcements failed; listening again",
                    metadata: ["error.type": "\(type(of: error))"])
            } catch {}
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }

    /// The listening connection's settings: the pool's address, credentials and TLS.
    private func listenerConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socket = address.socketDirectory {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: socket + "/.s.PGSQL.\(address.port)", username: address.user,
                password: address.password, database: address.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS =
                switch address.tls {
                case .disable: .disable
                case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                }
            configuration = PostgresConnection.Configuration(
                host: address.host, port: address.port, username: address.user, password: address.password,
                database: address.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// Implements ``SQLDriver/migrate()``: the migrations this version has and the database lacks,
    /// in one transaction under an advisory lock, so instances starting together migrate once.
    public func migrate() async throws {
        try await transaction("BEGIN") { db in
            try db.execute("SELECT pg_advisory_xact_lock(\(PostgreSQLSchema.migrationLock))")
            try db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (identifier text PRIMARY KEY, applied_at timestamptz NOT NULL)"
            )
            let applied = Set(
                try db.rows("SELECT identifier FROM schema_migrations", []).map { try $0.text("identifier") })
            let known = Set(PostgreSQLSchema.migrations.map(\.name))
            guard applied.isSubset(of: known) else { throw SchemaTooNew() }
            for migration in PostgreSQLSchema.migrations where !applied.contains(migration.name) {
                for statement in migration.statements { try db.execute(statement) }
                try db.execute(
                    "INSERT INTO schema_migrations (identifier, applied_at) VALUES (?, ?)", [migration.name, Date()])
            }
        }
    }

    /// Whether PostgreSQL aborted a transaction only because another one conflicted with it.
    static func isConflict(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// What an operator must know about a failure; the storage's own errors pass unchanged.
    private func failure(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        switch error.serverInfo?[.sqlState] {
        case "53100"?: return StorageFailure.full
        case "25006"?: return StorageFailure.readOnly
        case let state?:
            return StorageFailure.unavailable(
                "PostgreSQL at \(place) answered \(state): \(error.serverInfo?[.message] ?? "no message")")
        case nil:
            return StorageFailure.unavailable("PostgreSQL at \(place) cannot be reached (\(error.code))")
        }
    }
}

/// ``SQLTransaction`` on a leased PostgresNIO connection, waited on from a transaction thread.
struct PostgreSQLTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger

    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        let result = try connection.query(try Self.query(sql, arguments), logger: logger).wait()
        return result.metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
        let result = try connection.query(try Self.query(sql, arguments), logger: logger).wait()
        return try result.map(Self.row)
    }

    /// Releases a session-level advisory lock. A connection that cannot is closed (which releases
    /// it): returned to the pool still holding it, it would stall that account's writers for good.
    func releaseAdvisoryLock(_ lock: Int64) {
        if (try? execute("SELECT pg_advisory_unlock(?)", [lock])) == nil {
            try? connection.close().wait()
        }
    }

    /// A PostgresNIO row as an ``SQLRow``.
    static func row(_ row: PostgresRow) throws -> SQLRow {
        var names: [String] = []
        var values: [SQLValue] = []
        for cell in row {
            names.append(cell.columnName)
            values.append(try value(cell))
        }
        return SQLRow(names: names, values: values)
    }

    /// The statement with `?` placeholders numbered as PostgreSQL wants (`$1`, `$2`, …), quoted
    /// text left alone, and the values bound in their PostgreSQL types.
    static func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.sqlValue {
            case .null: bindings.appendNull()
            case .integer(let number): bindings.append(number)
            case .text(let value): bindings.append(value)
            case .bytes(let bytes): try bindings.append(bytes)
            case .uuid(let id): bindings.append(id)
            case .timestamp(let date): bindings.append(date)
            case .boolean(let flag): bindings.append(flag)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .boolean(try cell.decode(Bool.self))
        case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
        case .bytea: return .bytes(try cell.decode(Data.self))
        case .uuid: return .uuid(try cell.decode(UUID.self))
        case .timestamptz, .timestamp: return .timestamp(try cell.decode(Date.self))
        default: throw SQLReadError(column: cell.columnName, expected: "a type the server stores")
        }
    }
}

/// Whether a transaction got its connection or its wait was given up first; exactly one wins.
private final class LeaseWait: Sendable {
    private enum State { case waiting, acquired, givenUp }
    private let state = Mutex(State.waiting)

    /// The connection arrived; `false` when the wait was already given up.
    func acquire() -> Bool {
        state.withLock { current in
            guard current == .waiting else { return false }
            current = .acquired
            return true
        }
    }

    /// The wait is over; `false` when the connection arrived first.
    func giveUp() -> Bool {
        state.withLock { current in
            guard current == .waiting else { return false }
            current = .givenUp
            return true
        }
    }
}
