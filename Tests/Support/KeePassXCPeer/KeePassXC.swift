public import Foundation

/// Runs Debian's `keepassxc-cli`, the real peer the KDBX tests check against. Secrets go on
/// standard input, as keepassxc-cli prompts for them. A missing program fails the test loudly:
/// `make test` installs the `keepassxc` package.
public struct KeePassXC {
    let executable: String

    /// Finds keepassxc-cli on PATH, or throws `Missing`, which says how to install it.
    public init() throws {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map {
            "\($0)/keepassxc-cli"
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Missing()
        }
        executable = found
    }

    /// keepassxc-cli is not installed.
    public struct Missing: Error, CustomStringConvertible {
        /// What went wrong and how to fix it.
        public var description: String {
            "keepassxc-cli is not installed; `make test` installs it (apt-get install keepassxc)"
        }
    }

    /// keepassxc-cli exited with an error.
    public struct Failed: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let output: String
        /// What went wrong and how to fix it.
        public var description: String {
            "keepassxc-cli \(arguments.joined(separator: " ")) exited \(status): \(output)"
        }
    }

    /// Runs a command with `input` lines on standard input; returns standard output.
    @discardableResult
    public func run(_ arguments: [String], input: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["HOME": NSTemporaryDirectory(), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.map { $0 + "\n" }.joined().utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(
                arguments: arguments, status: process.terminationStatus,
                output: String(decoding: output + errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A scratch folder removed when the test ends.
public final class ScratchFolder {
    /// The folder.
    public let url: URL

    /// Creates an empty folder under the temporary directory.
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-kdbx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
