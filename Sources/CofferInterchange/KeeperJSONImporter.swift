import CofferModel
import Foundation

/// Keeper's JSON export (Keeper Commander and the web vault): `records` with `login`, `password`,
/// `login_url`, `notes`, a `$type`, typed `custom_fields` and `folders` paths; `shared_folders`
/// describe permissions only.
///
/// Custom-field keys are `$type`, `$type:label` or a plain label, with `::N` added to repeats; values
/// are text, numbers (dates in milliseconds), lists or small objects (`$name`, `$address`,
/// `$paymentCard`, `$bankAccount`, `$keyPair`, `$host`, `$phone`). Each lands in the item's own
/// field when the type has one, else becomes a custom field (hidden when it looks secret): nothing
/// is dropped.
struct KeeperJSONImporter {
    let file: String
    let now: Date

    /// Whether `object` (a parsed top-level JSON object) is a Keeper export.
    static func recognises(_ object: [String: Any]) -> Bool {
        object["records"] is [Any] && object["items"] == nil
    }

    func read(_ object: [String: Any]) -> (items: [Item], skipped: [SkippedRecord]) {
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for (index, value) in ((object["records"] as? [Any]) ?? []).enumerated() {
            guard let record = value as? [String: Any] else {
                skipped.append(
                    SkippedRecord(line: nil, field: "records[\(index)]", reason: "it is not a record object"))
                continue
            }
            items.append(item(record))
        }
        return (items, skipped)
    }

    private static let types: [String: ItemType] = [
        "login": .login, "bankCard": .card, "sshKeys": .sshKey, "bankAccount": .bankAccount,
        "encryptedNotes": .note, "address": .identity, "contact": .identity, "ssnCard": .identity,
        "passport": .identity, "driverLicense": .identity, "birthCertificate": .identity,
        "softwareLicense": .license, "wifiCredentials": .wifi,
    ]

    private func item(_ record: [String: Any]) -> Item {
        let text = { (key: String) in (record[key] as? String) ?? "" }
        let keeperType = text("$type")
        let hasLogin = !text("login").isEmpty || !text("password").isEmpty || !text("login_url").isEmpty
        var type = Self.types[keeperType] ?? (hasLogin || keeperType.isEmpty ? .login : .note)
        if type == .note, hasLogin { type = .login }
        var item = Item(type: type, title: text("title"), now: now)
        item.notes = text("notes")
        if !text("login").isEmpty { item.setValue(text("login"), of: "username") }
        if !text("password").isEmpty {
            item.setValue(text("password"), of: type == .sshKey ? "passphrase" : "password", kind: .hidden)
        }
        if !text("login_url").isEmpty { item.urls.append(text("login_url")) }
        if !keeperType.isEmpty, Self.types[keeperType] == nil, keeperType != "login" {
            item.setValue(keeperType, of: "Keeper type")
        }
        if let modified = (record["last_modified"] as? NSNumber)?.doubleValue,
            let date = FileTime.date(secondsSince1970: modified)
        {
            item.modified = date
        }
        for (key, value) in ((record["custom_fields"] as? [String: Any]) ?? [:]).sorted(by: { $0.key < $1.key }) {
            apply(key: key, value: value, to: &item)
        }
        for folder in (record["folders"] as? [[String: Any]]) ?? [] {
            for path in [folder["folder"], folder["shared_folder"]].compactMap({ $0 as? String }) where !path.isEmpty {
                let tag = Self.tag(fromPath: path)
                if !item.tags.contains(tag) { item.tags.append(tag) }
            }
        }
        return item
    }

    /// Keeper paths separate folders with `\` and write a literal backslash as `\\`.
    static func tag(fromPath path: String) -> String {
        var result = ""
        var pendingBackslash = false
        for character in path {
            if character == "\\" {
                if pendingBackslash {
                    result.append("\\")
                    pendingBackslash = false
                } else {
                    pendingBackslash = true
                }
                continue
            }
            if pendingBackslash { result.append("/") }
            pendingBackslash = false
            result.append(character)
        }
        if pendingBackslash { result.append("/") }
        return result
    }

