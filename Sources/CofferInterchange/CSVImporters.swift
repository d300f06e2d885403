import CofferModel
import Foundation

/// One data row addressed by column name; remembers which columns were used so the rest become
/// custom fields instead of being dropped.
struct CSVRow {
    let line: Int
    private let header: [String]
    private let cells: [String]
    /// Which of the header's columns a mapping took or ignored, by position (a set of names cost a
    /// tenth of reading a 100,000-row file).
    private var used: [Bool]

    init(line: Int, header: [String], cells: [String]) {
        self.line = line
        self.header = header
        self.cells = cells
        used = [Bool](repeating: false, count: header.count)
    }

    /// The trimmed value of `column` ("" when absent), marking it used.
    mutating func take(_ column: String) -> String {
        guard let index = header.firstIndex(of: column) else { return "" }
        used[index] = true
        return index < cells.count ? cells[index].trimmingWhitespace() : ""
    }

    /// Whether the file has `column`.
    func has(_ column: String) -> Bool { header.contains(column) }

    /// Marks columns as deliberately not imported (display-only data such as icons).
    mutating func ignore(_ columns: String...) {
        for column in columns { if let index = header.firstIndex(of: column) { used[index] = true } }
    }

    /// Non-empty values of columns no mapping used, as custom fields named like the column.
    func leftovers() -> [Field] {
        header.enumerated().compactMap { index, column in
            guard !used[index], index < cells.count else { return nil }
            let value = cells[index].trimmingWhitespace()
            return value.isEmpty ? nil : Field(name: column, kind: .text, value: value)
        }
    }

    /// Cells beyond the header's columns (a broken row).
    var extraCells: Int { max(0, cells.count - header.count) }
}

/// Maps the rows of each CSV format to items. Every function fills what the format has and leaves
/// the rest to `finish`, which keeps unmapped columns as custom fields.
struct CSVImporters {
    let now: Date

    func item(_ format: ImportFormat, _ row: inout CSVRow, columns: ColumnMapping?) -> Item? {
        var item: Item?
        switch format {
        case .bitwardenCSV: item = bitwarden(&row)
        case .onePasswordCSV, .applePasswordsCSV: item = onePassword(&row)
        case .lastPassCSV: item = lastPass(&row)
        case .chromeCSV: item = chrome(&row)
        case .firefoxCSV: item = firefox(&row)
        case .keepassxcCSV: item = keepassxc(&row)
        case .dashlaneCSV: item = dashlane(&row)
        case .protonPassCSV: item = protonPass(&row)
        case .nordPassCSV: item = nordPass(&row)
        case .roboFormCSV: item = roboForm(&row)
        case .mykiCSV: item = myki(&row)
        case .genericCSV: item = columns.map { generic(&row, $0) }
        case .msecureCSV, .bitwardenJSON, .cofferExport, .onePasswordPUX, .protonPassJSON, .keepassKDBX, .keepassXML,
            .keeperJSON, .keeperCSV, .psonoJSON, .enpassJSON, .safeInCloudXML,
            .onePasswordPIF:
            item = nil
        }
        guard var item else { return nil }
        item.customFields += row.leftovers()
        if item.title.isEmpty { item.title = Self.title(fromURL: item.urls.first) ?? "Untitled" }
        return item
    }

    private func login(title: String, username: String, password: String, urls: [String], totp: String = "") -> Item {
        var item = Item(type: .login, title: title, now: now)
        item.setValue(username, of: "username")
        item.setValue(password, of: "password")
        item.setValue(totp, of: "totp")
        item.urls = urls.filter { !$0.isEmpty }
        return item
    }

