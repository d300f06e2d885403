import ArgumentParser
import CofferAgent
import CofferFiles
import CofferModel
import Foundation

/// `coffer read REF`: one secret, by reference, for scripts and config.
struct Read: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Print the secret a reference names (coffer://personal/ITEM/FIELD[?attr=totp]), or write it to a file.",
        discussion: """
            ITEM is a title or id, FIELD is matched as `coffer get` matches fields; encode / ? # % { } in \
            names as %2F %3F %23 %25 %7B %7D. Trashed items never resolve; an ambiguous name lists the ids.
            """)

    @Argument(help: "The reference, such as coffer://personal/GitHub/token.")
    var reference: String

    @Option(name: .shortAndLong, help: "Write the value to this file (mode 0600) instead of printing it.")
    var output: String?

    @Flag(help: "With -o: replace the file if it exists.")
    var force = false

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let parsed: SecretReference
        do {
            parsed = try SecretReference(parsing: reference)
        } catch {
            throw AgentFailure(.invalidInput, error.description)
        }
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        guard let value = try vault.values(of: [parsed])[parsed] else {
            throw AgentFailure(.notFound, "\(parsed) has no value.")
        }
        if let output {
            try SecretFile.write(Data(value.utf8), to: output, replacing: force)
        } else {
            print(value)
        }
    }
}

/// `coffer inject`: a template with `{{ coffer://… }}` placeholders, filled.
struct Inject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the {{ coffer://… }} placeholders of a template (a config file) with their secrets.",
        discussion: """
            Every placeholder is resolved before anything is written: an unknown or ambiguous one fails \
            with its line, and no output appears. The output file is written with mode 0600 through a \
            temporary file and a rename, so a reader never sees half of it.
            """)

    @Option(name: [.customShort("i"), .customLong("in-file")], help: "The template (default: standard input).")
    var input: String?

    @Option(name: [.customShort("o"), .customLong("out-file")], help: "Where to write (default: standard output).")
    var output: String?

    @Flag(help: "With -o: replace the file if it exists.")
    var force = false

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let text: String
        if let input {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw AgentFailure(.invalidInput, "The template \(input) does not exist or cannot be read.")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let template: ReferenceTemplate
        do {
            template = try ReferenceTemplate(text)
        } catch {
            throw AgentFailure(.invalidInput, "\(input ?? "standard input"), \(error.description) Nothing was written.")
        }
        let values = try SecretResolution.values(
            for: template.placeholders.map { ($0.reference, "\(input ?? "standard input"), line \($0.line)") },
            secrets: secrets)
        let filled = Data(template.filled(with: values).utf8)
        if let output {
            try SecretFile.write(filled, to: output, replacing: force)
        } else {
            FileHandle.standardOutput.write(filled)
        }
    }
}

/// Resolves many references at once, naming the place of the first that fails.
enum SecretResolution {
    /// Every reference's value; a failure says where the reference was written (`place`), never a value.
    static func values(for references: [(SecretReference, place: String)], secrets: SecretOptions) throws
        -> [SecretReference: String]
    {
        guard !references.isEmpty else { return [:] }
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        do {
            return try vault.values(of: Array(Set(references.map(\.0))))
        } catch {
            // One request answers for all; ask again one by one only to name the failing place.
            for (reference, place) in references {
                do {
                    _ = try vault.values(of: [reference])
                } catch let failure {
                    throw AgentFailure(failure.kind, "\(place): \(failure.message) Nothing was written or started.")
                }
            }
            throw error
        }
    }
}

/// Files that hold a secret: owner-only from the first byte, written whole or not at all.
enum SecretFile {
    /// Writes `data` to `path` with ``OwnerOnlyFile``; an existing file is refused unless `replacing`.
    static func write(_ data: Data, to path: String, replacing: Bool) throws {
        do {
            try OwnerOnlyFile.write(data, to: path, existing: replacing ? .replace : .refuse)
        } catch .exists {
            throw AgentFailure(.invalidInput, "\(path) already exists; add --force to replace it.")
        } catch {
            throw AgentFailure(
                .storage, "Cannot write \(path): \(error.reason). Check that the folder exists and is writable.")
        }
    }
}
