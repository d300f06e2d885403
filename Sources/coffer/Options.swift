import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `--password-stdin`, shared by every command that may need a secret.
struct SecretOptions: ParsableArguments {
    @Flag(
        name: .customLong("password-stdin"),
        help: "Read secrets (master password first, when needed) one per line from standard input instead of asking.")
    var passwordStdin = false

    func reader() -> SecretReader { SecretReader(fromStandardInput: passwordStdin) }
}

/// Secrets never travel as command-line arguments (they show in `ps` and in shell history): an option
/// that takes a recovery code accepts only `-`, and the code is then asked for or read from standard input.
enum SecretArgument {
    /// Refuses anything but `-` for `option`.
    static func requireStandardInput(_ value: String?, option: String) throws {
        guard let value, value != "-" else { return }
        throw ValidationError(
            "\(option) takes - (the code is then asked for, or read from standard input): a code typed on the command line shows in the process list and in your shell history."
        )
    }
}

/// `--json`, for commands that print records or listings.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}

/// Filters shared by `list` and `search`.
struct FilterOptions: ParsableArguments {
    @Option(help: "Only items of this type (\(ItemType.allCases.map(\.rawValue).joined(separator: ", "))).")
    var type: String?

    @Option(help: "Only items with this tag.")
    var tag: String?

    @Flag(name: .customLong("favorites"), help: "Only favourites.")
    var favoritesOnly = false

    @Flag(help: "List the trash instead of live items.")
    var trash = false

    @Flag(help: "List live items and the trash.")
    var all = false

    func filter() throws -> ItemFilter {
        let scope: ItemScope = all ? .all : trash ? .trash : .live
        return ItemFilter(
            scope: scope, type: try type.map { try ItemType(parsing: $0) }, tag: tag, favoritesOnly: favoritesOnly)
    }
}
