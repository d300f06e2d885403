import CofferAgent
import CofferModel
import Foundation

/// How records and listings are printed, as text for people and JSON for scripts.
enum Output {
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static let mask = "••••••••"

    /// A listing row.
    struct Row: Encodable {
        let id: String
        let type: String
        let title: String
        let subtitle: String
        let tags: [String]
        let favorite: Bool
        let trashed: Bool
        let modified: Date

        init(_ item: ItemSummary) {
            id = item.id.uuidString.lowercased()
            type = item.type.rawValue
            title = item.title
            subtitle = item.subtitle
            tags = item.tags
            favorite = item.isFavorite
            trashed = item.isTrashed
            modified = item.modified
        }
    }

    /// A whole record; secret values are masked unless revealed.
    struct Record: Encodable {
        struct FieldValue: Encodable {
            let name: String
            let kind: String
            let value: String
        }

        struct HistoryEntry: Encodable {
            let field: String
            let value: String
            let replaced: Date
        }

        let id: String
        let type: String
        let title: String
        let fields: [FieldValue]
        let customFields: [FieldValue]
        let urls: [String]
        let notes: String
        let tags: [String]
        let favorite: Bool
        let created: Date
        let modified: Date
        let trashed: Date?
        let passwordHistory: [HistoryEntry]
        let attachments: [AttachmentInfo]

        struct AttachmentInfo: Encodable {
            let name: String
            let bytes: Int
        }

        init(_ item: Item, reveal: Bool) {
            func value(_ field: Field) -> FieldValue {
                FieldValue(
                    name: field.name, kind: field.kind.rawValue,
                    value: field.kind.isSecret && !reveal && !field.value.isEmpty ? Output.mask : field.value)
            }
            id = item.id.uuidString.lowercased()
            type = item.type.rawValue
            title = item.title
            fields = item.fields.map(value)
            customFields = item.customFields.map(value)
            urls = item.urls
            notes = item.notes
            tags = item.tags
            favorite = item.isFavorite
            created = item.created
            modified = item.modified
            trashed = item.trashedAt
            passwordHistory = item.passwordHistory.map {
                HistoryEntry(field: $0.fieldName, value: reveal ? $0.value : Output.mask, replaced: $0.replacedAt)
            }
            attachments = item.attachments.map { AttachmentInfo(name: $0.name, bytes: $0.data.count) }
        }
    }

    static func printList(_ items: [ItemSummary], asJSON: Bool) throws {
        if asJSON { return try json(items.map(Row.init)) }
        guard !items.isEmpty else {
            Terminal.note("No items.")
            return
        }
        let width = min(40, items.map(\.title.count).max() ?? 0)
        for item in items {
            let star = item.isFavorite ? "★" : " "
            let title = item.title.count > width ? String(item.title.prefix(width - 1)) + "…" : item.title
            let padded = title + String(repeating: " ", count: max(0, width - title.count))
            let id = item.id.uuidString.lowercased().prefix(8)
            let type = item.type.rawValue + String(repeating: " ", count: max(0, 12 - item.type.rawValue.count))
            print("\(id)  \(type) \(star) \(padded)  \(item.subtitle)")
        }
    }

    static func printRecord(_ item: Item, reveal: Bool, asJSON: Bool) throws {
        if asJSON { return try json(Record(item, reveal: reveal)) }
        let labels = Dictionary(item.type.template.map { ($0.name, $0.label) }, uniquingKeysWith: { first, _ in first })
        print("\(item.title)\(item.isFavorite ? " ★" : "")")
        print(
            "  \(item.type.displayName) · id \(item.id.uuidString.lowercased())\(item.isTrashed ? " · in the trash" : "")"
        )
        for field in item.allFields where !field.value.isEmpty {
            let shown = field.kind.isSecret && !reveal ? mask : field.value
            print("  \(labels[field.name] ?? field.name): \(shown)")
        }
        for url in item.urls { print("  URL: \(url)") }
        if !item.tags.isEmpty { print("  Tags: \(item.tags.joined(separator: ", "))") }
        if !item.notes.isEmpty { print("  Notes:\n    " + item.notes.replacingOccurrences(of: "\n", with: "\n    ")) }
        for attachment in item.attachments {
            print(
                "  Attachment: \(attachment.name) (\(attachment.data.count.formatted(.byteCount(style: .file))); `coffer attachment save` writes it out)"
            )
        }
        if !item.passwordHistory.isEmpty {
            print(
                "  Password history: \(item.passwordHistory.count) earlier value(s)\(reveal ? "" : " (--reveal shows them)")"
            )
            if reveal {
                for entry in item.passwordHistory {
                    print("    \(entry.fieldName): \(entry.value)  (until \(entry.replacedAt.formatted()))")
                }
            }
        }
        print("  Modified \(item.modified.formatted()) · created \(item.created.formatted())")
        if !reveal && item.allFields.contains(where: { $0.kind.isSecret && !$0.value.isEmpty }) {
            Terminal.note("Secrets are hidden; add --reveal to show them.")
        }
    }
}
