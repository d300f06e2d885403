import CofferModel
import Foundation

/// LastPass exports its cards, addresses, bank accounts and other typed "secure notes" as text in
/// the `extra` column of a row whose URL is `http://sn`:
///
///     NoteType:Credit Card
///     Language:en-US
///     Name on Card:Ann Example
///     Number:4111111111111111
///     Expiration Date:June,2027
///     Notes:anything, to the end of the text
///
/// This reads that text into the matching Coffer type. Each line is `Name:Value`; a line without a
/// colon continues the value above it (a private key's lines), and `Notes:` takes the rest of the
/// text. Names with no Coffer field stay as custom fields, hidden when they name a secret.
struct LastPassNote {
    /// The item type the note becomes, its standard fields as Coffer names them, and the rest.
    let type: ItemType
    private(set) var fields: [String: String] = [:]
    private(set) var customFields: [Field] = []
    private(set) var notes = ""

    /// Reads `extra`; `nil` when it is a plain note (no `NoteType:` first line).
    init?(_ extra: String) {
        var lines = extra.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        guard let first = lines.first, first.hasPrefix("NoteType:") else { return nil }
        lines.removeFirst()
        let noteType = String(first.dropFirst("NoteType:".count)).trimmingWhitespace()
        let mapping = Self.mappings[noteType] ?? [:]
        type = Self.types[noteType] ?? .note

        var pairs: [(name: String, value: String)] = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("Notes:") {
                notes = ([String(line.dropFirst("Notes:".count))] + lines[(index + 1)...]).joined(separator: "\n")
                break
            }
            if let colon = line.firstIndex(of: ":") {
                pairs.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            } else if !pairs.isEmpty {
                pairs[pairs.count - 1].value += "\n" + line
            } else if !line.isEmpty {
                pairs.append(("Text", line))
            }
        }
        notes = notes.trimmingWhitespace()
        var address: [String] = []
        for (name, raw) in pairs {
            let value = raw.trimmingWhitespace()
            if value.isEmpty || name == "Language" { continue }
            if let field = mapping[name] {
                fields[field] = Self.normalize(value, for: field)
            } else if type == .identity, Self.addressParts.contains(name) {
                address.append(value)
            } else {
                let isPhone = name.hasSuffix("Phone") || name == "Fax"
                customFields.append(
                    Field(
                        name: name, kind: FieldSecrecy.looksSecret(name) ? .hidden : .text,
                        value: isPhone ? Self.normalize(value, for: "phone") : value))
            }
        }
        if !address.isEmpty { fields["address"] = address.joined(separator: ", ") }
        if let fullName = fields.removeValue(forKey: "full-name") {
            // A passport holds one name; the last word is the family name.
            var words = fullName.split(separator: " ").map(String.init)
            if words.count > 1 { fields["last-name"] = words.removeLast() }
            fields["first-name"] = words.joined(separator: " ")
        }
    }

    private static let types: [String: ItemType] = [
        "Credit Card": .card, "Bank Account": .bankAccount, "Address": .identity, "Passport": .identity,
        "Wi-Fi Password": .wifi, "SSH Key": .sshKey, "Software License": .license,
    ]

    /// LastPass's field names, per note type, to Coffer's template fields.
    private static let mappings: [String: [String: String]] = [
        "Credit Card": [
            "Name on Card": "cardholder", "Number": "number", "Security Code": "cvv", "Expiration Date": "expiry",
            "Type": "brand",
        ],
        "Bank Account": [
            "Bank Name": "bank", "Account Number": "account-number", "Routing Number": "routing-number",
            "SWIFT Code": "bic", "IBAN Number": "iban", "Pin": "pin", "PIN": "pin",
        ],
        "Address": [
            "First Name": "first-name", "Last Name": "last-name", "Email Address": "email", "Phone": "phone",
            "Company": "company", "Birthday": "birthday",
        ],
        "Passport": ["Name": "full-name", "Number": "passport", "Date of Birth": "birthday"],
        "Wi-Fi Password": ["SSID": "ssid", "Password": "password", "Authentication": "security"],
        "SSH Key": ["Private Key": "private-key", "Public Key": "public-key", "Passphrase": "passphrase"],
        "Software License": [
            "License Key": "license-key", "Licensee": "licensed-to", "Version": "version", "Email": "email",
        ],
    ]

    /// An address's parts, in the order LastPass writes them, joined into Coffer's one address field
    /// (", " between them, as the 1Password reader does).
    private static let addressParts: Set = [
        "Address 1", "Address 2", "Address 3", "City / Town", "County", "State", "Zip / Postal Code", "Country",
    ]

    /// LastPass writes expiry dates as "June,2027", other dates as "March,4,1990" and phones as
    /// {"num":"…","ext":"…"}; Coffer keeps MM/YYYY, YYYY-MM-DD and the number.
    private static func normalize(_ value: String, for field: String) -> String {
        switch field {
        case "expiry":
            let parts = value.split(separator: ",").map { $0.trimmingWhitespace() }
            guard parts.count == 2, let month = monthNumber(parts[0]), let year = Int(parts[1]) else {
                return value == "," ? "" : value
            }
            return String(format: "%02d/%04d", month, year)
        case "birthday":
            let parts = value.split(separator: ",").map { $0.trimmingWhitespace() }
            guard parts.count == 3, let month = monthNumber(parts[0]), let day = Int(parts[1]),
                (1...31).contains(day), let year = Int(parts[2])
            else { return value }
            return String(format: "%04d-%02d-%02d", year, month, day)
        case "phone":
            guard value.hasPrefix("{"),
                let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any],
                let number = object["num"] as? String
            else { return value }
            let ext = object["ext"] as? String ?? ""
            return ext.isEmpty ? number : "\(number) ext. \(ext)"
        default:
            return value
        }
    }

    private static func monthNumber(_ name: String) -> Int? {
        if let number = Int(name), (1...12).contains(number) { return number }
        let months = [
            "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december",
        ]
        return months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }
}
