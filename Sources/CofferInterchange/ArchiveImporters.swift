import CofferModel
import Foundation
import ZIPFoundation

/// Exports that come as ZIP archives: 1Password's `.1pux` (`export.data`, JSON) and Proton Pass
/// (`Proton Pass/data.json`). Entries are size-checked before they are read (no zip bombs).
enum ArchiveImporters {
    static func read(_ data: Data, file: String, now: Date) throws(ImportError) -> ImportedItems {
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw .malformed(file: file, line: nil, field: nil, reason: "it is a damaged or cut-short ZIP archive")
        }
        if let entry = archive["export.data"] {
            let json = try extract(entry, from: archive, file: file)
            // 1PUX keeps attached files as `files/<documentId>__<fileName>`.
            let files = Dictionary(
                archive.filter { $0.path.hasPrefix("files/") }.map {
                    (String($0.path.dropFirst("files/".count).split(separator: "_", maxSplits: 1).first ?? ""), $0)
                }, uniquingKeysWith: { first, _ in first })
            let attachment = { (documentID: String) throws(ImportError) -> Data? in
                guard let entry = files[documentID] else { return nil }
                return try extract(entry, from: archive, file: file)
            }
            return try OnePUXImporter(file: file, now: now, attachment: attachment).read(json)
        }
        if let entry = archive["Proton Pass/data.json"] {
            let json = try extract(entry, from: archive, file: file)
            return try ProtonPassJSONImporter(file: file, now: now).read(json)
        }
        let dashlaneFiles = ["credentials.csv", "securenotes.csv", "payments.csv", "ids.csv", "personalInfo.csv"]
        if dashlaneFiles.contains(where: { archive[$0] != nil }) {
            // Dashlane: one CSV per kind of item, each read; a CSV this reader does not know is named.
            var result = ImportedItems(format: .dashlaneCSV, items: [], skipped: [], notes: [])
            for entry in archive where entry.type == .file {
                guard dashlaneFiles.contains(entry.path) else {
                    result.notes.append(
                        "\(entry.path) in \(file) is not a Dashlane file Coffer reads; it was left out.")
                    continue
                }
                let data = try extract(entry, from: archive, file: file)
                // An empty file (no items of that kind) has a header and nothing else.
                guard data.contains(0x0A), data.split(separator: 0x0A).count > 1 else { continue }
                let part = try Importer.read(data: data, name: "\(file): \(entry.path)", format: .dashlaneCSV, now: now)
                result.items += part.items
                result.skipped += part.skipped
                result.notes += part.notes
            }
            return result
        }
        throw .unsupported(
            file: file,
            reason:
                "it is a ZIP archive without a 1Password export.data or a Proton Pass data.json; unpack it and import the CSV inside"
        )
    }

    private static func extract(_ entry: Entry, from archive: Archive, file: String) throws(ImportError) -> Data {
        guard entry.uncompressedSize <= UInt64(ImportLimits.maximumFileSize) else {
            throw .tooLarge(file: "\(file): \(entry.path)", bytes: Int(clamping: entry.uncompressedSize))
        }
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                data.append(chunk)
                if data.count > ImportLimits.maximumFileSize {
                    throw ImportError.tooLarge(file: file, bytes: data.count)
                }
            }
        } catch {
            throw .malformed(file: file, line: nil, field: entry.path, reason: "this entry of the archive is damaged")
        }
        return data
    }
}

/// A JSON value read loosely, for exports whose fields vary by version.
struct LooseJSON {
    let value: Any?

