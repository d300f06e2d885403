import CofferModel
import Foundation

/// 1Password 7's CSV export with all fields. The Mac and Windows apps write different layouts, both
/// with quotes escaped by a backslash (``CSVReader/QuoteEscape/backslash``):
///
/// - **Mac**: one column per field any item type has, named `label(key)` (`number(ccnum)`, `first
///   name(firstname)`), plus `Title`, `Type` (`Login`, `Credit Card`, …), `Username`, `Password`,
///   `URL`, `Notes`, `Tags` (printed as a set: `{(\n "Starter Kit",\n Work\n)}`), `Created Date` and
///   `Modified Date` (seconds since 1970) and `Scope`. The keys are 1Password's field ids, so fields are
///   placed as in 1PUX and 1PIF.
/// - **Windows**: upper-case columns `UUID, TITLE, USERNAME, PASSWORD, URL, URLS, EMAIL, NOTES, TAGS,
///   SCOPE, AUTOSUBMIT, …`, then the items' sections: `SECTION n: ID` holds a section's title, `ID k:
///   LABEL` (or `k: LABEL` in the unnamed section) one of its fields. There is no type column: the type
///   follows from the fields (a card number with an expiry date is a card, a first or last name an
///   identity).
///
/// Left out on purpose, as they have no meaning outside 1Password: the Windows `UUID` (an id), a
/// `Scope` or `AUTOSUBMIT` of `Default` (autofill settings; other values are kept as fields).
struct OnePassword7CSVImporter {
    enum Layout: Sendable {
        case mac, windows
    }

    let layout: Layout
    let now: Date

    /// The layout a header row (normalized column names) has, if it is one of 1Password 7's.
    static func layout(of columns: [String]) -> Layout? {
        let names = Set(columns)
        if names.isSuperset(of: ["uuid", "title", "scope", "autosubmit"]) { return .windows }
        let keyed = columns.contains { $0.hasSuffix(")") && $0.contains("(") }
        if names.isSuperset(of: ["title", "type"]), keyed, names.contains("scope") || names.contains("notes") {
            return .mac
        }
        return nil
    }

    /// Items from the records (the first is the header), with notes on values kept as written.
    func read(_ records: [CSVRecord]) -> ImportedItems {
        guard let header = records.first?.cells else {
            return ImportedItems(format: .onePasswordCSV, items: [], skipped: [], notes: [])
        }
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        var notes: [String] = []
        let windowsColumns = header.map(WindowsColumn.init)
        for record in records.dropFirst() {
            if record.cells.count > header.count {
                skipped.append(.tooManyCells(record, headerCount: header.count))
                continue
            }
            let cells = record.cells.map { $0.trimmingWhitespace() }
            if cells.allSatisfy(\.isEmpty) { continue }
            switch layout {
            case .mac: items.append(macItem(cells, header: header))
            case .windows:
                let (item, note) = windowsItem(cells, columns: windowsColumns, line: record.line)
                items.append(item)
                if let note { notes.append(note) }
            }
        }
        return ImportedItems(format: .onePasswordCSV, items: items, skipped: skipped, notes: notes)
    }

    // MARK: Mac

    /// The `Type` column's values and the Coffer type each becomes; others are notes that keep the
    /// type's name in a field.
    private static let macTypes: [String: ItemType] = [
        "Login": .login, "Credit Card": .card, "Identity": .identity, "Secure Note": .note, "Password": .password,
        "Bank Account": .bankAccount, "Wireless Router": .wifi, "Software License": .license, "Email Account": .login,
        "Database": .login, "Server": .login,
    ]

    private func macItem(_ cells: [String], header: [String]) -> Item {
        func cell(_ name: String) -> String {
            header.firstIndex { ImportFormat.normalizedColumn($0) == name }.flatMap {
                $0 < cells.count ? cells[$0] : nil
            }
                ?? ""
        }
        let typeName = cell("type")
        var item = Item(type: Self.macTypes[typeName] ?? .note, title: cell("title"), now: now)
        if item.title.isEmpty { item.title = "Untitled" }
        if Self.macTypes[typeName] == nil, !typeName.isEmpty { item.setValue(typeName, of: "1Password type") }
        for (index, column) in header.enumerated() where index < cells.count && !cells[index].isEmpty {
            let value = cells[index]
            switch ImportFormat.normalizedColumn(column) {
            case "title", "type": continue
            case "notes": item.notes = value
            case "tags": item.tags = Self.macTags(value)
            case "url", "url(url)": item.urls.append(value)
            case "username", "password":
                OnePUXImporter.place(
                    value, kind: .text, id: column.lowercased(), title: column.lowercased(), section: "", in: &item)
            case "created date", "modified date":
                guard let date = CSVImporters.epochSeconds(value) else {
                    item.keepField(value, named: column)
                    continue
                }
                if column.lowercased().hasPrefix("created") { item.created = date } else { item.modified = date }
            case "scope" where value == "Default": continue
            default:
                let (label, key) = Self.labelAndKey(column)
                OnePUXImporter.place(
                    value, kind: FieldSecrecy.looksSecret(label) ? .hidden : .text, id: key ?? label, title: label,
                    section: "", in: &item)
            }
        }
        return item
    }

