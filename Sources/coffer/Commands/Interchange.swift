public import ArgumentParser
import CofferAgent
import CofferBackup
import CofferCrypto
import CofferInterchange
import CofferKDBX
import CofferModel
import Foundation

/// `coffer import`: brings items from another password manager's export.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import an export file from another password manager.",
        discussion: """
            The format is detected from the file's content. Supported: \
            \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")). A preview shows what will be \
            added, what duplicates items already here (same type, title, username and site), and rows that \
            cannot be taken, with the reason; everything is then added in one step, so a failure changes nothing.
            """)

    @Argument(help: "The export file.") var file: String
    @Option(help: "The format, when detection cannot tell (e.g. csv with --columns).") var format: String?
    @Option(help: "For --format csv: which column is which, e.g. title=Name,username=Login,password=Pass,url=Site.")
    var columns: String?
    @Option(
        help: "What to do with duplicates: skip (default), merge (fill in and update the existing item) or keep both.")
    var duplicates: DuplicateChoice = .skip
    @Option(help: "A KeePass database's key file, when it has one.") var keyFile: String?
    @Flag(help: "Show the preview; import nothing.") var dryRun = false
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let format: String
        let added: Int
        let merged: Int
        let skipped: Int
        let rejected: [SkippedRecord]
        let dryRun: Bool

        init(_ format: ImportFormat, _ outcome: ImportOutcome, rejected: [SkippedRecord], dryRun: Bool) {
            self.format = format.rawValue
            added = outcome.added
            merged = outcome.merged
            skipped = outcome.skipped
            self.rejected = rejected
            self.dryRun = dryRun
        }
    }

    func run() throws {
        let chosen = try format.map { name throws -> ImportFormat in
            guard let format = ImportFormat(rawValue: name.lowercased()) else {
                throw AgentFailure(
                    .invalidInput,
                    "'\(name)' is not a format; use one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))."
                )
            }
            return format
        }
        let mapping = try columns.map { try ColumnMapping(parsing: $0) }
        let reader = secrets.reader()
        let progress = ProgressBar(isWanted: !output.json)
        defer { progress.finish() }
        let imported =
            try Self.encryptedExport(file, reader: reader)
            ?? KeePassFile(path: file, keyFile: keyFile).read(reader: reader, progress: progress)
            ?? Self.passwordProtectedBitwarden(file, reader: reader, progress: progress)
            ?? {
                progress.phase("Reading \((file as NSString).lastPathComponent)", hasSize: true)
                return try Importer.read(
                    file: file, format: chosen, columns: mapping, progress: { progress.update($0) })
            }()
        progress.finish()
        for note in imported.notes { Terminal.note(note) }

        let vault = try VaultConnector(secrets: reader).open()
        // The agent finds duplicates among the vault's items itself: none of them crosses the socket.
        // Asked for confirmation, it first works out what the import would do, then does it.
        let asksFirst = !dryRun && !yes
        var outcome = try vault.call(ImportItems(imported.items, duplicates: duplicates, dryRun: dryRun || asksFirst))
        let rejected = { (outcome: ImportOutcome) in imported.skipped + outcome.rejected }
        preview(imported.format, outcome, rejected: rejected(outcome))
        if dryRun {
            return output.json
                ? try Output.json(Report(imported.format, outcome, rejected: rejected(outcome), dryRun: true))
                : Terminal.note("Dry run: nothing was imported.")
        }
        if asksFirst {
            guard Terminal.isInteractive,
                Terminal.confirm("Import \(outcome.added) new and \(outcome.merged) merged item(s)?")
            else { throw AgentFailure(.invalidInput, "Nothing was imported. Pass --yes to import without a prompt.") }
        }
        let saving = ProgressBar(isWanted: !output.json && outcome.added + outcome.merged >= 1000)
        saving.phase("Encrypting and saving \(outcome.added + outcome.merged) items", hasSize: false)
        if asksFirst { outcome = try vault.call(ImportItems(imported.items, duplicates: duplicates, dryRun: false)) }
        saving.finish()
        if output.json {
            return try Output.json(Report(imported.format, outcome, rejected: rejected(outcome), dryRun: false))
        }
        print(
            "Imported from \(imported.format.displayName): \(outcome.added) added, \(outcome.merged) merged, \(outcome.skipped) skipped as duplicates, \(rejected(outcome).count) rejected."
        )
    }

    /// A password-protected Bitwarden JSON export, opened with the password chosen when exporting;
    /// `nil` for any other file.
    static func passwordProtectedBitwarden(_ path: String, reader: SecretReader, progress: ProgressBar) throws
        -> ImportedItems?
    {
        let name = (path as NSString).lastPathComponent
        guard fileStart(path, count: 64).first(where: { $0 > 0x20 }) == UInt8(ascii: "{") else { return nil }
        let data = try Importer.contents(of: path)
        guard BitwardenProtectedExport.isProtected(data) else { return nil }
        let password = try reader.require("\(name)'s password (the one chosen when exporting from Bitwarden): ")
        progress.phase("Opening \(name)", hasSize: false)
        do {
            let plain = try BitwardenProtectedExport.decrypt(data, file: name, password: password)
            return try Importer.read(data: plain, name: name, format: .bitwardenJSON)
        } catch {
            guard case .wrongSecret = error else { throw error }
            throw AgentFailure(.wrongSecret, error.description)
        }
    }

    /// A Coffer encrypted export or backup: opened with its own password (the first secret read).
    static func encryptedExport(_ path: String, reader: SecretReader) throws -> ImportedItems? {
        guard BackupFile.hasSignature(fileStart(path)) else { return nil }
        let file = try BackupFile.read(at: path)
        let password = try reader.require("The export's password: ")
        let key: AccountKey
        do {
            key = try file.accountKey(for: .password(password), currentHeader: nil)
        } catch {
            guard case .wrongSecret = error else { throw error }
            throw AgentFailure(
                .wrongSecret,
                "That password does not open \((path as NSString).lastPathComponent). An encrypted export opens with the password chosen when it was made (a backup: use `coffer backup restore`, which also takes a recovery code). Nothing was imported."
            )
        }
        let contents = try file.open(with: key)
        return ImportedItems(format: .cofferExport, items: contents.items, skipped: [], notes: [])
    }

    private func preview(_ format: ImportFormat, _ outcome: ImportOutcome, rejected: [SkippedRecord]) {
        let types = ItemType.allCases.compactMap { type in
            outcome.addedByType[type].map { "\($0) \(type.displayName.lowercased())" }
        }
        Terminal.note(
            "\(format.displayName): \(outcome.added) to add (\(types.isEmpty ? "none" : types.joined(separator: ", "))), \(outcome.merged) to merge, \(outcome.skipped) duplicate(s) to skip."
        )
        for record in rejected.prefix(20) {
            let place = record.line.map { "line \($0)" } ?? record.field ?? "?"
            Terminal.note("  not imported (\(place)): \(record.reason)")
        }
        if rejected.count > 20 { Terminal.note("  … and \(rejected.count - 20) more not imported.") }
    }
}

