import Crypto
import Foundation

/// Moves a deployment's data from one database to another (SQLite to PostgreSQL, when a
/// deployment outgrows one machine): every table, in pages, then a check that the target holds
/// exactly what the source does — row counts and a SHA-256 over every row in key order, computed
/// on each side from the values as read back.
///
/// The target must be empty (migrated or not): a copy never merges into data that is there.
/// Attempt windows, the janitor's lease and the readiness probe are the running servers' own and
/// are not copied.
public struct DatabaseCopy: Sendable {
    /// What was copied, per table.
    public struct Report: Sendable {
        /// Table name and rows copied, in copy order.
        public var tables: [(name: String, rows: Int)]
        /// The checksum both sides agreed on, hex.
        public var checksum: String
    }

    /// Why a copy did not happen or did not verify; nothing in the source is ever changed.
    public enum Failure: Error, CustomStringConvertible {
        /// The target already holds data.
        case targetNotEmpty(table: String)
        /// After the copy, a table differs.
        case mismatch(table: String, source: Int, target: Int)
        /// After the copy, the contents differ although the counts agree.
        case checksumMismatch(table: String)
        /// A value could not be carried over to the target's type.
        case unconvertible(table: String, column: String)

        /// For the terminal.
        public var description: String {
            switch self {
            case .targetNotEmpty(let table):
                "The target database is not empty (\(table) has rows). Copy into a new, empty database; nothing was copied."
            case .mismatch(let table, let source, let target):
                "After the copy, \(table) has \(target) rows in the target but \(source) in the source. Drop the target database, create it again and repeat the copy; the source is unchanged."
            case .checksumMismatch(let table):
                "After the copy, the rows of \(table) differ between source and target. Drop the target database, create it again and repeat the copy; the source is unchanged."
            case .unconvertible(let table, let column):
                "A value in \(table).\(column) cannot be stored in the target's column type (the source database may have been edited by hand). Correct or remove that row in the source while its server is stopped, then drop the target database, create it again and repeat the copy. The source is unchanged."
            }
        }
    }

    /// Tables in the order they are copied (referenced ones first), with the columns that order
    /// their rows.
    static let tables: [(name: String, key: String)] = [
        ("accounts", "id"), ("devices", "account_id, id"), ("access_tokens", "token_hash"),
        ("verification_tokens", "token_hash"), ("records", "account_id, item_id"), ("account_events", "id"),
        ("email_codes", "account_id, purpose, code_hash"), ("quarantined_epochs", "account_id, epoch"),
        ("quarantined_records", "account_id, epoch, item_id"), ("quarantine_guesses", "account_id, at"),
        ("backups", "account_id, id"), ("backup_chunks", "account_id, backup_id, chunk"),
        ("pending_deletions", "id"), ("server_identity", "id"), ("mail_outbox", "id"),
    ]

    /// Rows per transaction; records and backup chunks are up to a few MiB each.
    static let pageSize = 200

    let source: any SQLDriver
    let target: any SQLDriver

    /// A copy from `source` to `target`.
    public init(from source: any SQLDriver, to target: any SQLDriver) {
        self.source = source
        self.target = target
    }

    /// Migrates both, refuses a non-empty target, copies every table and verifies it.
    public func run(progress: @Sendable (String, Int) -> Void = { _, _ in }) async throws -> Report {
        try await source.migrate()
        try await target.migrate()
        for (table, _) in Self.tables {
            let rows = try await target.read { db in try db.int64("SELECT count(*) FROM \(table)") ?? 0 }
            if rows > 0 { throw Failure.targetNotEmpty(table: table) }
        }
        let types = try await targetColumnTypes()
        var report: [(String, Int)] = []
        var checksum = SHA256()
        for (table, key) in Self.tables {
            let copied = try await copy(table: table, key: key, types: types[table] ?? [:], progress: progress)
            let sourceDigest = try await digest(of: table, key: key, on: source)
            let targetDigest = try await digest(of: table, key: key, on: target)
            guard sourceDigest.rows == targetDigest.rows else {
                throw Failure.mismatch(table: table, source: sourceDigest.rows, target: targetDigest.rows)
            }
            guard sourceDigest.hash == targetDigest.hash else { throw Failure.checksumMismatch(table: table) }
            checksum.update(data: sourceDigest.hash)
            report.append((table, copied))
        }
        let hex = checksum.finalize().map { String(format: "%02x", $0) }.joined()
        return Report(tables: report, checksum: hex)
    }

