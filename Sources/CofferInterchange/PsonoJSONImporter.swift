import CofferModel
import Foundation

/// Psono's JSON export: `folders` (nested, each with `items` and `folders`) and top-level `items`;
/// each item has a string `type` and fields named `<type>_<field>` (`website_password_username`).
///
/// Known types map to Coffer's (website and application passwords → login, credit cards → card,
/// SSH keys → SSH key, notes, bookmarks → login with its URL, TOTP → login with its code); every
/// other field is kept as a custom field, hidden when it looks secret. Folder paths become tags.
struct PsonoJSONImporter {
    let now: Date

    /// Whether a parsed top-level object is a Psono export: items whose `type` is a Psono type name.
    static func recognises(_ object: [String: Any]) -> Bool {
        var pending: [[String: Any]] = [object]
        while let folder = pending.popLast() {
            for item in (folder["items"] as? [[String: Any]]) ?? [] {
                if let type = item["type"] as? String { return knownTypes.contains(type) }
            }
            pending += (folder["folders"] as? [[String: Any]]) ?? []
        }
        return false
    }

    private static let knownTypes: Set<String> = [
        "website_password", "application_password", "note", "bookmark", "credit_card", "ssh_own_key", "totp",
        "environment_variables", "mail_gpg_own_key", "elster_certificate", "file",
    ]

    func read(_ object: [String: Any]) -> (items: [Item], skipped: [SkippedRecord]) {
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        func walk(_ folder: [String: Any], path: [String], place: String) {
            for (index, value) in ((folder["items"] as? [Any]) ?? []).enumerated() {
                guard let source = value as? [String: Any], let type = source["type"] as? String else {
                    skipped.append(SkippedRecord(line: nil, field: "\(place)items[\(index)]", reason: "it has no type"))
                    continue
                }
                var item = self.item(source, type: type)
                if !path.isEmpty { item.tags = [path.joined(separator: "/")] }
                items.append(item)
            }
            for (index, child) in ((folder["folders"] as? [[String: Any]]) ?? []).enumerated() {
                let name = (child["name"] as? String) ?? ""
                walk(child, path: name.isEmpty ? path : path + [name], place: "\(place)folders[\(index)].")
            }
        }
        walk(object, path: [], place: "")
        return (items, skipped)
    }

    /// Where a field goes: an item field of Coffer's type, the title, notes, URL or TOTP parts.
    private enum Target {
        case field(String)
        case title, notes, url, totpSecret, totpPeriod, totpDigits, totpAlgorithm
    }

    private static let layouts: [String: (type: ItemType, targets: [String: Target])] = [
        "website_password": (
            .login,
            [
                "title": .title, "url": .url, "username": .field("username"), "password": .field("password"),
                "notes": .notes, "totp_code": .totpSecret, "totp_period": .totpPeriod, "totp_digits": .totpDigits,
                "totp_algorithm": .totpAlgorithm,
            ]
        ),
        "application_password": (
            .login,
            [
                "title": .title, "username": .field("username"), "password": .field("password"), "notes": .notes,
            ]
        ),
        "note": (.note, ["title": .title, "notes": .notes]),
        "bookmark": (.login, ["title": .title, "url": .url, "notes": .notes]),
        "credit_card": (
            .card,
            [
                "title": .title, "number": .field("number"), "cvc": .field("cvv"), "pin": .field("pin"),
                "name": .field("cardholder"), "valid_through": .field("expiry"), "notes": .notes,
            ]
        ),
        "ssh_own_key": (
            .sshKey,
            [
                "title": .title, "private": .field("private-key"), "public": .field("public-key"), "notes": .notes,
            ]
        ),
        "totp": (
            .login,
            [
                "title": .title, "code": .totpSecret, "period": .totpPeriod, "digits": .totpDigits,
                "algorithm": .totpAlgorithm, "notes": .notes,
            ]
        ),
    ]

    /// Fields Psono keeps for its own use (autofill filters, sharing state): not user data.
    private static let internalSuffixes = ["url_filter", "auto_submit"]

    private func item(_ source: [String: Any], type: String) -> Item {
        let layout = Self.layouts[type] ?? (.note, ["title": .title, "notes": .notes])
        var item = Item(type: layout.type, title: (source["name"] as? String) ?? "", now: now)
        if Self.layouts[type] == nil { item.setValue(type, of: "Psono type") }
        var totp: (secret: String, period: String, digits: String, algorithm: String) = ("", "", "", "")
        let prefix = type + "_"
        for (key, value) in source.sorted(by: { $0.key < $1.key }) where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            let text = Self.text(value)
            guard !text.isEmpty, !Self.internalSuffixes.contains(name) else { continue }
            switch layout.targets[name] {
            case .title: if item.title.isEmpty { item.title = text }
            case .notes: item.notes = text
            case .url: item.urls.append(text)
            case .field(let field): item.setValue(text, of: field)
            case .totpSecret: totp.secret = text
            case .totpPeriod: totp.period = text
            case .totpDigits: totp.digits = text
            case .totpAlgorithm: totp.algorithm = text
            case nil:
                let secret = ["password", "private", "secret", "pin", "cvc", "code", "key", "variables"].contains {
                    name.lowercased().contains($0)
                }
                item.setValue(text, of: name.replacingOccurrences(of: "_", with: " "), kind: secret ? .hidden : .text)
            }
        }
        if !totp.secret.isEmpty {
            item.setValue(Self.otpauth(totp, label: item.title), of: "totp", kind: .totp)
        }
        if item.title.isEmpty { item.title = "Untitled" }
        return item
    }

    /// A bare secret when the parameters are the defaults, else an otpauth:// link that keeps them.
    private static func otpauth(
        _ totp: (secret: String, period: String, digits: String, algorithm: String), label: String
    )
        -> String
    {
        let isDefault =
            (totp.period.isEmpty || totp.period == "30") && (totp.digits.isEmpty || totp.digits == "6")
            && (totp.algorithm.isEmpty || totp.algorithm.uppercased() == "SHA1")
        guard !isDefault else { return totp.secret }
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        components.path = "/" + label
        components.queryItems =
            [URLQueryItem(name: "secret", value: totp.secret)]
            + [("period", totp.period), ("digits", totp.digits), ("algorithm", totp.algorithm.uppercased())]
            .filter { !$0.1.isEmpty }.map { URLQueryItem(name: $0.0, value: $0.1) }
        return components.string ?? totp.secret
    }

    /// A value as text; lists (environment variables) as `key=value` lines.
    private static func text(_ value: Any) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        case let list as [[String: Any]]:
            return list.map { "\(($0["key"] as? String) ?? "")=\(($0["value"] as? String) ?? "")" }
                .joined(separator: "\n")
        default: return ""
        }
    }
}
