import Foundation
import Testing

/// Runs the real `coffer` binary with its own COFFER_HOME, as a user or a script would.
final class CofferCLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    let home: URL
    private let executable: URL

    init() throws {
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

    static func locateBinary() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        for directory in candidates {
            let binary = directory.appendingPathComponent("coffer")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "coffer binary next to the test bundle"])
    }

    /// Runs `coffer` on a pseudo-terminal, as in a person's shell, through script(1) (util-linux);
    /// the result's stdout is everything the terminal showed, standard error included.
    func runOnTerminal(_ arguments: [String]) throws -> Result {
        let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try run(
            ["-qec", quoted.joined(separator: " "), "/dev/null"], program: URL(fileURLWithPath: "/usr/bin/script"))
    }

    @discardableResult
    func run(
        _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:], program: URL? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = program ?? executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["COFFER_HOME"] = home.path
        environment.removeValue(forKey: "DISPLAY")
        environment.removeValue(forKey: "WAYLAND_DISPLAY")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
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
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    /// Runs and expects success, returning standard output.
    @discardableResult
    func ok(_ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> String
    {
        let result = try run(arguments, stdin: stdin)
        #expect(
            result.status == 0, "coffer \(arguments.joined(separator: " ")): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    func json(_ arguments: [String], stdin: String? = nil) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(ok(arguments, stdin: stdin).utf8))
    }

    /// Every byte of every file under COFFER_HOME.
    func allFileBytes() throws -> Data {
        var data = Data()
        let enumerator = FileManager.default.enumerator(at: home, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                data.append(try Data(contentsOf: url))
            }
        }
        return data
    }

    var vaultFile: URL { home.appendingPathComponent("vault.sqlite") }
}