    /// The target's column types, by table and column (PostgreSQL's `information_schema`; SQLite
    /// targets keep whatever is bound).
    private func targetColumnTypes() async throws -> [String: [String: String]] {
        guard target is PostgreSQLDriver else { return [:] }
        return try await target.read { db in
            var types: [String: [String: String]] = [:]
            for row in try db.rows(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'",
                [])
            {
                types[try row.text("table_name"), default: [:]][try row.text("column_name")] = try row.text("data_type")
            }
            return types
        }
    }

    /// Copies one table a page at a time, in key order.
    private func copy(
        table: String, key: String, types: [String: String], progress: @Sendable (String, Int) -> Void
    ) async throws -> Int {
        var offset = 0
        while true {
            let start = offset
            let page = try await source.read { db in
                try db.rows("SELECT * FROM \(table) ORDER BY \(key) LIMIT ? OFFSET ?", [Self.pageSize, start])
            }
            if page.isEmpty { return offset }
            // An identity column is the target's to number; rows keep their order.
            let columns = page[0].names.filter { !(table == "account_events" && $0 == "id") }
            let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
            let values = try page.map { row in
                try columns.map { column -> SQLValue in
                    guard let converted = Self.convert(try row.value(column), to: types[column]) else {
                        throw Failure.unconvertible(table: table, column: column)
                    }
                    return converted
                }
            }
            try await target.write { db in
                for row in values { try db.execute(sql, row.map { $0 as any SQLBindable }) }
            }
            offset += page.count
            progress(table, offset)
        }
    }

    /// A value read from the source, in the shape the target's column type takes.
    static func convert(_ value: SQLValue, to type: String?) -> SQLValue? {
        switch (value, type) {
        case (.text(let text), "uuid"?): UUID(uuidString: text).map(SQLValue.uuid)
        case (.text(let text), "timestamp with time zone"?): StoredTimestamp.date(text).map(SQLValue.timestamp)
        case (.integer(let number), "boolean"?): .boolean(number != 0)
        default: value
        }
    }

    /// The row count and a SHA-256 over every row of `table`, each value in one canonical form
    /// whatever the database's type for it. Rows are hashed one by one and the row hashes sorted, so
    /// the two databases' orderings (their collations differ) do not matter.
    private func digest(of table: String, key: String, on driver: any SQLDriver) async throws -> (rows: Int, hash: Data)
    {
        var rowHashes: [Data] = []
        var offset = 0
        let skipped: Set<String> = table == "account_events" ? ["id"] : []
        while true {
            let start = offset
            let page = try await driver.read { db in
                try db.rows("SELECT * FROM \(table) ORDER BY \(key) LIMIT 1000 OFFSET ?", [start])
            }
            if page.isEmpty {
                var hash = SHA256()
                for rowHash in rowHashes.sorted(by: { $0.lexicographicallyPrecedes($1) }) { hash.update(data: rowHash) }
                return (offset, Data(hash.finalize()))
            }
            for row in page {
                var hash = SHA256()
                for (name, value) in zip(row.names, row.values).sorted(by: { $0.0 < $1.0 })
                where !skipped.contains(name) {
                    hash.update(data: Data(name.utf8))
                    hash.update(data: Self.canonical(value))
                }
                rowHashes.append(Data(hash.finalize()))
            }
            offset += page.count
        }
    }

    /// One form per value: ids lowercased, times in milliseconds, flags as 0 or 1.
    static func canonical(_ value: SQLValue) -> Data {
        func tagged(_ tag: UInt8, _ bytes: Data) -> Data {
            var length = UInt64(bytes.count).bigEndian
            return Data([tag]) + Data(bytes: &length, count: 8) + bytes
        }
        switch value {
        case .null: return Data([0])
        case .integer(let number): return tagged(1, Data(String(number).utf8))
        case .boolean(let flag): return tagged(1, Data(flag ? "1".utf8 : "0".utf8))
        case .bytes(let bytes): return tagged(2, bytes)
        case .uuid(let id): return tagged(3, Data(id.uuidString.lowercased().utf8))
        case .timestamp(let date):
            return tagged(4, Data(String(Int64((date.timeIntervalSince1970 * 1000).rounded())).utf8))
        case .text(let text):
            if let id = UUID(uuidString: text), text.count == 36 {
                return tagged(3, Data(id.uuidString.lowercased().utf8))
            }
            if let date = StoredTimestamp.date(text) {
                return tagged(4, Data(String(Int64((date.timeIntervalSince1970 * 1000).rounded())).utf8))
            }
            return tagged(5, Data(text.utf8))
        }
    }
}
