public import CofferModel
public import Foundation

/// Writes items for other programs: CSV in Bitwarden's layout (the one most managers import) and
/// Coffer's own plain JSON (every field; a warning comes first, since it is unencrypted).
public enum Exporter {
    /// Bitwarden's personal CSV layout; custom fields go in `fields` as `name: value` lines.
    public static func csv(_ items: [Item]) -> Data {
        var lines = [
            "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp"
        ]
        for item in items where !item.isTrashed {
            let isLogin = item.type == .login || item.type == .password
            var extra = item.customFields
            if !isLogin { extra = item.allFields.filter { !$0.value.isEmpty } }
            let fields = extra.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
            let cells = [
                item.tags.first ?? "", item.isFavorite ? "1" : "", isLogin ? "login" : "note", item.title, item.notes,
                fields, "0", isLogin ? item.urls.joined(separator: ",") : "",
                isLogin ? item.value(of: "username") ?? "" : "", isLogin ? item.value(of: "password") ?? "" : "",
                isLogin ? item.value(of: "totp") ?? "" : "",
            ]
            lines.append(cells.map(quote).joined(separator: ","))
        }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// Coffer's JSON: `{"format": "coffer-export", "version": 1, "items": [...]}`.
    public static func json(_ items: [Item]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(PlainExport(format: "coffer-export", version: 1, items: items))
    }

    private struct PlainExport: Encodable {
        var format: String
        var version: Int
        var items: [Item]
    }

    private static func quote(_ value: String) -> String {
        // Cells starting with = + - @ are prefixed with a quote so spreadsheets do not run them as formulas.
        var cell = value
        if let first = cell.first, "=+-@".contains(first) { cell = "'" + cell }
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) || cell != value else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
