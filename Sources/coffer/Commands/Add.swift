import ArgumentParser
import CofferAgent
import CofferModel
import CofferSSH
import Foundation

/// `coffer add TYPE`: stores a new item.
struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add an item: login, note, card, identity, bank-account, wifi, ssh-key, license or password.",
        discussion: """
            Secret fields (password, card number, …) are asked for with hidden input. With --password-stdin \
            they are read one per line from standard input in the item type's order (after the master \
            password when the vault is locked); missing lines leave them empty.

            An SSH key is made here (--generate, Ed25519) or read from an OpenSSH private key file \
            (--private-key-file; a passphrase is asked for and the key is stored unprotected inside the \
            sealed item, so the agent can sign without asking). Its public key is printed.
            """)

    @Argument(help: "The item type: \(ItemType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var typeName: String

    @OptionGroup var flags: ItemFlags

    @Option(help: "ssh-key: the OpenSSH private key file to add (e.g. ~/.ssh/id_ed25519).")
    var privateKeyFile: String?
    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let type = try ItemType(parsing: typeName)
        let reader = secrets.reader()
        let vault = try VaultConnector(secrets: reader).open()
        var item = Item(type: type, title: flags.title ?? "", now: Date())
        if type == .sshKey {
            try addSSHKey(to: &item, reader: reader)
            var itemFlags = flags
            itemFlags.generate = false
            try itemFlags.apply(to: &item, isNew: true)
            let saved = try vault.call(AddItem(item))
            if output.json { return try Output.printRecord(saved, reveal: false, asJSON: true) }
            print(saved.value(of: "public-key") ?? "")
            return Terminal.note("Added SSH key \"\(saved.title)\" (\(saved.id.uuidString.lowercased())).")
        }
        guard privateKeyFile == nil else {
            throw AgentFailure(
                .invalidInput, "--private-key-file is for ssh-key items: coffer add ssh-key --private-key-file FILE.")
        }
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
        let saved = try vault.call(AddItem(item))
        if output.json { return try Output.printRecord(saved, reveal: false, asJSON: true) }
        print(saved.id.uuidString.lowercased())
        Terminal.note("Added \(type.displayName.lowercased()) \"\(saved.title)\".")
    }
}

extension Add {
    /// Fills an SSH-key item from a new Ed25519 key or an OpenSSH key file, opened with its passphrase.
    private func addSSHKey(to item: inout Item, reader: SecretReader) throws {
        do {
            try fillSSHKey(into: &item, reader: reader)
        } catch let error as SSHKeyError {
            throw AgentFailure(error)
        }
    }

    private func fillSSHKey(into item: inout Item, reader: SecretReader) throws {
        let key: SSHPrivateKey
        switch (flags.generate, privateKeyFile) {
        case (true, nil):
            key = SSHPrivateKey.generateEd25519(comment: flags.title ?? "coffer")
        case (false, let path?):
            let text = try Self.readKeyFile(path)
            let passphrase = try OpenSSHKeyFile.isProtected(text) ? try reader.require("Passphrase for \(path): ") : nil
            key = try OpenSSHKeyFile.read(text, passphrase: passphrase)
            if item.title.isEmpty {
                item.title = key.comment.isEmpty ? (path as NSString).lastPathComponent : key.comment
            }
        case (true, _?):
            throw AgentFailure(.invalidInput, "Give either --generate or --private-key-file, not both.")
        case (false, nil):
            throw AgentFailure(
                .invalidInput,
                "An SSH key is made here or read from its file: coffer add ssh-key --generate, or --private-key-file ~/.ssh/id_ed25519."
            )
        }
        item.setValue(OpenSSHKeyFile.write(key), of: "private-key")
        item.setValue(key.publicKeyLine, of: "public-key")
        item.setValue(key.fingerprint, of: "fingerprint")
    }

    private static func readKeyFile(_ path: String) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, let data = FileManager.default.contents(atPath: path) else {
            throw AgentFailure(.invalidInput, "Cannot read the key file \(path): check the path and its permissions.")
        }
        guard size <= OpenSSHKeyFile.maximumFileSize else {
            throw AgentFailure(.invalidInput, "\(path) is \(size) bytes, far larger than a private key file.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AgentFailure(.invalidInput, "\(path) is not a text file; give an OpenSSH private key file.")
        }
        return text
    }
}

/// Refuses a TOTP field that would not produce codes, before anything is stored.
func validateTOTP(_ item: Item) throws {
    for field in item.allFields where field.kind == .totp && !field.value.isEmpty {
        _ = try TOTP(parsing: field.value)
    }
}
