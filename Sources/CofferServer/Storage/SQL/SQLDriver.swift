public import CofferAPI
public import Foundation

/// A database the server's storage runs on: SQLite through GRDB (``SQLiteDriver``, the embedded
/// default) or PostgreSQL through PostgresNIO (``PostgreSQLDriver``, for several server processes).
/// Drivers own connections, transactions, migrations and failure mapping; what the server stores
/// and how lives once, in ``RelationalServerStorage``.
public protocol SQLDriver: Sendable {
    /// Creates or upgrades the schema; refuses a database a newer server migrated further.
    func migrate() async throws
    /// Runs `body` in a write transaction; the driver retries it when the database asks for that
    /// (PostgreSQL's serialization failures), so `body` must only touch the database.
    func write<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T
    /// ``write(_:)`` for a transaction that changes `account`'s sequence, manifest or keys: when such
    /// transactions of one account collide, they then run one after the other (PostgreSQL: an
    /// advisory lock taken before the transaction begins again), so many devices of one account
    /// pushing at once through several servers wait their turn instead of aborting each other until
    /// the retry budget runs out.
    func write<T: Sendable>(
        serializingAccount account: UUID, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T
    /// Runs `body` in a read-only transaction that sees one consistent state.
    func read<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T
    /// Throws when the database is not the one opened (a SQLite file deleted or swapped).
    func checkIdentity() throws
    /// Runs `body` while the driver's connections are up (PostgreSQL's pool runs beside it).
    func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
    /// Background upkeep while the server runs (SQLite: checkpoints); returns when cancelled.
    func runMaintenance() async
    /// Tells every server process on this database `payload` (a change announcement, after its
    /// transaction committed). At most a few hundred bytes.
    func announce(_ payload: String) async throws
    /// Hands every announcement made on this database to `deliver`, until cancelled; reconnects on
    /// its own after the database went away.
    func receiveAnnouncements(_ deliver: @escaping @Sendable (String) async -> Void) async
    /// The answer to a device asking whether anything changed, by the quickest path the driver has;
    /// `nil` when the access token is unknown, expired or revoked.
    func pullHead(accessHash: Data, now: Date) async throws -> PullHead?
}

/// What a pull needs before it reads records: whose token it is and where the account stands.
public struct PullHead: Sendable {
    /// The account.
    public var accountID: UUID
    /// The account's last write sequence.
    public var lastSequence: Int64
    /// The published manifest, if any.
    public var manifest: WireManifest?
    /// When the operator last restored the server, if ever.
    public var restoredAt: Date?

    /// The statement every driver can run for it.
    static let sql = """
        SELECT a.id, a.last_sequence, a.manifest_counter, a.manifest_sequence, a.manifest_blob, a.restored_at
        FROM access_tokens t
        JOIN devices d ON d.account_id = t.account_id AND d.id = t.device_id AND d.revoked = FALSE
        JOIN accounts a ON a.id = t.account_id
        WHERE t.token_hash = ? AND t.expires_at > ?
        """

    /// Reads it inside a transaction.
    static func read(_ db: any SQLTransaction, accessHash: Data, now: Date) throws -> PullHead? {
        try db.row(sql, [accessHash, now]).map(make)
    }

    /// The head from the statement's row.
    static func make(_ row: SQLRow) throws -> PullHead {
        let manifest = try row.optionalBytes("manifest_blob").map {
            WireManifest(
                counter: try row.int64("manifest_counter"), sequence: try row.int64("manifest_sequence"), blob: $0)
        }
        return PullHead(
            accountID: try row.uuid("id"), lastSequence: try row.int64("last_sequence"), manifest: manifest,
            restoredAt: try row.optionalDate("restored_at"))
    }
}

extension SQLDriver {
    /// A driver whose writers never run at once (SQLite) needs nothing more than ``write(_:)``.
    public func write<T: Sendable>(
        serializingAccount account: UUID, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        try await write(body)
    }

    /// The statement run in a read transaction; drivers with a faster path override it.
    public func pullHead(accessHash: Data, now: Date) async throws -> PullHead? {
        try await read { db in try PullHead.read(db, accessHash: accessHash, now: now) }
    }
}
