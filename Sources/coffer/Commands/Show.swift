import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer show NAME`: prints an item, secrets masked unless `--reveal`.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an item; secrets stay hidden unless --reveal.")

    @Argument(help: "The item's title or id.")
    var name: String

    @Flag(help: "Show secret values and the password history.")
    var reveal = false

    @Flag(help: "Look in the trash too.")
    var trash = false

    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: trash ? .all : .live))
        try Output.printRecord(item, reveal: reveal, asJSON: output.json)
    }
}
