import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer get NAME [FIELD]`: prints one bare value, for scripts.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one field's bare value (the password by default), for scripts.")

    @Argument(help: "The item's title or id.")
    var name: String

    @Argument(help: "The field: password, username, url, notes, totp, a custom field's name…")
    var field = "password"

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: .live))
        print(try FieldLookup.value(of: field, in: item))
    }
}
