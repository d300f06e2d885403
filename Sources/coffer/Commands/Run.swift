import ArgumentParser
import CSystemSupport
import CofferAgent
import CofferModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `coffer run -- COMMAND…`: a command with the secrets its environment refers to, and nowhere else.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command with secret references in its environment replaced by their secrets.",
        discussion: """
            Environment variables (yours, and those of --env-file files) whose value is a reference \
            (coffer://personal/ITEM/FIELD) or contains {{ coffer://… }} are resolved, all before the \
            command starts: one that does not resolve stops everything, and nothing runs. The secrets go \
            only into the command's environment, never into arguments. Unless --no-masking, coffer stays \
            the command's parent and replaces every secret (of 4 characters or more) in its output with \
            <concealed by coffer>, even when written in pieces; signals are forwarded and the command's \
            exit status (or the signal that ended it) is coffer's.
            """)

    @Option(name: .customLong("env-file"), help: "A file of KEY=VALUE lines to add (repeatable; later files win).")
    var environmentFiles: [String] = []

    @Flag(help: "Do not mask secrets in the command's output (coffer steps aside with execve).")
    var noMasking = false

    @OptionGroup var secrets: SecretOptions

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    /// What replaces a secret in the command's output.
    static let mask = Array("<concealed by coffer>".utf8)
    /// Shorter values are not masked: replacing every `1` or `ab` would garble output and hide nothing.
    static let shortestMasked = 4

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = arguments.first else {
            throw ValidationError("Give the command to run after --, such as: coffer run -- ./deploy.sh")
        }
        guard let path = Self.executable(named: program) else {
            throw AgentFailure(.invalidInput, "\(program): command not found (looked in PATH).")
        }
        var environment = ProcessInfo.processInfo.environment
        var places: [String: String] = [:]
        for file in environmentFiles {
            for (name, value, line) in try EnvironmentFile.read(file) {
                environment[name] = value
                places[name] = "\(file), line \(line) (\(name))"
            }
        }
        var templates: [String: ReferenceTemplate] = [:]
        for (name, value) in environment where value.contains("coffer://") {
            let place = places[name] ?? "environment variable \(name)"
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            let text = trimmed.hasPrefix("coffer://") && !trimmed.contains("{{") ? "{{ \(trimmed) }}" : value
            do {
                templates[name] = try ReferenceTemplate(text)
            } catch {
                throw AgentFailure(.invalidInput, "\(place): \(error.problem) Nothing was started.")
            }
        }
        let references = templates.flatMap { name, template in
            template.placeholders.map { ($0.reference, place: places[name] ?? "environment variable \(name)") }
        }
        let values = try SecretResolution.values(for: references, secrets: secrets)
        for (name, template) in templates { environment[name] = template.filled(with: values) }
        let masked = Set(values.values.filter { $0.utf8.count >= Self.shortestMasked }).map { Array($0.utf8) }
        let envp = environment.map { "\($0.key)=\($0.value)" }
        if noMasking || masked.isEmpty {
            Self.execute(path, arguments, envp)
        }
        Self.exitLikeChild(try Supervised.run(path, arguments, envp, masking: masked))
    }

    /// Replaces this process with the command (no masking: nothing of coffer stays around).
    private static func execute(_ path: String, _ arguments: [String], _ environment: [String]) -> Never {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        execve(path, argv, envp)
        Terminal.note("Cannot start \(path): \(String(cString: strerror(errno))).")
        Glibc.exit(126)
    }

    /// Ends this process the way the child ended: its exit code, or the same signal.
    private static func exitLikeChild(_ ending: Supervised.Ending) -> Never {
        switch ending {
        case .exited(let code): Glibc.exit(code)
        case .signalled(let number):
            signal(number, SIG_DFL)
            raise(number)
            Glibc.exit(128 + number)
        }
    }

    /// `name` as given when it has a slash, else the first executable of that name in PATH.
    static func executable(named name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// `KEY=VALUE` files as `.env` tools write them: `export ` allowed, values optionally quoted, `#` comments.
enum EnvironmentFile {
    /// Every variable of the file, with its line. A malformed line is named by number, never shown
    /// (its value may be a secret).
    static func read(_ path: String) throws -> [(name: String, value: String, line: Int)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentFailure(.invalidInput, "The environment file \(path) does not exist or cannot be read.")
        }
        var variables: [(String, String, Int)] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)) }
            guard let equals = line.firstIndex(of: "=") else {
                throw AgentFailure(
                    .invalidInput, "Line \(index + 1) of \(path) is not KEY=VALUE. Nothing was started.")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard let first = name.first, first == "_" || first.isLetter,
                name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
            else {
                throw AgentFailure(
                    .invalidInput,
                    "Line \(index + 1) of \(path) does not start with a variable name (letters, digits, _). Nothing was started."
                )
            }
            var value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            variables.append((name, value, index + 1))
        }
        return variables
    }
}