    private func apply(key rawKey: String, value: Any, to item: inout Item) {
        // "$type:label::2" → type "type", label "label".
        let key = rawKey.components(separatedBy: "::").first ?? rawKey
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        let fieldType = key.hasPrefix("$") ? String(parts[0].dropFirst()) : ""
        let label = key.hasPrefix("$") ? (parts.count > 1 ? parts[1] : "") : key
        let name = label.isEmpty ? fieldType : label
        let object = value as? [String: Any]
        let string = Self.string(value)
        guard !string.isEmpty else { return }
        switch (fieldType, item.type) {
        case ("oneTimeCode", _):
            item.setValue(string, of: "totp", kind: .totp)
        case ("url", _):
            item.urls += Self.strings(value)
        case ("name", .identity):
            let first = [object?["first"], object?["middle"]].compactMap { $0 as? String }.filter { !$0.isEmpty }
            item.setValue(first.joined(separator: " "), of: "first-name")
            item.setValue((object?["last"] as? String) ?? "", of: "last-name")
        case ("address", _) where object != nil:
            let order = ["street1", "street2", "city", "state", "zip", "country"]
            let joined = order.compactMap { object?[$0] as? String }.filter { !$0.isEmpty }.joined(separator: ", ")
            item.setValue(joined, of: "address")
        case ("paymentCard", .card):
            item.setValue((object?["cardNumber"] as? String) ?? "", of: "number")
            item.setValue((object?["cardExpirationDate"] as? String) ?? "", of: "expiry")
            item.setValue((object?["cardSecurityCode"] as? String) ?? "", of: "cvv")
        case ("text", .card) where label.lowercased() == "cardholdername":
            item.setValue(string, of: "cardholder")
        case ("pinCode", .card), ("pinCode", .bankAccount):
            item.setValue(string, of: "pin")
        case ("bankAccount", .bankAccount):
            item.setValue((object?["accountNumber"] as? String) ?? "", of: "account-number")
            item.setValue((object?["routingNumber"] as? String) ?? "", of: "routing-number")
            let kind = [object?["accountType"], object?["otherType"]].compactMap { $0 as? String }.filter {
                !$0.isEmpty
            }
            if !kind.isEmpty { item.setValue(kind.joined(separator: " "), of: "account type") }
        case ("keyPair", .sshKey):
            item.setValue((object?["privateKey"] as? String) ?? "", of: "private-key")
            item.setValue(
                ((object?["publicKey"] as? String) ?? "").trimmingWhitespace(), of: "public-key")
        case ("email", .identity):
            item.setValue(string, of: "email")
        case ("phone", .identity):
            item.setValue((object?["number"] as? String) ?? string, of: "phone")
        case ("birthDate", .identity):
            item.setValue(Self.day(value) ?? string, of: "birthday")
        case ("accountNumber", .identity) where label == "passportNumber":
            item.setValue(string, of: "passport")
        case ("licenseNumber", .license):
            item.setValue(string, of: "license-key")
        case ("note", _):
            item.notes = item.notes.isEmpty ? string : item.notes + "\n\n" + string
        default:
            let isDate = fieldType.lowercased().contains("date")
            let secret = ["password", "secret", "pin", "key", "code", "number", "security"].contains {
                name.lowercased().contains($0)
            }
            var fieldName = name
            var suffix = 2
            while item.kind(of: fieldName) != nil {
                fieldName = "\(name) \(suffix)"
                suffix += 1
            }
            item.setValue(
                isDate ? (Self.day(value) ?? string) : string, of: fieldName,
                kind: isDate ? .date : (secret ? .hidden : .text))
        }
    }

    /// A value as text: strings as they are, numbers plainly, lists one per line, objects as `key: value` lines.
    private static func string(_ value: Any) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        case let list as [Any]: return list.map(string).filter { !$0.isEmpty }.joined(separator: "\n")
        case let object as [String: Any]:
            return object.sorted { $0.key < $1.key }.compactMap { key, value in
                let text = string(value)
                return text.isEmpty ? nil : "\(key): \(text)"
            }.joined(separator: "\n")
        default: return ""
        }
    }

    private static func strings(_ value: Any) -> [String] {
        ((value as? [Any]) ?? [value]).compactMap { $0 as? String }.filter { !$0.isEmpty }
    }

    /// Keeper dates are milliseconds since 1970; shown as a day.
    private static func day(_ value: Any) -> String? {
        guard let milliseconds = (value as? NSNumber)?.doubleValue,
            let date = FileTime.date(secondsSince1970: milliseconds / 1000)
        else { return nil }
        return date.formatted(.iso8601.year().month().day())
    }
}
