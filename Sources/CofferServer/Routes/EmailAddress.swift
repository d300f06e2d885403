import Foundation

/// An e-mail address as the server keys accounts by it: trimmed, NFC, lower-cased, and free of
/// anything that could make two addresses look alike or rewrite what an operator reads — control,
/// format (zero-width, bidirectional overrides) and whitespace characters are refused.
enum EmailAddress {
    /// The normalized address, or a 400 that says what is wrong with it.
    static func normalize(_ raw: String) throws -> String {
        let shown = String(raw.unicodeScalars.filter { !isInvisible($0) }.prefix(80).map(Character.init))
        let refuse = APIError.badRequest(
            "'\(shown)' is not an e-mail address: use the form name@example.org, without spaces or control characters.")
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard !trimmed.unicodeScalars.contains(where: { isInvisible($0) || $0.properties.isWhitespace }) else {
            throw refuse
        }
        let address = trimmed.precomposedStringWithCanonicalMapping.lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.utf8.count <= 254, parts.count == 2 else { throw refuse }
        let (local, domain) = (parts[0], parts[1])
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard !local.isEmpty, local.utf8.count <= 64, labels.count >= 2,
            labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { throw refuse }
        return address
    }

    /// Characters a person cannot see or that change how text around them is shown.
    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: true
        default: false
        }
    }
}
