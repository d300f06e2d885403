import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer attachment`: the files kept with items (brought in from KeePass, for example).
struct AttachmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attachment", abstract: "Work with files attached to items.",
        subcommands: [Save.self])

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
            let found = try vault.item(.resolve(name: item, scope: .all))
            guard let attachment = found.attachments.first(where: { $0.name == name }) else {
                let names = found.attachments.map(\.name)
                throw AgentFailure(
                    .notFound,
                    names.isEmpty
                        ? "\"\(found.title)\" has no attachments."
                        : "\"\(found.title)\" has no attachment \"\(name)\"; it has: \(names.joined(separator: ", ")).")
            }
            guard !FileManager.default.fileExists(atPath: output) else {
                throw AgentFailure(
                    .invalidInput, "\(output) already exists; choose a new file name. Nothing was written.")
            }
            guard
                FileManager.default.createFile(
                    atPath: output, contents: attachment.data, attributes: [.posixPermissions: 0o600])
            else { throw AgentFailure(.invalidInput, "Cannot write \(output); check the folder. Nothing was written.") }
            Terminal.note("Wrote \(attachment.name) (\(attachment.data.count) bytes) to \(output).")
        }
    }
}
