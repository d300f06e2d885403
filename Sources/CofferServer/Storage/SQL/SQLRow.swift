public import Foundation

/// One row of a result, read by column name. Both drivers hand over the values in their database's
/// own shapes (``SQLValue``); the typed readers accept either shape, so SQL shared by both
/// databases reads the same Swift values back.
public struct SQLRow: Sendable {
    /// Column names, in the statement's order.
    let names: [String]
    /// Values, parallel to `names`.
    let values: [SQLValue]

    /// A row from its columns.
    init(names: [String], values: [SQLValue]) {
        self.names = names
        self.values = values
    }

    /// The value of `column`; a name the statement did not select is a programming error reported as
    /// a storage failure rather than a crash.
    public func value(_ column: String) throws -> SQLValue {
        guard let index = names.firstIndex(of: column) else { throw SQLReadError(column: column, expected: "a column") }
        return values[index]
    }

    /// The first column's value, for single-value queries.
    var first: SQLValue { values.first ?? .null }

    /// An integer column.
    public func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw SQLReadError(column: column, expected: "an integer") }
        return value
    }

    /// An integer column that may be `NULL`.
    public func optionalInt64(_ column: String) throws -> Int64? {
        try Self.int64(try value(column), column: column)
    }

    static func int64(_ value: SQLValue, column: String) throws -> Int64? {
        switch value {
        case .null: return nil
        case .integer(let number): return number
        case .boolean(let flag): return flag ? 1 : 0
        default: throw SQLReadError(column: column, expected: "an integer")
        }
    }

    /// An integer column as `Int`.
    public func int(_ column: String) throws -> Int { Int(try int64(column)) }

    /// An integer column as `UInt32` (epochs, Argon2 parameters), clamped.
    public func uint32(_ column: String) throws -> UInt32 { UInt32(clamping: try int64(column)) }

    /// A text column.
    public func text(_ column: String) throws -> String {
        guard let value = try optionalText(column) else { throw SQLReadError(column: column, expected: "text") }
        return value
    }

    /// A text column that may be `NULL`.
    public func optionalText(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw SQLReadError(column: column, expected: "text")
        }
    }

    /// A bytes column.
    public func bytes(_ column: String) throws -> Data {
        guard let value = try optionalBytes(column) else { throw SQLReadError(column: column, expected: "bytes") }
        return value
    }

    /// A bytes column that may be `NULL`.
    public func optionalBytes(_ column: String) throws -> Data? {
        switch try value(column) {
        case .null: return nil
        case .bytes(let bytes): return bytes
        default: throw SQLReadError(column: column, expected: "bytes")
        }
    }

    /// An id column: `uuid` in PostgreSQL, text in SQLite.
    public func uuid(_ column: String) throws -> UUID {
        guard let id = try optionalUUID(column) else { throw SQLReadError(column: column, expected: "an id") }
        return id
    }

    /// An id column that may be `NULL`.
    public func optionalUUID(_ column: String) throws -> UUID? {
        switch try value(column) {
        case .null: return nil
        case .uuid(let id): return id
        case .text(let text):
            guard let id = UUID(uuidString: text) else { throw SQLReadError(column: column, expected: "an id") }
            return id
        default: throw SQLReadError(column: column, expected: "an id")
        }
    }

    /// A timestamp column.
    public func date(_ column: String) throws -> Date {
        guard let value = try optionalDate(column) else { throw SQLReadError(column: column, expected: "a timestamp") }
        return value
    }

    /// A timestamp column that may be `NULL`: `timestamptz` in PostgreSQL, GRDB's text in SQLite.
    public func optionalDate(_ column: String) throws -> Date? {
        switch try value(column) {
        case .null: return nil
        case .timestamp(let date): return date
        case .text(let text):
            guard let date = StoredTimestamp.date(text) else {
                throw SQLReadError(column: column, expected: "a timestamp")
            }
            return date
        default: throw SQLReadError(column: column, expected: "a timestamp")
        }
    }

    /// A flag column: `boolean` in PostgreSQL, 0 or 1 in SQLite.
    public func bool(_ column: String) throws -> Bool {
        switch try value(column) {
        case .boolean(let flag): return flag
        case .integer(let number): return number != 0
        default: throw SQLReadError(column: column, expected: "a flag")
        }
    }
}

/// A column held something the schema does not allow there: the database was changed by hand, or
/// a statement and its reader disagree. Reported as a storage failure, never a crash.
public struct SQLReadError: Error, CustomStringConvertible {
    /// The column read.
    public var column: String
    /// What was expected there.
    public var expected: String

    /// For the log.
    public var description: String { "the database column \(column) does not hold \(expected)" }
}