    private func bitwarden(_ row: inout CSVRow) -> Item {
        let type = row.take("type").lowercased()
        var item = login(
            title: row.take("name"), username: row.take("login_username"), password: row.take("login_password"),
            urls: row.take("login_uri").split(separator: ",").map { $0.trimmingWhitespace() },
            totp: row.take("login_totp"))
        if type == "note" {
            item.type = .note
            item.fields = []
        }
        item.notes = row.take("notes")
        item.isFavorite = row.take("favorite") == "1"
        // An organisation's export lists an item's collections in one cell, comma-separated.
        let collections = row.take("collections").split(separator: ",").map { $0.trimmingWhitespace() }
        item.tags = ([row.take("folder")] + collections).filter { !$0.isEmpty }
        if row.take("reprompt") == "1" { item.tags.append("reprompt") }
        // One "name: value" per line; the name ends at the last ": ".
        for line in row.take("fields").split(whereSeparator: \.isNewline) {
            let text = String(line)
            if let range = text.range(of: ": ", options: .backwards) {
                item.customFields.append(
                    Field(
                        name: String(text[..<range.lowerBound]), kind: .text, value: String(text[range.upperBound...])))
            } else if !text.isEmpty {
                item.customFields.append(Field(name: text, kind: .text, value: ""))
            }
        }
        return item
    }

    private func onePassword(_ row: inout CSVRow) -> Item {
        var item = login(
            title: row.take("title"), username: row.take("username"), password: row.take("password"),
            urls: [row.take("url")], totp: row.take("otpauth"))
        item.notes = row.take("notes")
        item.isFavorite = ["true", "1", "yes"].contains(row.take("favorite").lowercased())
        item.tags = Self.list(row.take("tags"))
        if ["true", "1", "yes"].contains(row.take("archived").lowercased()) { item.tags.append("archived") }
        return item
    }

    private func lastPass(_ row: inout CSVRow) -> Item {
        let url = row.take("url")
        var item = login(
            title: row.take("name"), username: row.take("username"), password: row.take("password"),
            urls: [url], totp: row.take("totp"))
        item.notes = row.take("extra")
        if url == "http://sn" {
            // A secure note; typed ones (cards, addresses, bank accounts…) carry their fields as text.
            let typed = LastPassNote(item.notes)
            var note = Item(type: typed?.type ?? .note, title: item.title, now: now)
            for (name, value) in typed?.fields ?? [:] { note.setValue(value, of: name) }
            note.customFields = typed?.customFields ?? []
            note.notes = typed?.notes ?? item.notes
            item = note
        }
        item.isFavorite = row.take("fav") == "1"
        let group = row.take("grouping").replacingOccurrences(of: "\\", with: "/")
        if !group.isEmpty { item.tags = [group] }
        return item
    }

    private func chrome(_ row: inout CSVRow) -> Item {
        var item = login(
            title: row.take("name"), username: row.take("username"), password: row.take("password"),
            urls: [row.take("url")])
        item.notes = row.take("note")
        return item
    }

    private func firefox(_ row: inout CSVRow) -> Item {
        let url = row.take("url")
        var item = login(
            title: Self.title(fromURL: url) ?? url, username: row.take("username"), password: row.take("password"),
            urls: [url])
        if let created = Self.epochMilliseconds(row.take("timecreated")) { item.created = created }
        if let changed = Self.epochMilliseconds(row.take("timepasswordchanged")) { item.modified = changed }
        row.ignore("timelastused", "guid")
        return item
    }

    private func keepassxc(_ row: inout CSVRow) -> Item {
        var item = login(
            title: row.take("title"), username: row.take("username"), password: row.take("password"),
            urls: [row.take("url")], totp: row.take("totp"))
        item.notes = row.take("notes")
        // The group path starts with the root group's name, which says nothing.
        let path = row.take("group").split(separator: "/").dropFirst().joined(separator: "/")
        if !path.isEmpty { item.tags = [path] }
        if let created = Self.isoDate(row.take("created")) { item.created = created }
        if let modified = Self.isoDate(row.take("last modified")) { item.modified = modified }
        row.ignore("icon")
        return item
    }

    /// Dashlane writes one CSV per kind of item; each is told apart by its columns.
    private func dashlane(_ row: inout CSVRow) -> Item {
        if row.has("cc_number") || row.has("account_name") { return dashlanePayment(&row) }
        if row.has("place_of_issue") || row.has("issue_date") { return dashlaneID(&row) }
        if row.has("first_name") || row.has("email_type") || row.has("item_name") { return dashlanePersonalInfo(&row) }
        if !row.has("password"), !row.has("username") {
            var note = Item(type: .note, title: row.take("title"), now: now)
            note.notes = row.take("note")
            let category = row.take("category")
            if !category.isEmpty { note.tags = [category] }
            return note
        }
        var item = login(
            title: row.take("title"), username: row.take("username"), password: row.take("password"),
            urls: [row.take("url")])
        let otp = row.take("otpurl")
        item.setValue(otp.isEmpty ? row.take("otpsecret") : otp, of: "totp")
        row.ignore("otpsecret")
        item.notes = row.take("note")
        let category = row.take("category")
        if !category.isEmpty { item.tags = [category] }
        return item
    }

