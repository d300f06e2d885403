import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// Flags that set non-secret parts of an item, shared by `add` and `edit`.
///
/// There is no flag for a secret value: command lines are visible to other users in `ps`.
/// Secrets are asked for, or read from standard input with --password-stdin.
struct ItemFlags: ParsableArguments {
    @Option(help: "The item's title.")
    var title: String?

    @Option(help: "The username (logins).")
    var username: String?

    @Option(name: .customLong("url"), help: "A web address; repeat for several (replaces existing ones on edit).")
    var urls: [String] = []

    @Option(name: .customLong("tag"), help: "A tag; repeat for several.")
    var tags: [String] = []

    @Option(help: "Notes.")
    var notes: String?

    @Option(
        name: .customLong("field"),
        help: "A non-secret field as NAME=VALUE, or NAME:KIND=VALUE with KIND text, url, email or date.")
    var fields: [String] = []

    @Option(
        name: .customLong("secret-field"),
        help: "A hidden custom field NAME; its value is asked for (or read from standard input).")
    var secretFields: [String] = []

    @Flag(inversion: .prefixedNo, help: "Mark as favourite.")
    var favorite: Bool?

    @Flag(
        help:
            "Generate a strong password for the password field instead of asking for one (ssh-key: a new Ed25519 key).")
    var generate = false

    @Option(help: "Length of a generated password.")
    var length = 20

    /// Applies the flags to `item`.
    func apply(to item: inout Item, isNew: Bool) throws {
        if let title { item.title = title }
        if let username { item.setValue(username, of: "username") }
        if !urls.isEmpty { item.urls = urls }
        if !tags.isEmpty { item.tags = isNew ? tags : item.tags + tags }
        if let notes { item.notes = notes }
        if let favorite { item.isFavorite = favorite }
        for assignment in fields {
            let (name, kind, value) = try Self.parse(assignment)
            guard item.kind(of: name)?.isSecret != true else {
                throw AgentFailure(
                    .invalidInput,
                    "'\(name)' is a secret field; use --secret-field \(name) so its value is not on the command line.")
            }
            item.setValue(value, of: name, kind: kind)
        }
        if generate {
            guard item.kind(of: "password") != nil else {
                throw AgentFailure(
                    .invalidInput, "A \(item.type.displayName.lowercased()) has no password field to generate.")
            }
            item.setValue(
                try PasswordGenerator().generate(.characters(CharacterRecipe(length: length))), of: "password")
        }
    }

    static func parse(_ assignment: String) throws -> (String, FieldKind, String) {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw AgentFailure(.invalidInput, "'\(assignment)' is not NAME=VALUE.")
        }
        var name = String(assignment[..<equals])
        let value = String(assignment[assignment.index(after: equals)...])
        var kind = FieldKind.text
        if let colon = name.firstIndex(of: ":") {
            let kindName = String(name[name.index(after: colon)...])
            guard let parsed = FieldKind(rawValue: kindName.lowercased()), !parsed.isSecret else {
                throw AgentFailure(
                    .invalidInput,
                    "'\(kindName)' is not a field kind for --field: use text, url, email or date (secrets go through --secret-field)."
                )
            }
            kind = parsed
            name = String(name[..<colon])
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AgentFailure(.invalidInput, "'\(assignment)' has an empty field name.")
        }
        return (name, kind, value)
    }
}
