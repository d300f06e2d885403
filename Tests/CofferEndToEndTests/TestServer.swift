import Foundation

/// The real `coffer-server` binary on 127.0.0.1, on a free port, with a temporary data directory.
/// Restarting keeps the same port, so clients find it again.
final class TestServer {
    let dataDirectory: URL
    private(set) var url = ""
    private var port = 0
    private var process: Process?
    private let logFile: URL

    init() throws {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-srv-\(UUID().uuidString.prefix(8))")
        logFile = dataDirectory.appendingPathExtension("log")
        try start()
    }

    deinit { stop() }

    func start() throws {
        let process = Process()
        process.executableURL = try CofferCLI.locateBinary().deletingLastPathComponent().appendingPathComponent(
            "coffer-server")
        process.arguments = ["--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
        var buffer = ""
        while !(buffer.contains("listening on http://") && buffer.hasSuffix("\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw CocoaError(
                    .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "coffer-server exited: \(buffer)"])
            }
            buffer += String(decoding: chunk, as: UTF8.self)
        }
        let line = buffer.split(separator: "\n").first { $0.contains("listening on http://") } ?? ""
        url = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
        port = Int(url.split(separator: ":").last ?? "") ?? 0
        let log = logFile
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        if let file = try? FileHandle(forWritingTo: log) {
            file.seekToEndOfFile()
            file.write(Data(buffer.utf8))
            try? file.close()
        }
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if let file = try? FileHandle(forWritingTo: log) {
                file.seekToEndOfFile()
                file.write(data)
                try? file.close()
            }
        }
    }

    func kill() { signal(SIGKILL) }
    func stop() { signal(SIGTERM) }

    private func signal(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// The database, the mail directory and the log.
    func allBytes() throws -> Data {
        var data = (try? Data(contentsOf: logFile)) ?? Data()
        let enumerator = FileManager.default.enumerator(at: dataDirectory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if let bytes = try? Data(contentsOf: url) { data.append(bytes) }
        }
        return data
    }
}