    /// `payments.csv`: payment cards and bank accounts.
    private func dashlanePayment(_ row: inout CSVRow) -> Item {
        let isBank = row.take("type").lowercased().contains("bank")
        var item = Item(type: isBank ? .bankAccount : .card, title: row.take("account_name"), now: now)
        if isBank {
            item.setValue(row.take("account_holder"), of: "holder")
            item.setValue(row.take("account_number"), of: "account-number")
            item.setValue(row.take("routing_number"), of: "routing-number")
            item.setValue(row.take("issuing_bank"), of: "bank")
        } else {
            item.setValue(row.take("account_holder"), of: "cardholder")
            item.setValue(row.take("cc_number"), of: "number")
            item.setValue(row.take("code"), of: "cvv")
            let month = row.take("expiration_month")
            let year = row.take("expiration_year")
            if !month.isEmpty || !year.isEmpty {
                item.setValue("\(month.count == 1 ? "0" : "")\(month)/\(year)", of: "expiry")
            }
            row.ignore("account_number", "routing_number")
        }
        item.notes = row.take("note")
        if item.title.isEmpty { item.title = row.take("name") }
        if item.title.isEmpty { item.title = isBank ? "Bank account" : "Payment card" }
        return item
    }

    /// `ids.csv`: passports, ID cards, driving licences, social security and tax numbers.
    private func dashlaneID(_ row: inout CSVRow) -> Item {
        let kind = row.take("type")
        let name = row.take("name")
        var item = Item(
            type: .identity, title: [kind.capitalized, name].filter { !$0.isEmpty }.joined(separator: " – "), now: now)
        let number = row.take("number")
        if kind.lowercased() == "passport" {
            item.setValue(number, of: "passport")
        } else if !number.isEmpty {
            item.setValue(number, of: "\(kind.isEmpty ? "ID" : kind) number", kind: .hidden)
        }
        item.setValue(name, of: "first-name")
        for (column, label) in [
            ("issue_date", "issued"), ("expiration_date", "expires"), ("place_of_issue", "place of issue"),
        ] {
            let value = row.take(column)
            if !value.isEmpty { item.setValue(value, of: label) }
        }
        return item
    }

    /// Fills an identity's names (first and middle joined), e-mail and phone from the named columns.
    private static func fillPerson(
        _ item: inout Item, from row: inout CSVRow,
        columns: (first: String, middle: String, last: String, email: String, phone: String)
    ) {
        let first = [row.take(columns.first), row.take(columns.middle)].filter { !$0.isEmpty }
        item.setValue(first.joined(separator: " "), of: "first-name")
        item.setValue(row.take(columns.last), of: "last-name")
        item.setValue(row.take(columns.email), of: "email")
        item.setValue(row.take(columns.phone), of: "phone")
    }

    /// `personalInfo.csv`: one row per name, e-mail, phone number, address or website.
    private func dashlanePersonalInfo(_ row: inout CSVRow) -> Item {
        let title = [row.take("item_name"), row.take("title")].first { !$0.isEmpty } ?? ""
        var item = Item(type: .identity, title: title, now: now)
        Self.fillPerson(
            &item, from: &row, columns: ("first_name", "middle_name", "last_name", "email", "phone_number"))
        item.setValue(row.take("date_of_birth"), of: "birthday")
        let address = [
            "address", "address_building", "address_apartment", "address_floor", "city", "zip", "state", "country",
        ]
        .map { row.take($0) }.filter { !$0.isEmpty }
        item.setValue(address.joined(separator: ", "), of: "address")
        let url = row.take("url")
        if !url.isEmpty { item.urls = [url] }
        if item.title.isEmpty { item.title = row.take("type").capitalized }
        return item
    }

