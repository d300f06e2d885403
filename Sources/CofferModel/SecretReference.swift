import Foundation

/// `coffer://VAULT/ITEM/FIELD[?attr=totp]`: where a secret lives, written where a secret would
/// otherwise be pasted (an environment variable, a config template), so the secret itself never is.
///
/// VAULT is `personal` until sharing adds collections; ITEM a title or an id; FIELD is matched the
/// way `coffer get` matches fields (case, spaces, `-` and `_` ignored). `/ ? # % { }` inside a name
/// are percent-encoded.
public struct SecretReference: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The vault (collection) name.
    public var vault: String
    /// The item's title or id.
    public var item: String
    /// The field's name.
    public var field: String
    /// Whether the field's current TOTP code is wanted rather than its value.
    public var wantsTOTP: Bool

    /// The reference as written (names re-encoded).
    public var description: String {
        "coffer://\(Self.encode(vault))/\(Self.encode(item))/\(Self.encode(field))\(wantsTOTP ? "?attr=totp" : "")"
    }

    /// Why a text is not a reference, said so the user can fix it.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        /// It does not start with `coffer://`.
        case notAReference
        /// It has not exactly three parts.
        case wrongShape(String)
        /// A part is empty or badly percent-encoded.
        case badPart(String)
        /// An unknown query.
        case unknownAttribute(String)

        /// The sentence shown to the user.
        public var description: String {
            switch self {
            case .notAReference: "A secret reference starts with coffer://."
            case .wrongShape(let text):
                "\(text) is not a secret reference: write coffer://VAULT/ITEM/FIELD (for example coffer://personal/GitHub/password)."
            case .badPart(let text):
                "\(text) has an empty or badly percent-encoded part: encode / ? # % { } in names as %2F %3F %23 %25 %7B %7D."
            case .unknownAttribute(let text):
                "\(text) asks for an unknown attribute: the only one is ?attr=totp (the current one-time code)."
            }
        }
    }

    /// A reference with these parts.
    public init(vault: String, item: String, field: String, wantsTOTP: Bool = false) {
        self.vault = vault
        self.item = item
        self.field = field
        self.wantsTOTP = wantsTOTP
    }

    /// Parses `text`, which must be a whole reference.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("coffer://") else { throw .notAReference }
        var rest = Substring(trimmed.dropFirst("coffer://".count))
        var wantsTOTP = false
        if let question = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: question)...]
            guard query == "attr=totp" else { throw .unknownAttribute(trimmed) }
            wantsTOTP = true
            rest = rest[..<question]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .wrongShape(trimmed) }
        let decoded = parts.map { String($0).removingPercentEncoding }
        guard let vault = decoded[0], let item = decoded[1], let field = decoded[2],
            !vault.isEmpty, !item.isEmpty, !field.isEmpty
        else { throw .badPart(trimmed) }
        self.init(vault: vault, item: item, field: field, wantsTOTP: wantsTOTP)
    }

    private static func encode(_ name: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%{}")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}

/// Text with `{{ coffer://… }}` placeholders (a template for `coffer inject`, or an environment
/// value for `coffer run`).
public struct ReferenceTemplate: Sendable {
    /// One placeholder: where it is and what it names.
    public struct Placeholder: Sendable {
        /// The range of `{{ … }}` in the text.
        public let range: Range<String.Index>
        /// The reference inside.
        public let reference: SecretReference
        /// The line it is on, from 1.
        public let line: Int
    }

    /// The text.
    public let text: String
    /// Its placeholders, in order.
    public let placeholders: [Placeholder]

    /// Finds every `{{ coffer://… }}` in `text`; one that does not parse is an error naming its line.
    public init(_ text: String) throws(TemplateError) {
        self.text = text
        var found: [Placeholder] = []
        var searchFrom = text.startIndex
        while let open = text.range(of: "{{", range: searchFrom..<text.endIndex) {
            guard let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) else { break }
            let inside = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            searchFrom = close.upperBound
            guard inside.hasPrefix("coffer://") else { continue }
            let line = text[..<open.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            do {
                found.append(
                    Placeholder(
                        range: open.lowerBound..<close.upperBound, reference: try SecretReference(parsing: inside),
                        line: line))
            } catch {
                throw TemplateError(line: line, problem: error.description)
            }
        }
        placeholders = found
    }

    /// The text with each placeholder replaced by `values[reference]`.
    public func filled(with values: [SecretReference: String]) -> String {
        var result = ""
        var position = text.startIndex
        for placeholder in placeholders {
            result += text[position..<placeholder.range.lowerBound]
            result += values[placeholder.reference] ?? ""
            position = placeholder.range.upperBound
        }
        result += text[position...]
        return result
    }

    /// A placeholder that is not a reference, with its line.
    public struct TemplateError: Error, CustomStringConvertible {
        /// The line, from 1.
        public let line: Int
        /// What is wrong.
        public let problem: String

        /// The sentence shown to the user.
        public var description: String { "Line \(line): \(problem)" }
    }
}