    subscript(_ key: String) -> LooseJSON { LooseJSON(value: (value as? [String: Any])?[key]) }
    var string: String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }
    var number: Double? { (value as? NSNumber)?.doubleValue ?? string.flatMap(Double.init) }
    /// A time given as seconds since 1970, when it lies within years 1 to 9999 (see ``FileTime``).
    var secondsSince1970: Date? { number.flatMap(FileTime.date(secondsSince1970:)) }
    var array: [LooseJSON] { ((value as? [Any]) ?? []).map { LooseJSON(value: $0) } }
    var object: [String: LooseJSON] { ((value as? [String: Any]) ?? [:]).mapValues { LooseJSON(value: $0) } }

    static func parse(_ data: Data, file: String) throws(ImportError) -> LooseJSON {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw .malformed(file: file, line: nil, field: nil, reason: "its JSON is not valid (cut short or damaged)")
        }
        return LooseJSON(value: object)
    }
}

/// 1Password 1PUX: `accounts[].vaults[].items[]`. Categories map to Coffer's types (login, card,
/// note, identity, password, software license, bank account, Wi-Fi, e-mail account as a login, SSH
/// key, server and database as logins; others become notes). Section fields keep their section:
/// a name already taken gets the section's title as a prefix, so a POP and an SMTP port, or two
/// phones, stay apart. Attached files and documents are imported while the item stays under the
/// size limit; the rest are named in the preview.
struct OnePUXImporter {
    let file: String
    let now: Date
    /// The content of an attached file by its document id, from the archive.
    var attachment: (String) throws(ImportError) -> Data? = { _ throws(ImportError) in nil }

    func read(_ data: Data) throws(ImportError) -> ImportedItems {
        let root = try LooseJSON.parse(data, file: file)
        guard root["accounts"].value is [Any] else {
            throw .malformed(
                file: file, line: nil, field: "accounts", reason: "it is not a 1Password export (no accounts)")
        }
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for account in root["accounts"].array {
            for vault in account["vaults"].array {
                let vaultName = vault["attrs"]["name"].string
                for source in vault["items"].array {
                    var item = item(source, vault: vaultName)
                    try attachFiles(of: source, to: &item, skipped: &skipped)
                    items.append(item)
                }
            }
        }
        return ImportedItems(format: .onePasswordPUX, items: items, skipped: skipped, notes: [])
    }

    /// 1Password's category ids and the Coffer type each becomes.
    private static let categories: [String: ItemType] = [
        "001": .login, "002": .card, "004": .identity, "005": .password, "100": .license, "101": .bankAccount,
        "109": .wifi, "111": .login, "114": .sshKey, "110": .login, "102": .login, "112": .login,
    ]

    /// Section field ids with a place in Coffer's types.
    static let standard: [String: String] = [
        "cardholder": "cardholder", "ccnum": "number", "cvv": "cvv", "pin": "pin", "type": "brand",
        "firstname": "first-name", "lastname": "last-name", "email": "email", "company": "company",
        "defphone": "phone", "cellphone": "phone", "address": "address", "birthdate": "birthday",
        "bankName": "bank", "owner": "holder", "accountNo": "account-number", "routingNo": "routing-number",
        "swift": "bic", "iban": "iban", "telephonePin": "pin", "network_name": "ssid",
        "wireless_password": "password", "wireless_security": "security", "product_version": "version",
        "reg_code": "license-key", "reg_name": "licensed-to", "reg_email": "email", "pop_username": "username",
        "pop_password": "password", "username": "username", "password": "password", "private_key": "private-key",
        "public_key": "public-key", "fingerprint": "fingerprint", "number": "passport",
    ]

    /// Attached files (section fields of kind `file`) and a Document item's own file, while the
    /// item stays under the size limit; any other is named in the preview.
    private func attachFiles(of source: LooseJSON, to item: inout Item, skipped: inout [SkippedRecord])
        throws(ImportError)
    {
        var files: [(id: String, name: String)] = []
        let document = source["details"]["documentAttributes"]
        if let id = document["documentId"].string { files.append((id, document["fileName"].string ?? "document")) }
        for section in source["details"]["sections"].array {
            for field in section["fields"].array {
                let attached = field["value"]["file"]
                if let id = attached["documentId"].string { files.append((id, attached["fileName"].string ?? "file")) }
            }
        }
        for file in files {
            guard let data = try attachment(file.id) else {
                skipped.append(
                    SkippedRecord(
                        line: nil, field: "\(item.title)/\(file.name)",
                        reason: "the attached file is not in the archive"))
                continue
            }
            var candidate = item
            candidate.attachments.append(Attachment(name: file.name, data: data))
            guard candidate.fitsSizeLimit else {
                skipped.append(
                    SkippedRecord(
                        line: nil, field: "\(item.title)/\(file.name)",
                        reason:
                            "the attached file (\(ByteCount(data.count))) would take the item over its size limit; the item is imported without it"
                    ))
                continue
            }
            item = candidate
        }
    }

