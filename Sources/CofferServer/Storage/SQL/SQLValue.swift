public import Foundation

/// A value bound to a statement or read from a row, in the few shapes the server stores. Each
/// driver maps them to its database's own types: SQLite keeps ids as lowercase text, timestamps as
/// GRDB's text and flags as 0/1; PostgreSQL has `uuid`, `timestamptz` and `boolean`. Statements
/// bind typed values so one text of SQL runs on both.
public enum SQLValue: Sendable, Equatable {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// Text.
    case text(String)
    /// Opaque bytes: ciphertext, hashes, verifiers.
    case bytes(Data)
    /// An id.
    case uuid(UUID)
    /// A moment.
    case timestamp(Date)
    /// A flag.
    case boolean(Bool)
}

/// A Swift value that binds to a statement parameter.
public protocol SQLBindable: Sendable {
    /// The value as bound.
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable {
    /// Binds as an integer.
    public var sqlValue: SQLValue { .integer(self) }
}

extension Int: SQLBindable {
    /// Binds as an integer.
    public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension UInt32: SQLBindable {
    /// Binds as an integer (epochs, Argon2 parameters).
    public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension String: SQLBindable {
    /// Binds as text.
    public var sqlValue: SQLValue { .text(self) }
}

extension Data: SQLBindable {
    /// Binds as bytes.
    public var sqlValue: SQLValue { .bytes(self) }
}

extension UUID: SQLBindable {
    /// Binds as an id.
    public var sqlValue: SQLValue { .uuid(self) }
}

extension Date: SQLBindable {
    /// Binds as a timestamp.
    public var sqlValue: SQLValue { .timestamp(self) }
}

extension Bool: SQLBindable {
    /// Binds as a flag.
    public var sqlValue: SQLValue { .boolean(self) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    /// `nil` binds as `NULL`.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension SQLValue: SQLBindable {
    /// Binds as itself (values carried from one database to another).
    public var sqlValue: SQLValue { self }
}
