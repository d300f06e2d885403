public import Foundation

/// One entry in a vault: a login, a card, a note… Everything in it is sealed before it is stored.
public struct Item: Codable, Hashable, Sendable, Identifiable {
    /// Stable identifier, bound into the item's ciphertext.
    public var id: UUID
    /// The kind of item.
    public var type: ItemType
    /// The name shown in lists.
    public var title: String
    /// The standard fields of `type`, in template order.
    public var fields: [Field]
    /// Fields the user added.
    public var customFields: [Field]
    /// Web addresses (logins may have several).
    public var urls: [String]
    /// Free text.
    public var notes: String
    /// Labels for filtering, kept sorted and unique.
    public var tags: [String] {
        didSet { tags = Self.normalizedTags(tags) }
    }
    /// Shown first and filterable.
    public var isFavorite: Bool
    /// When the item was created.
    public var created: Date
    /// When the item last changed.
    public var modified: Date
    /// Earlier values of secret fields, newest first.
    public var passwordHistory: [PasswordHistoryEntry]
    /// When the item was moved to the trash; `nil` while it is live.
    public var trashedAt: Date?
    /// Files kept with the item (a key file, a scan), sealed with it.
    public var attachments: [Attachment]
    /// Members of the item's JSON that this version of Coffer does not know (a newer Coffer wrote
    /// them), kept and written back as they were read: editing an item here never drops what a
    /// newer device added to it.
    public var unknownMembers: [String: JSONValue] = [:]

    /// How many earlier values of secret fields are kept.
    public static let passwordHistoryLimit = 20
    /// The most attachment bytes one item holds: 2 MiB. Sealed (base64 inside the item's JSON) that
    /// stays under the 4 MiB the server accepts per item. Importers leave larger files out and say so.
    public static let attachmentLimit = 2 * 1_048_576

    /// A new item with the type's standard fields, empty.
    public init(id: UUID = .random(), type: ItemType, title: String, now: Date) {
        self.id = id
        self.type = type
        self.title = title
        self.fields = type.template.map { Field(name: $0.name, kind: $0.kind, value: "") }
        self.customFields = []
        self.urls = []
        self.notes = ""
        self.tags = []
        self.isFavorite = false
        self.created = now
        self.modified = now
        self.passwordHistory = []
        self.trashedAt = nil
        self.attachments = []
    }

    /// An item read from stored content, with its fields as they were stored (not the template's):
    /// the caller sets the other members.
    init(id: UUID, type: ItemType, title: String, fields: [Field]) {
        self.id = id
        self.type = type
        self.title = title
        self.fields = fields
        self.customFields = []
        self.urls = []
        self.notes = ""
        self.tags = []
        self.isFavorite = false
        self.created = Date(timeIntervalSince1970: 0)
        self.modified = self.created
        self.passwordHistory = []
        self.trashedAt = nil
        self.attachments = []
    }

    /// Whether `name` can be a member a newer Coffer added: not one this version writes itself.
    static func isUnknownMemberName(_ name: String) -> Bool { CodingKeys(stringValue: name) == nil }

    private enum CodingKeys: String, CodingKey {
        case id, type, title, fields, customFields, urls, notes, tags, isFavorite, created, modified
        case passwordHistory, trashedAt, attachments
    }

