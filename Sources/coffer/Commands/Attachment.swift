import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer attachment`: the files kept with items (a key file, a scan; KeePass attachments arrive here).
struct AttachmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attachment", abstract: "Work with files attached to items.",
        subcommands: [Add.self, Save.self, Remove.self])

    /// `coffer attachment add ITEM FILE [--name NAME]`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attach a file to an item; it is sealed and synced with the item (2 MiB per item).")

        @Argument(help: "The item's title or id.") var item: String
        @Argument(help: "The file to attach.") var file: String
        @Option(help: "The attachment's name (default: the file's name).") var name: String?
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            guard attributes?[.type] as? FileAttributeType == .typeRegular, let size = attributes?[.size] as? Int
            else { throw AgentFailure(.invalidInput, "\(file) is not a file Coffer can read. Nothing was changed.") }
            // Refused before reading, so a large file by mistake costs nothing.
            guard size <= Item.attachmentLimit else {
                throw AgentFailure(
                    .invalidInput,
                    "\(file) is \(ByteCount(size)); an item keeps at most \(ByteCount(Item.attachmentLimit)) of attachments so it still syncs. Nothing was changed."
                )
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw AgentFailure(.invalidInput, "Cannot read \(file); check its permissions. Nothing was changed.")
            }
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            var found = try vault.call(ResolveItem(item, scope: .live))
            let attachment = Attachment(name: name ?? (file as NSString).lastPathComponent, data: data)
            try found.attach(attachment)
            let saved = try vault.call(UpdateItem(found))
            Terminal.note("Attached \(attachment.name) (\(data.count) bytes) to \"\(saved.title)\".")
        }
    }

    /// `coffer attachment rm ITEM NAME`.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove an attachment from an item (a backup from before still holds it).")

        @Argument(help: "The item's title or id.") var item: String
        @Argument(help: "The attachment's name, as `coffer show` lists it.") var name: String
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            var found = try vault.call(ResolveItem(item, scope: .live))
            _ = try Save.attachment(named: name, of: found)
            found.attachments.removeAll { $0.name == name }
            let saved = try vault.call(UpdateItem(found))
            Terminal.note("Removed \(name) from \"\(saved.title)\".")
        }
    }

    /// `coffer attachment save ITEM NAME --output FILE`.
    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an item's attachment to a new file, readable only by you.")

        @Argument(help: "The item's title or id.") var item: String
        @Argument(help: "The attachment's name, as `coffer show` lists it.") var name: String
        @Option(help: "The file to write (it must not exist).") var output: String
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            let attachment = try Self.attachment(named: name, of: vault.call(ResolveItem(item, scope: .all)))
            try OutputFile.writeNew(attachment.data, to: output)
            Terminal.note("Wrote \(attachment.name) (\(attachment.data.count) bytes) to \(output).")
        }

        /// The attachment called `name`, or an error that lists the ones the item has.
        static func attachment(named name: String, of item: Item) throws -> CofferModel.Attachment {
            guard let attachment = item.attachments.first(where: { $0.name == name }) else {
                let names = item.attachments.map(\.name)
                throw AgentFailure(
                    .notFound,
                    names.isEmpty
                        ? "\"\(item.title)\" has no attachments."
                        : "\"\(item.title)\" has no attachment \"\(name)\"; it has: \(names.joined(separator: ", ")).")
            }
            return attachment
        }
    }
}
