import Crypto
public import Foundation
public import Testing

/// Runs the real `coffer` binary with its own COFFER_HOME, as a user or a script would.
public final class CofferCLI {
    /// What a run printed and how it ended.
    public struct Result: Sendable {
        /// The exit status.
        public let status: Int32
        /// Standard output.
        public let stdout: String
        /// Standard error.
        public let stderr: String
    }

    /// The profile (COFFER_HOME).
    public let home: URL
    /// Added to every run's environment.
    public var environment: [String: String] = [:]
    let executable: URL

    /// A new, empty profile.
    public init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        executable = try Self.locateBinary()
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        // Leave no agent behind: lock and clear the PIN so it exits.
        _ = try? run(["pin", "clear"])
        _ = try? run(["lock"])
        try? FileManager.default.removeItem(at: home)
    }

    /// The `coffer` binary built next to the test bundle.
    public static func locateBinary() throws -> URL { try ServerProcess.binary(named: "coffer") }

    /// Runs `coffer` on a pseudo-terminal, as in a person's shell, through script(1) (util-linux);
    /// the result's stdout is everything the terminal showed, standard error included.
    public func runOnTerminal(_ arguments: [String], typing input: String? = nil) throws -> Result {
        let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try run(
            ["-qec", quoted.joined(separator: " "), "/dev/null"], stdin: input,
            program: URL(fileURLWithPath: "/usr/bin/script"))
    }

    /// Runs `coffer` (or `program`) with `arguments`, feeding `stdin`, and waits for it.
    @discardableResult
    public func run(
        _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:], program: URL? = nil
    ) throws -> Result {
        try start(arguments, stdin: stdin, environment: extra, program: program).wait()
    }

    /// A command started and not yet waited for.
    public final class Running {
        let process: Process
        let outputs: URL

        init(process: Process, outputs: URL) {
            self.process = process
            self.outputs = outputs
        }

        /// Waits for the command to end; a command killed by a signal reports 128 + the signal.
        public func wait() throws -> Result {
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: outputs) }
            let status =
                process.terminationReason == .uncaughtSignal
                ? 128 + process.terminationStatus : process.terminationStatus
            return Result(
                status: status,
                stdout: try String(contentsOf: outputs.appendingPathComponent("stdout"), encoding: .utf8),
                stderr: try String(contentsOf: outputs.appendingPathComponent("stderr"), encoding: .utf8))
        }
    }

    /// The environment a run gets: this profile, no display, the test's additions.
    public func environment(adding extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["COFFER_HOME"] = home.path
        environment.removeValue(forKey: "DISPLAY")
        environment.removeValue(forKey: "WAYLAND_DISPLAY")
        for (key, value) in self.environment.merging(extra, uniquingKeysWith: { _, new in new }) {
            environment[key] = value
        }
        return environment
    }

    /// Starts `coffer` (or `program`) with `arguments` and returns without waiting for it.
    public func start(
        _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:], program: URL? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = program ?? executable
        process.arguments = arguments
        process.environment = environment(adding: extra)
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let stdoutURL = outputs.appendingPathComponent("stdout")
        let stderrURL = outputs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // A command may exit before reading all of its input (a usage error, a killed process):
        // that is an EPIPE for the test to ignore, not a SIGPIPE that kills the test runner.
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return Running(process: process, outputs: outputs)
    }

    /// Runs and expects success, returning standard output.
    @discardableResult
    public func ok(_ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        throws
        -> String
    {
        let result = try run(arguments, stdin: stdin)
        #expect(
            result.status == 0, "coffer \(arguments.joined(separator: " ")): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Runs and parses standard output as JSON.
    public func json(_ arguments: [String], stdin: String? = nil) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(ok(arguments, stdin: stdin).utf8))
    }

    /// Every byte of every file under COFFER_HOME.
    public func allFileBytes() throws -> Data {
        var data = Data()
        let enumerator = FileManager.default.enumerator(at: home, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                data.append(try Data(contentsOf: url))
            }
        }
        return data
    }

    /// SHA-256 of `text` in hex, for looking for a digest where none may be.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The profile's vault file.
    public var vaultFile: URL { home.appendingPathComponent("vault.sqlite") }
}