    private func item(_ source: LooseJSON, vault: String?) -> Item {
        let category = source["categoryUuid"].string ?? ""
        let type = Self.categories[category] ?? .note
        let overview = source["overview"]
        let details = source["details"]
        var item = Item(type: type, title: overview["title"].string ?? "Untitled", now: now)
        item.urls = overview["urls"].array.compactMap { $0["url"].string }
        if item.urls.isEmpty, let url = overview["url"].string, !url.isEmpty { item.urls = [url] }
        item.tags = overview["tags"].array.compactMap(\.string) + (vault.map { [$0] } ?? [])
        if source["state"].string == "archived" { item.tags.append("archived") }
        item.isFavorite = (source["favIndex"].number ?? 0) > 0
        item.notes = details["notesPlain"].string ?? ""
        if let password = details["password"].string { item.setValue(password, of: "password", kind: .hidden) }
        for field in details["loginFields"].array {
            guard let value = field["value"].string, !value.isEmpty else { continue }
            switch field["designation"].string {
            case "username": item.setValue(value, of: "username")
            case "password": item.setValue(value, of: "password", kind: .hidden)
            default:
                let name = field["name"].string ?? "field"
                item.setValue(value, of: name, kind: field["fieldType"].string == "P" ? .hidden : .text)
            }
        }
        for section in details["sections"].array {
            let sectionTitle = section["title"].string ?? ""
            for field in section["fields"].array {
                let id = field["id"].string ?? ""
                let title = field["title"].string ?? ""
                if field["value"]["file"].value != nil { continue }  // attached files: see attachFiles
                guard let (value, kind) = Self.value(field["value"]), !value.isEmpty else { continue }
                Self.place(value, kind: kind, id: id, title: title, section: sectionTitle, in: &item)
            }
        }
        item.passwordHistory = details["passwordHistory"].array.compactMap { entry in
            entry["value"].string.map {
                PasswordHistoryEntry(
                    fieldName: "password", value: $0,
                    replacedAt: entry["time"].secondsSince1970 ?? now)
            }
        }
        if let created = source["createdAt"].secondsSince1970 { item.created = created }
        if let updated = source["updatedAt"].secondsSince1970 { item.modified = updated }
        return item
    }

    /// Puts one section field where it belongs: the TOTP, a standard field of the item's type while
    /// empty, or a custom field under a name not yet used. Shared by 1PUX and 1PIF.
    static func place(_ value: String, kind: FieldKind, id: String, title: String, section: String, in item: inout Item)
    {
        func isEmpty(_ name: String) -> Bool { item.kind(of: name) != nil && (item.value(of: name) ?? "").isEmpty }
        if kind == .totp, isEmpty("totp") {
            item.setValue(value, of: "totp", kind: .totp)
        } else if let name = standard[id], isEmpty(name) {
            item.setValue(value, of: name)
        } else if id == "expiry", item.type == .card, isEmpty("expiry") {
            item.setValue(value, of: "expiry")
        } else {
            item.keepField(value, named: title.isEmpty ? id : title, section: section, kind: kind)
        }
    }