// `public import ArgumentParser` above is for this conformance of the agent's type.
extension DuplicateChoice: ExpressibleByArgument {}

/// `coffer export`: writes the vault for other programs: encrypted (KeePass, Coffer) or, after a warning, in clear.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the vault: encrypted as KeePass (kdbx) or Coffer, or unencrypted as CSV or JSON.",
        discussion: """
            kdbx and coffer files are encrypted with a password of their own (asked for). CSV (Bitwarden's \
            layout) and JSON hold every password in clear text, readable by anything that can read the file: \
            they are written readable only by you, after a warning; delete them as soon as they have been \
            imported elsewhere. For a copy of the whole vault that stays encrypted, `coffer backup create`.
            """)

    @Option(
        help:
            "kdbx (KeePass, its own password), coffer (encrypted with its own password), csv or json (both unencrypted)."
    ) var format: String
    @Option(help: "The file to write (it must not exist); by default coffer-export-DATE.EXT here.") var output: String?
    @Option(help: "For kdbx: the cipher, aes256 (default) or chacha20.") var cipher: ExportCipher = .aes256
    @Option(help: "For kdbx: a key file the database will also need (an existing file; KeePass reads any file).")
    var keyFile: String?
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let kind = format.lowercased()
        guard ["kdbx", "coffer", "csv", "json"].contains(kind) else {
            throw AgentFailure(.invalidInput, "'\(format)' is not an export format; use kdbx, coffer, csv or json.")
        }
        let output = self.output ?? Self.defaultName(extension: kind)
        guard !FileManager.default.fileExists(atPath: output) else {
            throw AgentFailure(.invalidInput, "\(output) already exists; choose a new file name. Nothing was written.")
        }
        let reader = secrets.reader()
        if kind == "coffer" || kind == "kdbx" { return try exportEncrypted(reader, kind: kind, output: output) }
        Terminal.note(
            "Warning: the export holds every password unencrypted. Anyone who can read the file can read them.")
        if !yes {
            guard Terminal.isInteractive, Terminal.confirm("Write an unencrypted export to \(output)?") else {
                throw AgentFailure(.invalidInput, "Nothing was written. Pass --yes to export without a prompt.")
            }
        }
        let items = try VaultConnector(secrets: reader).open().elements(of: ListItems(ItemFilter(scope: .all)))
        let data = kind == "csv" ? Exporter.csv(items) : try Exporter.json(items)
        if kind == "csv", items.contains(where: { !$0.attachments.isEmpty }) {
            Terminal.note("CSV has no place for attachments; they are not in this file (kdbx and coffer keep them).")
        }
        try OutputFile.writeNew(data, to: output)
        Terminal.note(
            "Wrote \(items.filter { kind == "json" || !$0.isTrashed }.count) item(s) to \(output) (readable only by you). Delete it when done."
        )
    }

    static func defaultName(extension kind: String) -> String {
        let day = Date().formatted(.iso8601.year().month().day())
        return "coffer-export-\(day).\(kind == "coffer" ? "cofferexport" : kind)"
    }

    /// The encrypted exports: their own password (asked twice on a terminal), Argon2id; Coffer's
    /// backup format or KeePass KDBX 4.
    private func exportEncrypted(_ reader: SecretReader, kind: String, output: String) throws {
        if keyFile != nil, kind != "kdbx" { throw AgentFailure(.invalidInput, "--key-file is for --format kdbx.") }
        let keyFileData = try keyFile.map { try keyFileContents($0, consequence: "Nothing was written.") }
        let password = try reader.require("Password for the export: ")
        if !reader.isScripted, try reader.require("Repeat it: ") != password {
            throw AgentFailure(.invalidInput, "The two passwords differ; nothing was written.")
        }
        guard password.count >= 8 else {
            throw AgentFailure(.invalidInput, "The export's password needs at least 8 characters; nothing was written.")
        }
        let items = try VaultConnector(secrets: reader).open().elements(of: ListItems(ItemFilter(scope: .all)))
        let data: Data
        if kind == "kdbx" {
            var settings = KDBXSettings.coffer
            settings.cipher = cipher.kdbx
            data = try KDBXFile.write(
                KeePassInterchange.database(for: items),
                credentials: KDBXCredentials(password: password, keyFile: keyFileData), settings: settings)
        } else {
            data = try BackupFile.makeExport(items: items, password: password)
        }
        try OutputFile.writeNew(data, to: output)
        Terminal.note(
            "Wrote an encrypted export of \(items.count) item(s) to \(output); only its password\(keyFileData == nil ? "" : " and key file") open\(keyFileData == nil ? "s" : "") it."
        )
    }
}

