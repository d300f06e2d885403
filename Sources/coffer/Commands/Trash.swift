import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer rm NAME`: moves an item to the trash.
struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Move an item to the trash (`coffer restore` brings it back).")

    @Argument(help: "The item's title or id.")
    var name: String

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: .live))
        _ = try vault.call(TrashItem(id: item.id))
        Terminal.note(
            "Moved \"\(item.title)\" to the trash; `coffer restore \(item.id.uuidString.lowercased().prefix(8))` brings it back."
        )
    }
}

/// `coffer restore NAME`: brings an item back from the trash.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring an item back from the trash.")

    @Argument(help: "The item's title or id.")
    var name: String

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: .trash))
        _ = try vault.call(RestoreItem(id: item.id))
        Terminal.note("Restored \"\(item.title)\".")
    }
}

/// `coffer purge NAME`: deletes a trashed item for good.
struct Purge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete an item in the trash for good (or the whole trash with --all).")

    @Argument(help: "The item's title or id.")
    var name: String?

    @Flag(help: "Empty the whole trash.")
    var all = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var secrets: SecretOptions

    func validate() throws {
        guard (name != nil) != all else { throw ValidationError("Name one item in the trash, or pass --all.") }
    }

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let items =
            all
            ? try vault.elements(of: ListItems(ItemFilter(scope: .trash)))
            : [try vault.call(ResolveItem(name ?? "", scope: .trash))]
        guard !items.isEmpty else { return Terminal.note("The trash is empty.") }
        let what = items.count == 1 ? "\"\(items[0].title)\"" : "\(items.count) items"
        if !yes {
            guard Terminal.isInteractive, Terminal.confirm("Delete \(what) for good? This cannot be undone.") else {
                throw AgentFailure(.invalidInput, "Nothing was deleted. Pass --yes to confirm without a prompt.")
            }
        }
        for item in items { _ = try vault.call(PurgeItem(id: item.id)) }
        Terminal.note("Deleted \(what) for good.")
    }
}