    /// Decodes an item; items sealed before attachments existed have none, and members this version
    /// does not know are kept in ``unknownMembers``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        type = try container.decode(ItemType.self, forKey: .type)
        title = try container.decode(String.self, forKey: .title)
        fields = try container.decode([Field].self, forKey: .fields)
        customFields = try container.decode([Field].self, forKey: .customFields)
        urls = try container.decode([String].self, forKey: .urls)
        notes = try container.decode(String.self, forKey: .notes)
        tags = try container.decode([String].self, forKey: .tags)
        isFavorite = try container.decode(Bool.self, forKey: .isFavorite)
        created = try container.decode(Date.self, forKey: .created)
        modified = try container.decode(Date.self, forKey: .modified)
        passwordHistory = try container.decode([PasswordHistoryEntry].self, forKey: .passwordHistory)
        trashedAt = try container.decodeIfPresent(Date.self, forKey: .trashedAt)
        attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments) ?? []
        let everything = try decoder.container(keyedBy: MemberKey.self)
        for key in everything.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            unknownMembers[key.stringValue] = try everything.decode(JSONValue.self, forKey: key)
        }
    }

    /// Encodes an item; an item without attachments encodes exactly as before they existed, and
    /// ``unknownMembers`` come last, in key order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(fields, forKey: .fields)
        try container.encode(customFields, forKey: .customFields)
        try container.encode(urls, forKey: .urls)
        try container.encode(notes, forKey: .notes)
        try container.encode(tags, forKey: .tags)
        try container.encode(isFavorite, forKey: .isFavorite)
        try container.encode(created, forKey: .created)
        try container.encode(modified, forKey: .modified)
        try container.encode(passwordHistory, forKey: .passwordHistory)
        try container.encodeIfPresent(trashedAt, forKey: .trashedAt)
        if !attachments.isEmpty { try container.encode(attachments, forKey: .attachments) }
        var unknown = encoder.container(keyedBy: MemberKey.self)
        for key in unknownMembers.keys.sorted() { try unknown.encode(unknownMembers[key], forKey: MemberKey(key)) }
    }

    /// Whether the item is in the trash.
    public var isTrashed: Bool { trashedAt != nil }

    /// All fields, standard then custom.
    public var allFields: [Field] { fields + customFields }

    /// The value of the field called `name`, or of a pseudo-field (`title`, `notes`, `url`, `tags`).
    public func value(of name: String) -> String? {
        if let field = allFields.first(where: { $0.matches(name: name) }) { return field.value }
        switch Field.normalize(name) {
        case "title": return title
        case "notes", "note": return notes
        case "url", "website": return urls.first
        case "urls": return urls.joined(separator: "\n")
        case "tags": return tags.joined(separator: ",")
        case "id": return id.uuidString.lowercased()
        default: return nil
        }
    }

    /// The kind of the field called `name`, if it exists.
    public func kind(of name: String) -> FieldKind? {
        allFields.first(where: { $0.matches(name: name) })?.kind
    }

    /// Sets a standard or custom field; an unknown name becomes a custom field of `kind`.
    public mutating func setValue(_ value: String, of name: String, kind: FieldKind = .text) {
        if let index = fields.firstIndex(where: { $0.matches(name: name) }) {
            fields[index].value = value
        } else if let index = customFields.firstIndex(where: { $0.matches(name: name) }) {
            customFields[index].value = value
        } else {
            customFields.append(Field(name: name, kind: kind, value: value))
        }
    }

    /// Removes a custom field; standard fields are emptied instead.
    public mutating func removeField(_ name: String) {
        customFields.removeAll { $0.matches(name: name) }
        if let index = fields.firstIndex(where: { $0.matches(name: name) }) { fields[index].value = "" }
    }

    /// Stamps an edit: bumps `modified` and keeps the replaced values of secret fields in the history.
    public mutating func recordEdit(from previous: Item, at date: Date) {
        for old in previous.allFields where old.kind.isSecret && !old.value.isEmpty {
            let new = allFields.first { $0.matches(name: old.name) }
            if new?.value != old.value {
                passwordHistory.insert(
                    PasswordHistoryEntry(fieldName: old.name, value: old.value, replacedAt: date), at: 0)
            }
        }
        passwordHistory = Array(passwordHistory.prefix(Self.passwordHistoryLimit))
        modified = date
    }

    /// Moves the item to the trash, where it can still be restored.
    public mutating func moveToTrash(at date: Date) {
        trashedAt = date
        modified = date
    }

    /// Brings the item back from the trash.
    public mutating func restoreFromTrash(at date: Date) {
        trashedAt = nil
        modified = date
    }

    /// The username, card holder or other field that identifies the item in a list.
    public var subtitle: String {
        for name in ["username", "email", "cardholder", "ssid", "holder", "product", "first-name"] {
            if let value = value(of: name), !value.isEmpty { return value }
        }
        return urls.first ?? ""
    }

    static func normalizedTags(_ tags: [String]) -> [String] {
        let trimmed = tags.map { $0.trimmingWhitespace() }
        // Already in shape (the common case: one tag, or tags read back): no set, no sort.
        if trimmed.allSatisfy({ !$0.isEmpty }), zip(trimmed, trimmed.dropFirst()).allSatisfy({ $0 < $1 }) {
            return trimmed
        }
        return Array(Set(trimmed.filter { !$0.isEmpty })).sorted()
    }
}

extension Item {
    /// Whether two items hold the same content, with times compared to the millisecond: stored items
    /// keep milliseconds, so a copy read back from a file or a backup equals the one in memory.
    public func hasSameContent(as other: Item) -> Bool {
        normalized() == other.normalized()
    }

    private func normalized() -> Item {
        let millisecond = { (date: Date) in
            Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
        }
        var copy = self
        copy.created = millisecond(created)
        copy.modified = millisecond(modified)
        copy.trashedAt = trashedAt.map(millisecond)
        copy.passwordHistory = passwordHistory.map {
            var entry = $0
            entry.replacedAt = millisecond(entry.replacedAt)
            return entry
        }
        return copy
    }
}