    /// A section field's value: `{"concealed": …}`, `{"totp": …}`, `{"monthYear": 202901}`, ….
    static func value(_ value: LooseJSON) -> (String, FieldKind)? {
        guard let (kind, content) = value.object.first else { return nil }
        switch kind {
        case "concealed", "creditCardNumber": return content.string.map { ($0, .hidden) }
        case "totp": return content.string.map { ($0, .totp) }
        case "sshKey": return (content["privateKey"].string ?? content.string).map { ($0, .hidden) }
        case "url": return content.string.map { ($0, .url) }
        case "email": return (content.string ?? content["email_address"].string).map { ($0, .email) }
        case "monthYear":
            // 202901 is January 2029; anything else a file holds is kept as it was written.
            guard let number = content.number else { return nil }
            guard let value = FileTime.monthYear(number) else { return content.string.map { ($0, .text) } }
            return (String(format: "%02d/%04d", value % 100, value / 100), .text)
        case "date":
            guard let seconds = content.number else { return nil }
            guard let date = FileTime.date(secondsSince1970: seconds) else { return content.string.map { ($0, .text) } }
            return (date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day()), .date)
        case "address":
            let parts = ["street", "city", "state", "zip", "country"].compactMap { content[$0].string }
                .filter { !$0.isEmpty }
            return (parts.joined(separator: ", "), .text)
        default: return content.string.map { ($0, .text) }
        }
    }
}

/// Proton Pass `data.json`: `vaults{id: {name, items[{data{metadata{name,note},type,content{…},extraFields}}]}}`.
struct ProtonPassJSONImporter {
    let file: String
    let now: Date

    func read(_ data: Data) throws(ImportError) -> ImportedItems {
        let root = try LooseJSON.parse(data, file: file)
        if root["encrypted"].value as? Bool == true {
            throw .unsupported(file: file, reason: "this Proton Pass export is encrypted (PGP); export it unencrypted")
        }
        var items: [Item] = []
        for (_, vault) in root["vaults"].object.sorted(by: { $0.key < $1.key }) {
            for source in vault["items"].array {
                let data = source["data"]
                let kind = data["type"].string ?? ""
                let content = data["content"]
                let types: [String: ItemType] = [
                    "login": .login, "alias": .login, "creditCard": .card, "identity": .identity, "sshKey": .sshKey,
                    "wifi": .wifi, "note": .note,
                ]
                // A type this reader does not know still keeps its values, as a note.
                let type = types[kind] ?? .note
                var item = Item(type: type, title: data["metadata"]["name"].string ?? "Untitled", now: now)
                item.notes = data["metadata"]["note"].string ?? ""
                if let name = vault["name"].string { item.tags = [name] }
                item.isFavorite = source["pinned"].value as? Bool ?? false
                if types[kind] == nil {
                    item.setValue(kind, of: "Proton Pass type")
                    Self.keep(content, in: &item, except: [])
                }
                switch kind {
                case "login":
                    let username = content["itemUsername"].string ?? ""
                    let email = content["itemEmail"].string ?? ""
                    item.setValue(username.isEmpty ? email : username, of: "username")
                    if !username.isEmpty, !email.isEmpty { item.setValue(email, of: "email", kind: .email) }
                    item.setValue(content["password"].string ?? "", of: "password")
                    item.setValue(content["totpUri"].string ?? "", of: "totp")
                    item.urls = content["urls"].array.compactMap(\.string)
                case "alias":
                    // An alias is an address that forwards to the user's mailbox: a login by that name.
                    item.setValue(source["aliasEmail"].string ?? data["metadata"]["name"].string ?? "", of: "username")
                    item.tags.append("Proton alias")
                case "creditCard":
                    item.setValue(content["cardholderName"].string ?? "", of: "cardholder")
                    item.setValue(content["number"].string ?? "", of: "number")
                    item.setValue(content["verificationNumber"].string ?? "", of: "cvv")
                    item.setValue(content["pin"].string ?? "", of: "pin")
                    item.setValue(content["expirationDate"].string ?? "", of: "expiry")
                case "identity":
                    Self.identity(content, into: &item)
                case "sshKey":
                    item.setValue(content["privateKey"].string ?? "", of: "private-key")
                    item.setValue(content["publicKey"].string ?? "", of: "public-key")
                    Self.keep(content, in: &item, except: ["privateKey", "publicKey"])
                case "wifi":
                    item.setValue(content["ssid"].string ?? "", of: "ssid")
                    item.setValue(content["password"].string ?? "", of: "password")
                    let security = content["security"]
                    item.setValue(security.string ?? security.number.map { String(Int($0)) } ?? "", of: "security")
                    Self.keep(content, in: &item, except: ["ssid", "password", "security"])
                default: break
                }
                for extra in data["extraFields"].array {
                    let name = extra["fieldName"].string ?? "field"
                    let value = extra["data"]["content"].string ?? extra["data"]["totpUri"].string ?? ""
                    let fieldKind: FieldKind =
                        extra["type"].string == "hidden" ? .hidden : extra["type"].string == "totp" ? .totp : .text
                    if !value.isEmpty { item.setValue(value, of: name, kind: fieldKind) }
                }
                if let created = source["createTime"].secondsSince1970 { item.created = created }
                if let modified = source["modifyTime"].secondsSince1970 { item.modified = modified }
                if source["state"].number == 2 { item.trashedAt = item.modified }
                items.append(item)
            }
        }
        return ImportedItems(format: .protonPassJSON, items: items, skipped: [], notes: [])
    }
}

