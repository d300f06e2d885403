public import Foundation

/// How a field's value is treated: shown, hidden, opened, or turned into codes.
public enum FieldKind: String, Codable, CaseIterable, Sendable {
    case text
    /// A secret: hidden unless revealed, and its old values kept in the password history.
    case hidden
    case url
    case email
    case date
    /// A TOTP secret or otpauth:// URI; a secret too.
    case totp

    /// Whether the value is a secret that is masked and whose changes are kept in history.
    public var isSecret: Bool { self == .hidden || self == .totp }
}

/// A named value on an item.
public struct Field: Codable, Hashable, Sendable {
    /// The key used to address the field (`coffer get ITEM NAME`).
    public var name: String
    /// How the value is treated.
    public var kind: FieldKind
    /// The value; empty when not filled in.
    public var value: String

    /// Creates a field.
    public init(name: String, kind: FieldKind, value: String) {
        self.name = name
        self.kind = kind
        self.value = value
    }

    /// Whether this field answers to `query`, ignoring case, spaces, dashes and underscores.
    public func matches(name query: String) -> Bool {
        if name == query { return true }
        // Field names are nearly always ASCII: compare them folded without building new strings.
        if let same = Self.asciiNamesMatch(name, query) { return same }
        return Self.normalize(name) == Self.normalize(query)
    }

    /// Whether two ASCII names are equal ignoring case, spaces, dashes and underscores; `nil` when
    /// either has a non-ASCII byte, whose case folding needs Unicode's rules.
    private static func asciiNamesMatch(_ left: String, _ right: String) -> Bool? {
        var leftBytes = left.utf8.makeIterator()
        var rightBytes = right.utf8.makeIterator()
        /// The next byte that counts, lower-cased; 0 at the end, 0xFF for a non-ASCII byte.
        func next(_ bytes: inout String.UTF8View.Iterator) -> UInt8 {
            while let byte = bytes.next() {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "_"): continue
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte + 32
                case 0x80...: return 0xFF
                default: return byte
                }
            }
            return 0
        }
        while true {
            let (a, b) = (next(&leftBytes), next(&rightBytes))
            if a == 0xFF || b == 0xFF { return nil }
            if a != b { return false }
            if a == 0 { return true }
        }
    }

    static func normalize(_ text: String) -> String {
        String(text.lowercased().filter { $0 != " " && $0 != "-" && $0 != "_" })
    }
}

/// An earlier value of a secret field, kept so a changed password can still be found.
public struct PasswordHistoryEntry: Codable, Hashable, Sendable {
    /// Which field held the value.
    public var fieldName: String
    /// The value before the change.
    public var value: String
    /// When it was replaced.
    public var replacedAt: Date

    /// Creates an entry.
    public init(fieldName: String, value: String, replacedAt: Date) {
        self.fieldName = fieldName
        self.value = value
        self.replacedAt = replacedAt
    }
}

/// A file kept with an item, such as a KeePass attachment. Its bytes are sealed with the item.
public struct Attachment: Codable, Hashable, Sendable {
    /// The file name.
    public var name: String
    /// The file's bytes.
    public var data: Data

    /// Creates an attachment.
    public init(name: String, data: Data) {
        self.name = name
        self.data = data
    }
}
