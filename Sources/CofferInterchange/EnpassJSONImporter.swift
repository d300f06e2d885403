import CofferModel
import Foundation

/// Enpass's JSON export: `folders` (with `parent_uuid`) and `items`, each with a `category`, a
/// `fields` list of `{label, type, value, sensitive, deleted}`, `note`, `favorite`, `trashed`,
/// `archived` and the uuids of its folders.
///
/// Field types map to Coffer's fields (`username`, `password`, `url`, `totp`, `email`, the `cc…`
/// card fields); every other field is kept under its label, hidden when Enpass marks it sensitive.
/// Section headers and fields the user deleted in Enpass are not data.
struct EnpassJSONImporter {
    let now: Date

    /// Whether a parsed top-level object is an Enpass export: items with a `category` and `fields`.
    static func recognises(_ object: [String: Any]) -> Bool {
        guard let first = (object["items"] as? [[String: Any]])?.first else { return false }
        return first["category"] is String && (first["fields"] is [Any] || first["template_type"] is String)
    }

    func read(_ object: [String: Any]) -> (items: [Item], skipped: [SkippedRecord]) {
        let folders = Self.folderPaths((object["folders"] as? [[String: Any]]) ?? [])
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for (index, value) in ((object["items"] as? [Any]) ?? []).enumerated() {
            guard let source = value as? [String: Any] else {
                skipped.append(SkippedRecord(line: nil, field: "items[\(index)]", reason: "it is not an item object"))
                continue
            }
            var item = self.item(source)
            item.tags += ((source["folders"] as? [String]) ?? []).compactMap { folders[$0] }
            items.append(item)
        }
        return (items, skipped)
    }

    /// Each folder's path of titles, `Parent/Child`, by uuid; a cycle stops where it repeats.
    private static func folderPaths(_ list: [[String: Any]]) -> [String: String] {
        var byID: [String: (title: String, parent: String)] = [:]
        for folder in list {
            guard let id = folder["uuid"] as? String else { continue }
            byID[id] = ((folder["title"] as? String) ?? "", (folder["parent_uuid"] as? String) ?? "")
        }
        var paths: [String: String] = [:]
        for id in byID.keys {
            var names: [String] = []
            var seen = Set<String>()
            var current = id
            while let folder = byID[current], seen.insert(current).inserted {
                names.insert(folder.title, at: 0)
                current = folder.parent
            }
            paths[id] = names.joined(separator: "/")
        }
        return paths
    }

    private static let categories: [String: ItemType] = [
        "login": .login, "creditcard": .card, "note": .note, "identity": .identity, "finance": .bankAccount,
        "password": .password, "license": .license,
    ]

    private func item(_ source: [String: Any]) -> Item {
        let fields = ((source["fields"] as? [[String: Any]]) ?? []).filter {
            ($0["deleted"] as? NSNumber)?.intValue != 1 && ($0["type"] as? String) != "section"
        }
        let value = { (field: [String: Any]) in Self.text(field["value"]) }
        let hasLoginData = fields.contains { field in
            ["username", "password", "url"].contains((field["type"] as? String) ?? "") && !value(field).isEmpty
        }
        let category = (source["category"] as? String) ?? ""
        let type = Self.categories[category] ?? (hasLoginData ? .login : .note)
        var item = Item(type: type, title: (source["title"] as? String) ?? "", now: now)
        if Self.categories[category] == nil, !category.isEmpty { item.setValue(category, of: "Enpass category") }
        item.notes = (source["note"] as? String) ?? ""
        item.isFavorite = (source["favorite"] as? NSNumber)?.intValue == 1
        if (source["archived"] as? NSNumber)?.intValue == 1 { item.tags.append("Archived") }
        if let created = (source["created_at"] as? NSNumber)?.doubleValue,
            let date = FileTime.date(secondsSince1970: created)
        {
            item.created = date
        }
        if let updated = (source["updated_at"] as? NSNumber)?.doubleValue,
            let date = FileTime.date(secondsSince1970: updated)
        {
            item.modified = date
        }
        if (source["trashed"] as? NSNumber)?.intValue == 1 { item.trashedAt = item.modified }
        for field in fields {
            let text = value(field)
            guard !text.isEmpty else { continue }
            let label = (field["label"] as? String) ?? ""
            let sensitive = (field["sensitive"] as? NSNumber)?.intValue == 1
            place(text, type: (field["type"] as? String) ?? "", label: label, sensitive: sensitive, in: &item)
        }
        if item.title.isEmpty { item.title = "Untitled" }
        return item
    }

    /// Card field types and the Coffer field each fills.
    private static let cardFields: [String: String] = [
        "ccName": "cardholder", "ccNumber": "number", "ccCvc": "cvv", "ccPin": "pin", "ccExpiry": "expiry",
        "ccType": "brand",
    ]

    private func place(_ text: String, type: String, label: String, sensitive: Bool, in item: inout Item) {
        func empty(_ name: String) -> Bool { item.kind(of: name) != nil && (item.value(of: name) ?? "").isEmpty }
        switch type {
        case "username" where empty("username"), "email" where empty("username") && item.type == .login:
            return item.setValue(text, of: "username")
        case "password" where empty("password"):
            return item.setValue(text, of: "password")
        case "url":
            return item.urls.append(text)
        case "totp" where item.value(of: "totp") == nil || empty("totp"):
            return item.setValue(text, of: "totp", kind: .totp)
        case let card where Self.cardFields[card] != nil && empty(Self.cardFields[card]!):
            return item.setValue(text, of: Self.cardFields[card]!)
        default:
            break
        }
        let kind: FieldKind =
            sensitive || type == "password" || type == "pin" ? .hidden : (type == "email" ? .email : .text)
        var name = label.isEmpty ? type : label
        var suffix = 2
        while item.kind(of: name) != nil, !(item.value(of: name) ?? "").isEmpty {
            name = "\(label.isEmpty ? type : label) \(suffix)"
            suffix += 1
        }
        item.setValue(text, of: name, kind: kind)
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }
}
