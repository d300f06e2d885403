public import CofferAPI
public import Foundation

/// The database behind every repository: schema, readiness, upkeep and connections.
public protocol StorageConnection: Sendable {
    /// Creates or upgrades the schema (versioned, append-only migrations).
    func migrate() async throws
    /// Throws when the database cannot answer; backs `/health/ready`.
    func checkReadiness() async throws
    /// Background upkeep the storage needs while the server runs (SQLite: moving the write-ahead log
    /// into the database file); returns when the task is cancelled.
    func runMaintenance() async
    /// Runs `body` while the storage's connections are up: every use of the storage happens inside
    /// it (PostgreSQL's connection pool runs beside `body` and closes after it).
    func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
}

/// The database was migrated by a newer coffer-server than this one.
public struct SchemaTooNew: Error, CustomStringConvertible {
    /// What to do about it.
    public var description: String {
        "This database was upgraded by a newer coffer-server. Start that version, or restore the backup made before the upgrade (docs/operations.md, \"Upgrading the server\")."
    }
}
