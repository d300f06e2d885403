import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `coffer-server` binary on 127.0.0.1 with a free port and a temporary data directory.
final class ServerProcess {
    let dataDirectory: URL
    private(set) var url = ""
    private var process: Process?
    let logFile: URL

    init(dataDirectory: URL? = nil) throws {
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "coffer-server-\(UUID().uuidString.prefix(8))")
        logFile = self.dataDirectory.deletingLastPathComponent().appendingPathComponent(
            "\(self.dataDirectory.lastPathComponent).log")
        try start()
    }

    deinit { stop() }

    static func binary(named name: String) throws -> URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }

    /// Starts the server and waits for its "listening on" line, which carries the URL.
    func start() throws {
        let process = Process()
        process.executableURL = try Self.binary(named: "coffer-server")
        process.arguments = ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
        let handle = output.fileHandleForReading
        var buffer = ""
        while !buffer.contains("listening on http://") || !buffer.hasSuffix("\n") {
            let chunk = handle.availableData
            guard !chunk.isEmpty else {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server exited: \(buffer)"])
            }
            buffer += String(decoding: chunk, as: UTF8.self)
        }
        let line = buffer.split(separator: "\n").first { $0.contains("listening on http://") } ?? ""
        url = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
        // Keep draining the log into a file so the server never blocks on a full pipe.
        let log = logFile
        FileManager.default.createFile(atPath: log.path, contents: Data(buffer.utf8))
        handle.readabilityHandler = { handle in
            let data = handle.availableData
            if let file = try? FileHandle(forWritingTo: log) {
                file.seekToEndOfFile()
                file.write(data)
                try? file.close()
            }
        }
    }

    func kill(signal: Int32 = SIGKILL) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    func stop() {
        kill(signal: SIGTERM)
    }

    var exitStatus: Int32? { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } }

    /// Everything the server wrote to its data directory and log.
    func allBytes() throws -> Data {
        var data = (try? Data(contentsOf: logFile)) ?? Data()
        let enumerator = FileManager.default.enumerator(at: dataDirectory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if let bytes = try? Data(contentsOf: url) { data.append(bytes) }
        }
        return data
    }
}

/// A small synchronous HTTP client for tests (URLSession's data task, waited on).
enum HTTP {
    struct Reply {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    static func send(_ method: String, _ url: String, body: Data? = nil, token: String? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, body: data, headers: headers)
    }

    static func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
}
