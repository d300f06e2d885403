import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer add TYPE`: stores a new item.
struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add an item: login, note, card, identity, bank-account, wifi, ssh-key, license or password.",
        discussion: """
            Secret fields (password, card number, …) are asked for with hidden input. With --password-stdin \
            they are read one per line from standard input in the item type's order (after the master \
            password when the vault is locked); missing lines leave them empty.
            """)

    @Argument(help: "The item type: \(ItemType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var typeName: String

    @OptionGroup var flags: ItemFlags
    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let type = try ItemType(parsing: typeName)
        let reader = secrets.reader()
        let vault = try VaultConnector(secrets: reader).open()
        var item = Item(type: type, title: flags.title ?? "", now: Date())
        try flags.apply(to: &item, isNew: true)
        if item.title.isEmpty, !reader.isScripted, let title = Terminal.ask("Title: ", hidden: false) {
            item.title = title
        }
        if !reader.isScripted {
            for field in item.fields where !field.kind.isSecret && field.value.isEmpty {
                let label = type.template.first { $0.name == field.name }?.label ?? field.name
                if let value = Terminal.ask("\(label) (optional): ", hidden: false), !value.isEmpty {
                    item.setValue(value, of: field.name)
                }
            }
        }
        let secretNames = item.fields.filter { $0.kind.isSecret && $0.value.isEmpty }.map(\.name) + flags.secretFields
        for name in secretNames {
            let label = type.template.first { $0.name == name }?.label ?? name
            // Every field but the password may stay empty; say so, or people hunt for a TOTP secret they lack.
            let prompt = name == "password" ? "\(label): " : "\(label) (optional, Enter to skip): "
            guard let value = try reader.read(prompt, required: false) else { break }
            if item.kind(of: name) == nil {
                item.setValue(value, of: name, kind: .hidden)
            } else {
                item.setValue(value, of: name)
            }
        }
        try validateTOTP(item)
        let saved = try vault.item(.add(item))
        if output.json { return try Output.printRecord(saved, reveal: false, asJSON: true) }
        print(saved.id.uuidString.lowercased())
        Terminal.note("Added \(type.displayName.lowercased()) \"\(saved.title)\".")
    }
}

/// Refuses a TOTP field that would not produce codes, before anything is stored.
func validateTOTP(_ item: Item) throws {
    for field in item.allFields where field.kind == .totp && !field.value.isEmpty {
        _ = try TOTP(parsing: field.value)
    }
}
