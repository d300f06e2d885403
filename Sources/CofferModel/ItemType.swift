import Foundation

/// The kinds of item a vault holds, each with its own set of standard fields.
public enum ItemType: String, Codable, CaseIterable, Sendable, Comparable {
    case login
    case note
    case card
    case identity
    case bankAccount = "bank-account"
    case wifi
    case sshKey = "ssh-key"
    case license
    case password

    /// The name people read, e.g. "Credit card".
    public var displayName: String {
        switch self {
        case .login: "Login"
        case .note: "Secure note"
        case .card: "Credit card"
        case .identity: "Identity"
        case .bankAccount: "Bank account"
        case .wifi: "Wi-Fi network"
        case .sshKey: "SSH key"
        case .license: "Software license"
        case .password: "Password"
        }
    }

    /// Parses a type name as typed on the command line, accepting a few common synonyms.
    public init(parsing text: String) throws(CofferModelError) {
        let key = text.lowercased().replacingOccurrences(of: "_", with: "-")
        let synonyms: [String: ItemType] = [
            "secure-note": .note, "securenote": .note, "credit-card": .card, "creditcard": .card,
            "bank": .bankAccount, "wi-fi": .wifi, "ssh": .sshKey, "software-license": .license,
        ]
        if let type = ItemType(rawValue: key) ?? synonyms[key] {
            self = type
        } else {
            throw .unknownItemType(text)
        }
    }

    /// The standard fields an item of this type starts with, in display order.
    public var template: [FieldTemplate] { Self.templates[self] ?? [] }

    /// Built once: every new item (100,000 in a large import) starts from its type's template.
    private static let templates = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.makeTemplate()) })

    private func makeTemplate() -> [FieldTemplate] {
        switch self {
        case .login:
            [.init("username", .text), .init("password", .hidden), .init("totp", .totp, label: "One-time password")]
        case .note:
            []
        case .card:
            [
                .init("cardholder", .text, label: "Cardholder name"), .init("number", .hidden, label: "Card number"),
                .init("expiry", .text, label: "Expiry (MM/YYYY)"), .init("cvv", .hidden, label: "Security code"),
                .init("pin", .hidden, label: "PIN"), .init("brand", .text),
            ]
        case .identity:
            [
                .init("first-name", .text), .init("last-name", .text), .init("email", .email, label: "E-mail"),
                .init("phone", .text), .init("address", .text), .init("birthday", .date),
                .init("company", .text), .init("passport", .hidden, label: "Passport number"),
            ]
        case .bankAccount:
            [
                .init("bank", .text, label: "Bank name"), .init("holder", .text, label: "Account holder"),
                .init("account-number", .hidden), .init("routing-number", .text, label: "Routing / sort code"),
                .init("iban", .hidden, label: "IBAN"), .init("bic", .text, label: "SWIFT / BIC"),
                .init("pin", .hidden, label: "PIN"),
            ]
        case .wifi:
            [.init("ssid", .text, label: "Network name (SSID)"), .init("password", .hidden), .init("security", .text)]
        case .sshKey:
            [
                .init("private-key", .hidden), .init("public-key", .text), .init("fingerprint", .text),
                .init("passphrase", .hidden),
            ]
        case .license:
            [
                .init("product", .text), .init("version", .text), .init("license-key", .hidden),
                .init("licensed-to", .text), .init("email", .email, label: "Registered e-mail"),
            ]
        case .password:
            [.init("password", .hidden)]
        }
    }

    /// Orders types as `allCases` lists them, for stable listings.
    public static func < (lhs: ItemType, rhs: ItemType) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// One standard field of an item type.
public struct FieldTemplate: Sendable, Hashable {
    /// The field's stable key, e.g. `card-number`.
    public let name: String
    /// How the value is treated (hidden, URL, …).
    public let kind: FieldKind
    /// The label people read.
    public let label: String

    init(_ name: String, _ kind: FieldKind, label: String? = nil) {
        self.name = name
        self.kind = kind
        self.label =
            label
            ?? name.split(separator: "-").enumerated()
            .map { $0.offset == 0 ? $0.element.capitalized : String($0.element) }
            .joined(separator: " ")
    }
}

/// Lets per-type counts encode as a JSON object keyed by type name.
extension ItemType: CodingKeyRepresentable {}
