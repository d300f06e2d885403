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
        Self.normalize(name) == Self.normalize(query)
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