    private func protonPass(_ row: inout CSVRow) -> Item {
        let email = row.take("email")
        var username = row.take("username")
        var item = login(
            title: row.take("name"), username: "", password: row.take("password"), urls: Self.list(row.take("url")),
            totp: row.take("totp"))
        if username.isEmpty {
            username = email
        } else if !email.isEmpty {
            item.setValue(email, of: "email", kind: .email)
        }
        item.setValue(username, of: "username")
        item.notes = row.take("note")
        if row.take("type").lowercased() == "note" {
            item.type = .note
            item.fields = []
        }
        let vault = row.take("vault")
        if !vault.isEmpty { item.tags = [vault] }
        if let created = Self.epochSeconds(row.take("createtime")) { item.created = created }
        if let modified = Self.epochSeconds(row.take("modifytime")) { item.modified = modified }
        return item
    }

    /// NordPass: one layout for every type, told apart by `type`; folder rows carry only a name.
    private func nordPass(_ row: inout CSVRow) -> Item? {
        let type = row.take("type").lowercased()
        let title = row.take("name")
        let folder = row.take("folder")
        guard type != "folder" else { return nil }
        var item: Item
        switch type {
        case "credit_card":
            item = Item(type: .card, title: title, now: now)
            item.setValue(row.take("cardholdername"), of: "cardholder")
            item.setValue(row.take("cardnumber"), of: "number")
            item.setValue(row.take("cvc"), of: "cvv")
            item.setValue(row.take("pin"), of: "pin")
            item.setValue(row.take("expirydate"), of: "expiry")
        case "identity":
            item = Item(type: .identity, title: title, now: now)
            let name = row.take("full_name")
            let parts = name.split(separator: " ")
            item.setValue(parts.count > 1 ? parts.dropLast().joined(separator: " ") : name, of: "first-name")
            item.setValue(parts.count > 1 ? String(parts.last!) : "", of: "last-name")
            item.setValue(row.take("email"), of: "email")
            item.setValue(row.take("phone_number"), of: "phone")
            let address = ["address1", "address2", "city", "state", "zipcode", "country"].map { row.take($0) }
            item.setValue(address.filter { !$0.isEmpty }.joined(separator: ", "), of: "address")
        case "note":
            item = Item(type: .note, title: title, now: now)
        default:
            item = login(
                title: title, username: row.take("username"), password: row.take("password"),
                urls: [row.take("url")] + Self.list(row.take("additional_urls")))
        }
        item.notes = row.take("note")
        if !folder.isEmpty { item.tags = [folder] }
        return item
    }

    /// RoboForm: `Folder` starts with `/`; values that began with `@` or `'` carry a protective `'`.
    /// `RfFieldsV2` (the page's form fields, passwords among them) is kept whole as a hidden field.
    private func roboForm(_ row: inout CSVRow) -> Item {
        func unquoted(_ value: String) -> String {
            value.hasPrefix("'@") || value.hasPrefix("''") ? String(value.dropFirst()) : value
        }
        var item = login(
            title: unquoted(row.take("name")), username: unquoted(row.take("login")),
            password: unquoted(row.take("pwd")), urls: [row.take("url")])
        item.notes = unquoted(row.take("note"))
        let folder = row.take("folder").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !folder.isEmpty { item.tags = [folder] }
        let matchURL = row.take("matchurl")
        if !matchURL.isEmpty, !item.urls.contains(matchURL) { item.urls.append(matchURL) }
        let formFields = row.take("rffieldsv2")
        if !formFields.isEmpty { item.setValue(formFields, of: "RoboForm form fields", kind: .hidden) }
        if item.value(of: "username")?.isEmpty != false, item.value(of: "password")?.isEmpty != false,
            item.urls.isEmpty
        {
            item.type = .note
            item.fields = []
        }
        return item
    }

