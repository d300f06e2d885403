public import Foundation

/// The contents of a KeePass database, as far as a password manager moving data in or out needs
/// them: groups, entries with their strings, attachments, tags, times and history.
public struct KDBXDatabase: Sendable, Equatable {
    /// The database's name (Meta/DatabaseName).
    public var name: String
    /// The root group; its own name is not part of any entry's path.
    public var root: KDBXGroup
    /// The group KeePass moves deleted entries to, when the database has one.
    public var recycleBinID: UUID?

    /// Creates a database.
    public init(name: String, root: KDBXGroup, recycleBinID: UUID? = nil) {
        self.name = name
        self.root = root
        self.recycleBinID = recycleBinID
    }
}

/// A folder of entries and further groups.
public struct KDBXGroup: Sendable, Equatable {
    /// KeePass's identifier.
    public var uuid: UUID
    /// The name shown in KeePass.
    public var name: String
    /// Subgroups, in order.
    public var groups: [KDBXGroup]
    /// Entries, in order.
    public var entries: [KDBXEntry]

    /// Creates a group.
    public init(uuid: UUID = UUID(), name: String, groups: [KDBXGroup] = [], entries: [KDBXEntry] = []) {
        self.uuid = uuid
        self.name = name
        self.groups = groups
        self.entries = entries
    }
}

/// One KeePass entry: named strings (Title, UserName, Password, URL, Notes and any custom ones),
/// attachments, tags, times, and the earlier versions of itself.
public struct KDBXEntry: Sendable, Equatable {
    /// A named string; `isProtected` ones are encrypted with the inner stream in the file.
    public struct StringField: Sendable, Equatable {
        /// The key, e.g. "Password" or a custom name.
        public var key: String
        /// The value.
        public var value: String
        /// Whether KeePass protects (hides) the value.
        public var isProtected: Bool

        /// Creates a string field.
        public init(key: String, value: String, isProtected: Bool = false) {
            self.key = key
            self.value = value
            self.isProtected = isProtected
        }
    }

    /// A file attached to the entry.
    public struct Attachment: Sendable, Equatable {
        /// The file name.
        public var name: String
        /// The bytes.
        public var data: Data

        /// Creates an attachment.
        public init(name: String, data: Data) {
            self.name = name
            self.data = data
        }
    }

    /// KeePass's identifier.
    public var uuid: UUID
    /// The strings, in file order.
    public var strings: [StringField]
    /// The attachments, in file order.
    public var attachments: [Attachment]
    /// The entry's own tags.
    public var tags: [String]
    /// When the entry was created.
    public var created: Date?
    /// When it was last changed.
    public var modified: Date?
    /// Earlier versions, oldest first, as KeePass keeps them.
    public var history: [KDBXEntry]

    /// Creates an entry.
    public init(
        uuid: UUID = UUID(), strings: [StringField] = [], attachments: [Attachment] = [], tags: [String] = [],
        created: Date? = nil, modified: Date? = nil, history: [KDBXEntry] = []
    ) {
        self.uuid = uuid
        self.strings = strings
        self.attachments = attachments
        self.tags = tags
        self.created = created
        self.modified = modified
        self.history = history
    }

    /// The value of the string called `key` (KeePass keys are case-sensitive).
    public func value(_ key: String) -> String? { strings.first { $0.key == key }?.value }
}
