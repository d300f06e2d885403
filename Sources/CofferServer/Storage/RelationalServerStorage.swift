import CofferAPI
public import Foundation

/// Everything the server stores, written once in SQL that SQLite and PostgreSQL both run
/// (``SQLTransaction``), on the database a ``SQLDriver`` provides. Each method is one transaction,
/// so a crash leaves the state before or after it, never between.
public final class RelationalServerStorage: ServerStorage {
    let driver: any SQLDriver

    /// Storage on `driver`'s database.
    public init(driver: any SQLDriver) {
        self.driver = driver
    }

    /// The embedded default: `coffer.sqlite` in `directory`.
    public static func sqlite(directory: URL) throws -> RelationalServerStorage {
        RelationalServerStorage(driver: try SQLiteDriver(directory: directory))
    }

    /// Implements ``StorageConnection/migrate()``.
    public func migrate() async throws {
        try await driver.migrate()
    }

    /// Implements ``StorageConnection/withConnections(_:)``.
    public func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await driver.withConnections(body)
    }

    /// Implements ``StorageConnection/checkReadiness()``: the database is still the one opened, and a
    /// write commits — so a full disk or a read-only database takes the server out of rotation.
    public func checkReadiness() async throws {
        try driver.checkIdentity()
        try await write { db in
            try db.execute(
                """
                INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                """, [Date()])
        }
    }

    /// Implements ``StorageConnection/runMaintenance()``.
    public func runMaintenance() async {
        await driver.runMaintenance()
    }

    /// A write transaction.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await driver.write(body)
    }

    /// A write transaction that changes `account`'s sequence, manifest or keys; see
    /// ``SQLDriver/write(serializingAccount:_:)``.
    @discardableResult
    func write<T: Sendable>(
        account: UUID, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        try await driver.write(serializingAccount: account, body)
    }

    /// A read transaction.
    func read<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await driver.read(body)
    }
}