extension ProtonPassJSONImporter {
    /// Identity fields Proton Pass names and the Coffer field each fills; the rest are kept as custom fields.
    private static let identityFields: [String: String] = [
        "firstName": "first-name", "lastName": "last-name", "email": "email", "phoneNumber": "phone",
        "birthdate": "birthday", "company": "company", "passportNumber": "passport",
    ]

    static func identity(_ content: LooseJSON, into item: inout Item) {
        let middle = content["middleName"].string ?? ""
        for (key, field) in identityFields {
            var value = content[key].string ?? ""
            if key == "firstName", !middle.isEmpty {
                value = [value, middle].filter { !$0.isEmpty }.joined(separator: " ")
            }
            if !value.isEmpty { item.setValue(value, of: field) }
        }
        if (item.value(of: "first-name") ?? "").isEmpty, let full = content["fullName"].string, !full.isEmpty {
            item.setValue(full, of: "first-name")
        }
        let address = [
            "streetAddress", "floor", "city", "zipOrPostalCode", "stateOrProvince", "county", "countryOrRegion",
        ]
        .compactMap { content[$0].string }.filter { !$0.isEmpty }
        if !address.isEmpty { item.setValue(address.joined(separator: ", "), of: "address") }
        keep(
            content, in: &item,
            except: Set(identityFields.keys).union(["middleName", "fullName"]).union([
                "streetAddress", "floor", "city", "zipOrPostalCode", "stateOrProvince", "county", "countryOrRegion",
            ]))
    }

    /// Keeps every other non-empty value of `content` as a custom field: strings under their key
    /// (hidden when it looks secret), extra-field lists and sections by their field names.
    static func keep(_ content: LooseJSON, in item: inout Item, except used: Set<String>) {
        for (key, value) in content.object.sorted(by: { $0.key < $1.key }) where !used.contains(key) {
            if let text = value.string ?? value.number.map({ String(describing: $0) }), !text.isEmpty {
                let secret = ["number", "password", "secret", "private", "pin"].contains {
                    key.lowercased().contains($0)
                }
                item.setValue(text, of: key, kind: secret ? .hidden : .text)
            }
            for extra in value.array {
                let fields = extra["sectionFields"].array.isEmpty ? [extra] : extra["sectionFields"].array
                for field in fields {
                    let name = field["fieldName"].string ?? key
                    let text = field["data"]["content"].string ?? ""
                    guard !text.isEmpty else { continue }
                    item.setValue(text, of: name, kind: field["type"].string == "hidden" ? .hidden : .text)
                }
            }
        }
    }
}
