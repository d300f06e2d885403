import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer edit NAME`: changes an item; replaced secrets go to its password history.
struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change an item; earlier values of secret fields are kept in its password history.")

    @Argument(help: "The item's title or id.")
    var name: String

    @OptionGroup var flags: ItemFlags

    @Option(
        name: .customLong("set-secret"),
        help: "A secret field to change (e.g. password); its new value is asked for or read from standard input.")
    var secretNames: [String] = []

    @Option(name: .customLong("remove-field"), help: "A custom field to remove.")
    var removedFields: [String] = []

    @Option(name: .customLong("untag"), help: "A tag to remove.")
    var removedTags: [String] = []

    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let reader = secrets.reader()
        let vault = try VaultConnector(secrets: reader).open()
        var item = try vault.call(ResolveItem(name, scope: .live))
        try flags.apply(to: &item, isNew: false)
        item.tags.removeAll { tag in removedTags.contains { $0.caseInsensitiveCompare(tag) == .orderedSame } }
        for field in removedFields { item.removeField(field) }
        for secret in secretNames + flags.secretFields {
            let value = try reader.require("New \(secret): ")
            item.setValue(value, of: secret, kind: item.kind(of: secret) ?? .hidden)
        }
        try validateTOTP(item)
        let saved = try vault.call(UpdateItem(item))
        if output.json { return try Output.printRecord(saved, reveal: false, asJSON: true) }
        Terminal.note("Saved \"\(saved.title)\".")
    }
}
