import CofferModel
import Foundation

/// Bitwarden's unencrypted JSON export: folders, and items of type 1 login, 2 note, 3 card,
/// 4 identity, 5 SSH key, with custom fields and password history. An organisation's export adds
/// collections; each folder and each collection an item is in becomes one tag.
struct BitwardenJSONImporter {
    let file: String
    let now: Date

    struct Export: Decodable {
        var encrypted: Bool?
        var passwordProtected: Bool?
        var folders: [Folder]?
        var collections: [Folder]?
        var items: [BitwardenItem]?
    }

    struct Folder: Decodable {
        var id: String
        var name: String
    }

    struct BitwardenItem: Decodable {
        var type: Int
        var name: String?
        var notes: String?
        var favorite: Bool?
        var folderId: String?
        var collectionIds: [String]?
        var fields: [CustomField]?
        var login: Login?
        var card: [String: String?]?
        var identity: [String: String?]?
        var sshKey: [String: String?]?
        var passwordHistory: [History]?
        var creationDate: String?
        var revisionDate: String?
        var deletedDate: String?
    }

    struct CustomField: Decodable {
        var name: String?
        var value: String?
        var type: Int?
    }

    struct Login: Decodable {
        var uris: [URI]?
        var username: String?
        var password: String?
        var totp: String?
    }

    struct URI: Decodable { var uri: String? }

    struct History: Decodable {
        var password: String?
        var lastUsedDate: String?
    }

    func read(_ data: Data) throws(ImportError) -> ([Item], [SkippedRecord]) {
        let export: Export
        do {
            export = try JSONDecoder().decode(Export.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.keyNotFound(_, context),
            let DecodingError.valueNotFound(_, context)
        {
            throw .malformed(
                file: file, line: nil, field: Self.path(context.codingPath),
                reason: "it is not what a Bitwarden export holds there")
        } catch {
            throw .malformed(file: file, line: nil, field: nil, reason: "it is not valid JSON (cut short or damaged)")
        }
        if export.encrypted == true {
            throw .unsupported(
                file: file,
                reason: export.passwordProtected == true
                    ? "this Bitwarden export is protected by a password; `coffer import` asks for it (or reads it with --password-stdin)"
                    : "this Bitwarden export is encrypted with your Bitwarden account's key, which only Bitwarden can open; export again choosing \"JSON\" or a password-protected \"JSON (Encrypted)\" export"
            )
        }
        // Folder and collection ids are distinct UUIDs, so one table serves both.
        let folders = Dictionary(
            ((export.folders ?? []) + (export.collections ?? [])).map { ($0.id, $0.name) },
            uniquingKeysWith: { first, _ in first })
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for (index, source) in (export.items ?? []).enumerated() {
            guard let item = item(source, folders: folders) else {
                skipped.append(
                    SkippedRecord(
                        line: nil, field: "items[\(index)]",
                        reason: "item type \(source.type) is not one Bitwarden documents"))
                continue
            }
            items.append(item)
        }
        return (items, skipped)
    }

    private func item(_ source: BitwardenItem, folders: [String: String]) -> Item? {
        let types: [Int: ItemType] = [1: .login, 2: .note, 3: .card, 4: .identity, 5: .sshKey]
        guard let type = types[source.type] else { return nil }
        var item = Item(type: type, title: source.name ?? "", now: now)
        item.notes = source.notes ?? ""
        item.isFavorite = source.favorite ?? false
        for id in [source.folderId].compactMap({ $0 }) + (source.collectionIds ?? []) {
            if let name = folders[id], !item.tags.contains(name) { item.tags.append(name) }
        }
        if let login = source.login {
            item.setValue(login.username ?? "", of: "username")
            item.setValue(login.password ?? "", of: "password")
            item.setValue(login.totp ?? "", of: "totp")
            item.urls = (login.uris ?? []).compactMap(\.uri).filter { !$0.isEmpty }
        }
        let mapped: [String: String] = [
            "cardholderName": "cardholder", "number": "number", "code": "cvv", "brand": "brand",
            "firstName": "first-name", "lastName": "last-name", "email": "email", "phone": "phone",
            "company": "company", "passportNumber": "passport", "privateKey": "private-key",
            "publicKey": "public-key", "keyFingerprint": "fingerprint",
        ]
        for values in [source.card, source.identity, source.sshKey].compactMap({ $0 }) {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                guard let value, !value.isEmpty, !["expMonth", "expYear"].contains(key) else { continue }
                if key.hasPrefix("address") || ["city", "state", "postalCode", "country"].contains(key) { continue }
                item.setValue(value, of: mapped[key] ?? key, kind: key == "ssn" ? .hidden : .text)
            }
        }
        if let card = source.card, let month = card["expMonth"] ?? nil, let year = card["expYear"] ?? nil {
            item.setValue("\(month.count == 1 ? "0" : "")\(month)/\(year)", of: "expiry")
        }
        if let identity = source.identity {
            let address = ["address1", "address2", "address3", "city", "state", "postalCode", "country"]
                .compactMap { identity[$0] ?? nil }.filter { !$0.isEmpty }.joined(separator: ", ")
            item.setValue(address, of: "address")
        }
        for field in source.fields ?? [] {
            // Type 3 (linked) points at another field of the same item: nothing to copy.
            guard field.type != 3 else { continue }
            item.customFields.append(
                Field(name: field.name ?? "field", kind: field.type == 1 ? .hidden : .text, value: field.value ?? ""))
        }
        item.passwordHistory = (source.passwordHistory ?? []).compactMap { entry in
            entry.password.map {
                PasswordHistoryEntry(
                    fieldName: "password", value: $0, replacedAt: Self.date(entry.lastUsedDate) ?? now)
            }
        }
        if let created = Self.date(source.creationDate) { item.created = created }
        if let modified = Self.date(source.revisionDate) { item.modified = modified }
        item.trashedAt = Self.date(source.deletedDate)
        if item.title.isEmpty { item.title = "Untitled" }
        return item
    }

    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
