import CofferModel
import Foundation

/// 1Password's older interchange format, `.1pif` (`data.1pif`): one JSON object per record, records
/// separated by a line `***5642bee8-a5ff-11dc-8314-0800200c9a66***`.
///
/// A record has a `typeName` (`webforms.WebForm`, `wallet.financial.CreditCard`, …), `title`,
/// `location`, `secureContents` (web-form `fields`, `URLs`, `notesPlain`, `sections` of `{k, n, t,
/// v}` fields, `passwordHistory`, and for older items the card or identity values as flat keys) and
/// `openContents.tags`. Section fields go through the same placing as 1PUX; folders and tombstones
/// are not items.
struct OnePIFImporter {
    static let separator = "***5642bee8-a5ff-11dc-8314-0800200c9a66***"

    let file: String
    let now: Date

    static func recognises(_ text: some StringProtocol) -> Bool {
        text.prefix(1 << 16).contains(separator)
    }

    private static let types: [String: ItemType] = [
        "webforms.WebForm": .login, "wallet.financial.CreditCard": .card, "securenotes.SecureNote": .note,
        "identities.Identity": .identity, "passwords.Password": .password,
        "wallet.financial.BankAccountUS": .bankAccount,
        "wallet.computer.License": .license, "wallet.computer.Router": .wifi, "wallet.onlineservices.Email.v2": .login,
        "wallet.computer.UnixServer": .login, "wallet.computer.Database": .login,
    ]

    func read(_ text: String) -> (items: [Item], skipped: [SkippedRecord]) {
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        var line = 1
        for chunk in text.components(separatedBy: Self.separator) {
            defer { line += chunk.filter(\.isNewline).count }
            let json = chunk.trimmingWhitespace()
            guard !json.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                skipped.append(SkippedRecord(line: line + 1, field: nil, reason: "this record is not valid JSON"))
                continue
            }
            let record = LooseJSON(value: object)
            let typeName = record["typeName"].string ?? ""
            if typeName.hasPrefix("system.") { continue }  // folders, tombstones
            items.append(item(record, typeName: typeName))
        }
        return (items, skipped)
    }

    /// Flat keys older records keep in `secureContents`, and the section field id each stands for.
    private static let flatKeys = [
        "cardholder", "ccnum", "cvv", "pin", "type", "firstname", "lastname", "email", "company", "defphone",
        "cellphone", "address", "bankName", "owner", "accountNo", "routingNo", "swift", "iban", "telephonePin",
        "network_name", "wireless_password", "wireless_security", "product_version", "reg_code", "reg_name",
        "reg_email", "pop_username", "pop_password",
    ]

    private func item(_ record: LooseJSON, typeName: String) -> Item {
        let secure = record["secureContents"]
        let type = Self.types[typeName] ?? .note
        var item = Item(type: type, title: record["title"].string ?? "Untitled", now: now)
        if Self.types[typeName] == nil, !typeName.isEmpty { item.setValue(typeName, of: "1Password type") }
        item.notes = secure["notesPlain"].string ?? ""
        item.urls = secure["URLs"].array.compactMap { $0["url"].string }.filter { !$0.isEmpty }
        if item.urls.isEmpty, let location = record["location"].string, !location.isEmpty { item.urls = [location] }
        item.tags = record["openContents"]["tags"].array.compactMap(\.string)
        item.isFavorite = (record["faveIndex"].number ?? record["openContents"]["faveIndex"].number ?? 0) > 0
        if let password = secure["password"].string, !password.isEmpty { item.setValue(password, of: "password") }
        for field in secure["fields"].array {
            guard let value = field["value"].string, !value.isEmpty else { continue }
            switch field["designation"].string {
            case "username": item.setValue(value, of: "username")
            case "password": item.setValue(value, of: "password")
            default:
                let name = field["name"].string ?? field["id"].string ?? "field"
                let kind: FieldKind =
                    field["type"].string == "P" ? .hidden : field["type"].string == "E" ? .email : .text
                item.keepField(value, named: name, kind: kind)
            }
        }
        for key in Self.flatKeys {
            guard let value = secure[key].string, !value.isEmpty else { continue }
            OnePUXImporter.place(value, kind: .text, id: key, title: key, section: "", in: &item)
        }
        if let month = secure["expiry_mm"].number, let year = secure["expiry_yy"].number, type == .card {
            item.setValue(String(format: "%02d/%04d", Int(month), Int(year)), of: "expiry")
        }
        for section in secure["sections"].array {
            let sectionTitle = section["title"].string ?? ""
            for field in section["fields"].array {
                // 1PIF writes {k: kind, n: id, t: title, v: value}; 1PUX's reader takes {kind: value}.
                guard let kind = field["k"].string, let raw = field["v"].value,
                    let (value, fieldKind) = OnePUXImporter.value(LooseJSON(value: [kind: raw])), !value.isEmpty
                else { continue }
                // One-time passwords are concealed fields whose id starts with TOTP_.
                let id = field["n"].string ?? ""
                OnePUXImporter.place(
                    value, kind: id.hasPrefix("TOTP_") ? .totp : fieldKind, id: id, title: field["t"].string ?? "",
                    section: sectionTitle, in: &item)
            }
        }
        item.passwordHistory = secure["passwordHistory"].array.compactMap { entry in
            entry["value"].string.map {
                PasswordHistoryEntry(
                    fieldName: "password", value: $0, replacedAt: entry["time"].secondsSince1970 ?? now)
            }
        }
        if let created = record["createdAt"].secondsSince1970 { item.created = created }
        if let updated = record["updatedAt"].secondsSince1970 { item.modified = updated }
        if record["trashed"].value as? Bool == true { item.trashedAt = item.modified }
        return item
    }
}