/// `--cipher` for KDBX exports.
enum ExportCipher: String, ExpressibleByArgument {
    case aes256, chacha20

    var kdbx: KDBXSettings.Cipher { self == .aes256 ? .aes256 : .chaCha20 }
}

/// A KeePass database given to `coffer import`: recognised by its signature (or `--format kdbx`),
/// opened with its password (the first secret read; empty means none) and optional key file.
struct KeePassFile {
    let path: String
    let keyFile: String?

    /// The items, or `nil` when the file is not a KeePass database.
    func read(reader: SecretReader, progress: ProgressBar) throws -> ImportedItems? {
        let name = (path as NSString).lastPathComponent
        // Not a KeePass database: the general reader takes it (and refuses it when --format kdbx).
        guard KDBXFile.hasSignature(fileStart(path)) else {
            if keyFile != nil {
                throw AgentFailure(.invalidInput, "--key-file is for KeePass databases; \(name) is not one.")
            }
            return nil
        }
        let keyFileData = try keyFile.map { try keyFileContents($0, consequence: "Nothing was imported.") }
        let password = try reader.require("\(name)'s password: ")
        let credentials: KDBXCredentials
        do {
            credentials = try KDBXCredentials(password: password.isEmpty ? nil : password, keyFile: keyFileData)
        } catch {
            throw AgentFailure(.wrongSecret, "\(name) needs its password or --key-file. Nothing was imported.")
        }
        let data = try Importer.contents(of: path)
        progress.phase("Opening \(name)", hasSize: false)
        do {
            return try KeePassInterchange.read(data, file: name, credentials: credentials)
        } catch {
            guard case .wrongSecret = error else { throw error }
            throw AgentFailure(.wrongSecret, error.description)
        }
    }
}

/// The first bytes of a file, where formats keep their signatures; empty when it cannot be read
/// (the reader that reads it whole then says why).
func fileStart(_ path: String, count: Int = 8) -> Data {
    guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
    defer { try? handle.close() }
    return ((try? handle.read(upToCount: count)) ?? nil) ?? Data()
}

/// A KeePass key file's bytes (KeePass accepts any file), or an error naming it.
func keyFileContents(_ path: String, consequence: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw AgentFailure(.invalidInput, "The key file \(path) cannot be read. \(consequence)")
    }
    return data
}
