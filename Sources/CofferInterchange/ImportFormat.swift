import CofferModel
import Foundation

/// The files `coffer import` reads. Detected from content (header row or structure), never from the
/// file name; docs/formats/import.md records the layout and field mapping of each.
public enum ImportFormat: String, CaseIterable, Sendable, Codable {
    case bitwardenCSV = "bitwarden-csv"
    case bitwardenJSON = "bitwarden-json"
    case onePasswordPUX = "1pux"
    case protonPassJSON = "protonpass-json"
    case onePasswordCSV = "1password-csv"
    case lastPassCSV = "lastpass-csv"
    case chromeCSV = "chrome-csv"
    case firefoxCSV = "firefox-csv"
    case keepassxcCSV = "keepassxc-csv"
    case msecureCSV = "msecure-csv"
    case dashlaneCSV = "dashlane-csv"
    case protonPassCSV = "protonpass-csv"
    case applePasswordsCSV = "apple-csv"
    case nordPassCSV = "nordpass-csv"
    case keeperJSON = "keeper-json"
    /// Keeper's header-less CSV.
    case keeperCSV = "keeper-csv"
    case psonoJSON = "psono-json"
    case enpassJSON = "enpass-json"
    case roboFormCSV = "roboform-csv"
    case mykiCSV = "myki-csv"
    case safeInCloudXML = "safeincloud-xml"
    case onePasswordPIF = "1pif"
    /// KeePass KDBX 4 (KeePassXC, KeePass 2.35+), opened with its password and key file.
    case keepassKDBX = "kdbx"
    /// KeePass 2 / KeePassXC unencrypted XML export.
    case keepassXML = "keepass-xml"
    /// Any CSV, with the columns named by `--columns`.
    case genericCSV = "csv"
    /// Coffer's own encrypted export (or a backup), opened with its password.
    case cofferExport = "coffer"

    /// The name people know it by.
    public var displayName: String {
        switch self {
        case .bitwardenCSV: "Bitwarden CSV"
        case .bitwardenJSON: "Bitwarden JSON"
        case .onePasswordPUX: "1Password 1PUX"
        case .protonPassJSON: "Proton Pass JSON (ZIP)"
        case .onePasswordCSV: "1Password CSV"
        case .lastPassCSV: "LastPass CSV"
        case .chromeCSV: "Chrome / Chromium / Edge CSV"
        case .firefoxCSV: "Firefox CSV"
        case .keepassxcCSV: "KeePassXC CSV"
        case .msecureCSV: "mSecure 6 CSV"
        case .dashlaneCSV: "Dashlane CSV"
        case .protonPassCSV: "Proton Pass CSV"
        case .applePasswordsCSV: "Apple Passwords CSV"
        case .nordPassCSV: "NordPass CSV"
        case .keeperJSON: "Keeper JSON"
        case .keeperCSV: "Keeper CSV"
        case .psonoJSON: "Psono JSON"
        case .enpassJSON: "Enpass JSON"
        case .roboFormCSV: "RoboForm CSV"
        case .mykiCSV: "Myki CSV"
        case .safeInCloudXML: "SafeInCloud XML"
        case .onePasswordPIF: "1Password 1PIF"
        case .keepassKDBX: "KeePass KDBX"
        case .keepassXML: "KeePass XML"
        case .genericCSV: "CSV with a column mapping"
        case .cofferExport: "Coffer encrypted export"
        }
    }

    /// The CSV format a header row belongs to, by the set of its column names.
    static func detect(csvHeader header: [String]) -> ImportFormat? {
        let columns = Set(header.map(normalizedColumn))
        func has(_ names: String...) -> Bool { names.allSatisfy(columns.contains) }
        if has("login_uri", "login_username", "login_password", "type", "name") { return .bitwardenCSV }
        if has("name", "username", "password", "cardholdername", "cardnumber", "cvc", "full_name", "type") {
            return .nordPassCSV
        }
        if has("name", "url", "login", "pwd", "folder") { return .roboFormCSV }
        // Myki writes one file per kind of item, each starting with `nickname` and `status`.
        if has("nickname", "status"), has("additionalinfo") || has("content") { return .mykiCSV }
        if has("httprealm", "formactionorigin", "guid", "url", "username", "password") { return .firefoxCSV }
        if has("grouping", "extra", "url", "username", "password", "name") { return .lastPassCSV }
        if has("group", "title", "username", "password", "url", "notes") { return .keepassxcCSV }
        if has("username2", "username3", "title", "password", "url", "category") { return .dashlaneCSV }
        // Dashlane's other files: payments, IDs, personal info, and secure notes (just title and note).
        if has("account_name", "cc_number", "expiration_month") || has("type", "number", "place_of_issue")
            || has("first_name", "last_name", "email_type") || columns == ["title", "note"]
            || columns == ["title", "note", "category"]
        {
            return .dashlaneCSV
        }
        if has("createtime", "modifytime", "vault", "type", "name", "password") { return .protonPassCSV }
        if has("title", "url", "username", "password", "otpauth") {
            return columns.contains("archived") || columns.contains("favorite") ? .onePasswordCSV : .applePasswordsCSV
        }
        if has("name", "url", "username", "password"), columns.count <= 5 { return .chromeCSV }
        return nil
    }

    static func normalizedColumn(_ name: String) -> String {
        name.trimmingWhitespace().lowercased()
    }
}
