public import Foundation

/// A helper program from Debian (sqlite3, openssl, coffer-server's subcommands) run to its end.
public enum Program {
    /// Runs `path` with `arguments` in `directory`; returns its exit status and everything it printed.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], in directory: URL? = nil) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
