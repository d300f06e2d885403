import Foundation

/// Statements inside one transaction of either database. The server's storage logic is written
/// once against this protocol, in SQL both SQLite and PostgreSQL accept (`?` placeholders,
/// `ON CONFLICT`, `TRUE`/`FALSE`, no database-only functions), so the two stores cannot drift
/// apart; the conformance suite runs every behaviour against both.
///
/// It is synchronous on purpose: GRDB runs a transaction as a synchronous closure on its writer,
/// and the PostgreSQL driver runs the same closure on a thread of its own pool, never on an event
/// loop or Swift's cooperative threads (``PostgreSQLDriver``).
public protocol SQLTransaction {
    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int
    /// Runs a query and returns every row.
    func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow]
}

extension SQLTransaction {
    /// Runs a statement without parameters.
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    /// The first row of a query, if any.
    public func row(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> SQLRow? {
        try rows(sql, arguments).first
    }

    /// The first column of the first row as an integer (`count(*)`, a sequence); `nil` without a row
    /// or for `NULL`.
    public func int64(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Int64? {
        guard let row = try row(sql, arguments) else { return nil }
        return try SQLRow.int64(row.first, column: row.names.first ?? "?")
    }

    /// Whether a query returns any row.
    public func exists(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Bool {
        try row(sql, arguments) != nil
    }
}
