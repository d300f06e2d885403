import CSystemSupport
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

extension Program {
    /// Runs `path` like ``run(_:_:in:)``, but the program inherits no descriptor beyond standard
    /// input (`/dev/null`), output and error (a pipe read here): for programs that leave daemons
    /// behind, which would otherwise hold this process's descriptors open for their lifetime.
    @discardableResult
    public static func runWithoutInheritedDescriptors(_ path: String, _ arguments: [String]) throws -> (
        status: Int32, output: String
    ) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
        // The shell puts standard error beside standard output; coffer_spawn inherits nothing else.
        let command = ["/bin/sh", "-c", "exec \"$@\" 2>&1", "sh", path] + arguments
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let pid = coffer_spawn("/bin/sh", &argv, -1, ends[1], 0)
        close(ends[1])
        let output = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true).readDataToEndOfFile()
        guard pid > 0 else { throw POSIXError(.ENOENT) }
        return (coffer_wait_for_exit(pid), String(decoding: output, as: UTF8.self))
    }
}

extension Pipe {
    /// The first line a helper prints on this pipe (a port, a display number), without its newline;
    /// fails if the helper ends before printing one.
    public func firstLine() throws -> String { try Self.firstLine(of: fileHandleForReading) }

    /// The first line readable from `handle`, without its line end; fails if it ends before one.
    public static func firstLine(of handle: FileHandle) throws -> String {
        // Bytes, not String: "\r\n" (sshd's line end) is one Character and never `hasSuffix("\n")`.
        var bytes = Data()
        while !bytes.contains(0x0A) {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
            bytes += chunk
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