    /// `number(ccnum)` → ("number", "ccnum"); `member ID (additional)(additional_no)` keeps its own
    /// parentheses in the label. A column without a key is its own label.
    private static func labelAndKey(_ column: String) -> (String, String?) {
        guard column.hasSuffix(")"), let open = column.lastIndex(of: "("), open > column.startIndex else {
            return (column, nil)
        }
        let key = column[column.index(after: open)..<column.index(before: column.endIndex)]
        return (String(column[..<open]).trimmingWhitespace(), key.isEmpty ? nil : String(key))
    }

    /// The Mac app prints an item's tags as a set: `{(\n    "Starter Kit",\n    Work\n)}`.
    static func macTags(_ value: String) -> [String] {
        var inner = Substring(value)
        if inner.hasPrefix("{("), inner.hasSuffix(")}") { inner = inner.dropFirst(2).dropLast(2) }
        return inner.split(whereSeparator: { $0 == "," || $0.isNewline }).map { part in
            var tag = part.trimmingWhitespace()
            if tag.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\"") { tag = String(tag.dropFirst().dropLast()) }
            return tag
        }.filter { !$0.isEmpty }
    }

    // MARK: Windows

    /// One column of the Windows layout.
    enum WindowsColumn: Equatable {
        /// One of the item's own columns (`TITLE`, `URLS`, …), normalized.
        case own(String)
        /// `SECTION n: ID`: the cell holds the title of section `ID`.
        case sectionTitle(id: String)
        /// `ID k: LABEL`, or `k: LABEL` (no section).
        case field(section: String?, label: String)

        init(_ column: String) {
            let text = column.trimmingWhitespace()
            guard let colon = text.range(of: ": ") else {
                self = .own(ImportFormat.normalizedColumn(text))
                return
            }
            let prefix = text[..<colon.lowerBound].split(separator: " ")
            let label = String(text[colon.upperBound...])
            guard let last = prefix.last, last.allSatisfy(\.isNumber) else {
                self = .own(ImportFormat.normalizedColumn(text))
                return
            }
            let owner = prefix.dropLast().joined(separator: " ")
            if owner.uppercased() == "SECTION" {
                self = .sectionTitle(id: label)
            } else {
                self = .field(section: owner.isEmpty ? nil : owner, label: label)
            }
        }
    }

    /// Windows field labels (upper-case in the file) and the 1Password field id each stands for, so
    /// they are placed as in 1PUX; `number` is a card's number only on a card.
    private static let windowsKeys: [String: String] = [
        "cardholder name": "cardholder", "verification number": "cvv", "expiry date": "expiry",
        "first name": "firstname", "last name": "lastname", "default phone": "defphone", "birth date": "birthdate",
        "company": "company", "address": "address", "email": "email", "pin": "pin", "cell": "cellphone",
    ]

    private func windowsItem(_ cells: [String], columns: [WindowsColumn], line: Int) -> (Item, String?) {
        var own: [String: String] = [:]
        var sectionTitles: [String: String] = [:]
        var fields: [(section: String?, label: String, value: String)] = []
        for (index, column) in columns.enumerated() where index < cells.count && !cells[index].isEmpty {
            switch column {
            case .own(let name): own[name] = cells[index]
            case .sectionTitle(let id): sectionTitles[id] = cells[index]
            case .field(let section, let label): fields.append((section, label.lowercased(), cells[index]))
            }
        }
        let labels = Set(fields.map(\.label))
        let type: ItemType
        if labels.contains("number"), labels.contains("expiry date") || labels.contains("cardholder name") {
            type = .card
        } else if !labels.isDisjoint(with: ["first name", "last name", "initial"]) {
            type = .identity
        } else if ["username", "password", "url", "urls"].contains(where: { own[$0] != nil }) {
            type = own["username"] == nil && own["url"] == nil && own["urls"] == nil ? .password : .login
        } else {
            type = .note
        }
        var item = Item(type: type, title: own["title"] ?? "Untitled", now: now)
        item.notes = own["notes"] ?? ""
        item.tags = CSVImporters.list(own["tags"] ?? "")
        item.urls = (own["urls"]?.split(whereSeparator: \.isNewline).map(String.init) ?? [])
        if let url = own["url"], !item.urls.contains(url) { item.urls.insert(url, at: 0) }
        if let username = own["username"] { item.setValue(username, of: "username") }
        if let password = own["password"] { item.setValue(password, of: "password", kind: .hidden) }
        if let email = own["email"] {
            if type == .login, own["username"] == nil {
                item.setValue(email, of: "username")
            } else {
                OnePUXImporter.place(email, kind: .email, id: "email", title: "E-mail", section: "", in: &item)
            }
        }
        for (name, label) in [("master-password", "Master password"), ("account-key", "Account key")] {
            if let value = own[name] { item.setValue(value, of: label, kind: .hidden) }
        }
        for (name, value) in own.sorted(by: { $0.key < $1.key }) {
            guard !Self.windowsOwnColumns.contains(name),
                !(["scope", "autosubmit"].contains(name) && value == "Default")
            else {
                continue
            }
            item.keepField(value, named: Self.sentenceCase(name))
        }
        var note: String?
        for field in fields {
            let section = field.section.flatMap { sectionTitles[$0] } ?? ""
            let title = Self.sentenceCase(field.label)
            var key = Self.windowsKeys[field.label] ?? field.label
            if field.label == "number", type == .card { key = "ccnum" }
            var value = field.value
            if key == "expiry", type == .card {
                guard let expiry = Self.windowsExpiry(value) else {
                    let name = FieldNames(of: item).free("Expiry date (as exported)", section: "")
                    item.setValue(value, of: name)
                    note =
                        "\(item.title) (line \(line)): 1Password 7 for Windows wrote the card's expiry as \"\(value)\" (a known fault of its export, which turns the month and year into a date in 1970); it is kept as written in the field \"\(name)\". Set the expiry by hand."
                    continue
                }
                value = expiry
            }
            if key == "birthdate", let date = Self.windowsDate(value) { value = date }
            let kind: FieldKind = FieldSecrecy.looksSecret(field.label) || key == "ccnum" ? .hidden : .text
            OnePUXImporter.place(value, kind: kind, id: key, title: title, section: section, in: &item)
        }
        return (item, note)
    }

    /// The Windows layout's own columns that have a place (or, for `UUID`, none on purpose).
    private static let windowsOwnColumns: Set = [
        "uuid", "title", "notes", "tags", "urls", "url", "username", "password", "email", "master-password",
        "account-key",
    ]

    /// `01/2030` or `1/2030` as MM/YYYY; anything else (the 1970 dates of the export's fault) is not an expiry.
    private static func windowsExpiry(_ value: String) -> String? {
        let parts = value.split(separator: "/")
        guard parts.count == 2, let month = Int(parts[0]), (1...12).contains(month), parts[1].count == 4,
            let year = Int(parts[1]), year > 1970
        else { return nil }
        return String(format: "%02d/%04d", month, year)
    }

    /// `12/2/2020 4:01 AM` (month/day/year and a time) as 2020-12-02; the time is not part of a date of birth.
    private static func windowsDate(_ value: String) -> String? {
        let parts = value.split(separator: " ").first?.split(separator: "/") ?? []
        guard parts.count == 3, let month = Int(parts[0]), let day = Int(parts[1]), let year = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day), (1...9999).contains(year)
        else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// `FIRST NAME` → `First name`; abbreviations stay upper-case (`PIN`, `IBAN`).
    static func sentenceCase(_ label: String) -> String {
        let keep: Set = ["PIN", "IBAN", "SWIFT", "URL", "SID", "ICQ", "MSN", "SMTP", "POP", "CVV", "ID", "SSID", "IP"]
        return label.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { index, word in
            let upper = word.uppercased()
            if keep.contains(upper) { return upper }
            let lower = word.lowercased()
            return index == 0 ? lower.prefix(1).uppercased() + lower.dropFirst() : lower
        }.joined(separator: " ")
    }
}

/// Whether a field's name says its value is a secret (a password, PIN, key, security code), so an
/// importer hides it when the format does not say.
enum FieldSecrecy {
    static func looksSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        let words = Set(lowered.split { !$0.isLetter })
        return !words.isDisjoint(with: ["password", "passphrase", "pin", "secret", "private", "cvv", "cvc"])
            || lowered.contains("security code") || lowered.contains("security answer")
            || lowered.contains("verification number")
    }
}
