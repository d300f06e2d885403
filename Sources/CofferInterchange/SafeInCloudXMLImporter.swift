import CofferKDBX
import CofferModel
import Foundation

/// SafeInCloud's XML export: `<database>` with `<label>`s (tags, by id) and `<card>`s, each a title,
/// typed `<field>`s, `<notes>`, `<label_id>`s and attached `<file>`s; `star` marks a favourite,
/// `deleted` the trash, and `template="true"` cards are the app's templates, not data.
struct SafeInCloudXMLImporter {
    let file: String
    let now: Date

    /// Whether `text` starts like a SafeInCloud export.
    static func recognises(_ text: some StringProtocol) -> Bool {
        let start = text.prefix(4096)
        return start.contains("<database") && (start.contains("<card") || start.contains("<label"))
    }

    func read(_ xml: Data) throws(ImportError) -> (items: [Item], skipped: [SkippedRecord]) {
        let document: XMLTree
        do {
            document = try XMLTree.parse(xml)
        } catch {
            if case .damaged(let reason) = error {
                throw .malformed(file: file, line: nil, field: nil, reason: reason)
            }
            throw .malformed(file: file, line: nil, field: nil, reason: "its XML cannot be read")
        }
        guard document.name == "database" else {
            throw .malformed(file: file, line: nil, field: nil, reason: "its XML is not a SafeInCloud <database>")
        }
        var labels: [String: String] = [:]
        for label in document.children("label") {
            if let id = label.attributes["id"], let name = label.attributes["name"] { labels[id] = name }
        }
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for (index, card) in document.children("card").enumerated() {
            if card.attributes["template"] == "true" { continue }
            var item = self.item(card, skipped: &skipped, place: "card[\(index)]")
            item.tags = card.children("label_id").compactMap { labels[$0.text.trimmingWhitespace()] }
            items.append(item)
        }
        return (items, skipped)
    }

    private func item(_ card: XMLTree, skipped: inout [SkippedRecord], place: String) -> Item {
        let fields = card.children("field").map {
            (name: $0.attributes["name"] ?? "", type: $0.attributes["type"] ?? "", value: $0.text)
        }.filter { !$0.value.isEmpty }
        let isLogin = fields.contains { ["login", "password", "website"].contains($0.type) }
        var item = Item(type: isLogin ? .login : .note, title: card.attributes["title"] ?? "", now: now)
        item.notes = card.child("notes")?.text ?? ""
        item.isFavorite = card.attributes["star"] == "true"
        if card.attributes["deleted"] == "true" { item.trashedAt = now }
        for field in fields {
            func empty(_ name: String) -> Bool {
                item.kind(of: name) != nil && (item.value(of: name) ?? "").isEmpty
            }
            switch field.type {
            case "login" where empty("username"): item.setValue(field.value, of: "username")
            case "password" where empty("password"): item.setValue(field.value, of: "password")
            case "website": item.urls.append(field.value)
            case "one_time_password" where item.value(of: "totp") == nil || empty("totp"):
                item.setValue(field.value, of: "totp", kind: .totp)
            default:
                let kind: FieldKind =
                    switch field.type {
                    case "password", "secret", "pin", "one_time_password": .hidden
                    case "email": .email
                    case "website": .url
                    default: .text
                    }
                var name = field.name.isEmpty ? field.type : field.name
                var suffix = 2
                while item.kind(of: name) != nil, !(item.value(of: name) ?? "").isEmpty {
                    name = "\(field.name.isEmpty ? field.type : field.name) \(suffix)"
                    suffix += 1
                }
                item.setValue(field.value, of: name, kind: kind)
            }
        }
        for attachment in card.children("file") {
            let name = attachment.attributes["name"] ?? "attachment"
            guard let data = Data(base64Encoded: attachment.text.trimmingWhitespace()) else {
                skipped.append(
                    SkippedRecord(line: nil, field: "\(place)/\(name)", reason: "the attached file is not base64"))
                continue
            }
            item.attachments.append(Attachment(name: name, data: data))
        }
        if item.title.isEmpty { item.title = "Untitled" }
        return item
    }
}
