import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer list`: lists items, filtered by type, tag, favourite or trash.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List items (live ones by default).")

    @OptionGroup var filter: FilterOptions
    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        try Output.printList(try vault.elements(of: ListSummaries(try filter.filter())), asJSON: output.json)
    }
}

/// `coffer search QUERY`: fuzzy search over titles, usernames, URLs and tags.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search titles, usernames, URLs and tags; letters in order match (\"gml\" finds GMail).")

    @Argument(help: "What to look for.")
    var query: String

    @OptionGroup var filter: FilterOptions
    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        try Output.printList(
            try vault.elements(of: ListSummaries(try filter.filter(), query: query)), asJSON: output.json)
    }
}