    /// Myki: one CSV per kind (logins, cards, identities, notes, two-factor codes), told apart by
    /// their columns; `nickname` is the title, `additionalInfo` the notes, `tags` the tags.
    private func myki(_ row: inout CSVRow) -> Item {
        let title = row.take("nickname")
        var item: Item
        if !row.take("cardnumber").isEmpty || !row.take("cardname").isEmpty {
            item = Item(type: .card, title: title, now: now)
            item.setValue(row.take("cardname"), of: "cardholder")
            item.setValue(row.take("cardnumber"), of: "number")
            item.setValue(row.take("cardcvv"), of: "cvv")
            let month = row.take("cardexpirationmonth")
            let year = row.take("cardexpirationyear")
            if !month.isEmpty || !year.isEmpty { item.setValue("\(month)/\(year)", of: "expiry") }
        } else if !row.take("firstname").isEmpty || !row.take("lastname").isEmpty {
            item = Item(type: .identity, title: title, now: now)
            Self.fillPerson(&item, from: &row, columns: ("firstname", "middlename", "lastname", "email", "number"))
            // Not as "title", which `coffer get ITEM title` reads as the item's own title.
            let honorific = row.take("title")
            if !honorific.isEmpty { item.setValue(honorific, of: "honorific") }
            let address = ["firstaddressline", "secondaddressline", "city", "zipcode", "country"].map { row.take($0) }
            item.setValue(address.filter { !$0.isEmpty }.joined(separator: ", "), of: "address")
        } else if row.take("content").isEmpty == false {
            item = Item(type: .note, title: title, now: now)
            item.notes = row.take("content")
        } else {
            item = login(
                title: title, username: row.take("username"), password: row.take("password"), urls: [row.take("url")],
                totp: [row.take("twofasecret"), row.take("authtoken")].first { !$0.isEmpty } ?? "")
        }
        let info = row.take("additionalinfo")
        if !info.isEmpty { item.notes = item.notes.isEmpty ? info : item.notes + "\n\n" + info }
        item.tags = Self.list(row.take("tags"))
        // Every Myki item is "active"; anything else is worth keeping.
        let status = row.take("status")
        if !status.isEmpty, status.lowercased() != "active" { item.setValue(status, of: "Myki status") }
        return item
    }

    private func generic(_ row: inout CSVRow, _ mapping: ColumnMapping) -> Item {
        var item = login(
            title: mapping.title.map { row.take($0) } ?? "", username: mapping.username.map { row.take($0) } ?? "",
            password: mapping.password.map { row.take($0) } ?? "", urls: [mapping.url.map { row.take($0) } ?? ""],
            totp: mapping.totp.map { row.take($0) } ?? "")
        item.notes = mapping.notes.map { row.take($0) } ?? ""
        item.tags = mapping.tags.map { Self.list(row.take($0)) } ?? []
        return item
    }

    // MARK: Helpers

    static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == ";" }).map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
    }

    static func title(fromURL url: String?) -> String? {
        guard let url, !url.isEmpty else { return nil }
        return URL(string: url)?.host ?? url
    }

    static func epochMilliseconds(_ text: String) -> Date? {
        Double(text).flatMap { FileTime.date(secondsSince1970: $0 / 1000) }
    }

    static func epochSeconds(_ text: String) -> Date? {
        Double(text).flatMap(FileTime.date(secondsSince1970:))
    }

    static func isoDate(_ text: String) -> Date? {
        guard !text.isEmpty else { return nil }
        return try? Date(text, strategy: .iso8601)
    }
}

/// Which CSV columns hold what, for `--format csv --columns title=Name,username=Login,…`.
public struct ColumnMapping: Sendable, Equatable {
    /// Columns by Coffer field; names are matched ignoring case.
    public var title, username, password, url, notes, totp, tags: String?

    /// Parses `field=Column` pairs separated by commas.
    public init(parsing text: String) throws(ImportError) {
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw .unknownFormat(file: "--columns", detail: "'\(pair)' is not field=Column")
            }
            let column = ImportFormat.normalizedColumn(parts[1])
            switch parts[0].lowercased() {
            case "title", "name": title = column
            case "username", "user", "login": username = column
            case "password": password = column
            case "url", "website": url = column
            case "notes", "note": notes = column
            case "totp", "otp": totp = column
            case "tags", "tag", "folder": tags = column
            default:
                throw .unknownFormat(
                    file: "--columns",
                    detail: "'\(parts[0])' is not a field; use title, username, password, url, notes, totp or tags")
            }
        }
        guard title != nil || url != nil else {
            throw .unknownFormat(file: "--columns", detail: "map at least title= or url=")
        }
    }
}
