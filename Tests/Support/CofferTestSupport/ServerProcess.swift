public import Foundation

/// The real `coffer-server` binary on 127.0.0.1, on a free port, with a temporary data directory.
///
/// Restarting keeps the port, so clients find the server again; the log goes to a file beside the
/// data directory, drained continuously so the server never blocks on a full pipe.
public final class ServerProcess: @unchecked Sendable {
    // `@unchecked Sendable` is sound: tests drive one server from one test at a time; only the log
    // file is shared with the pipe's handler, and that handler touches nothing here.

    /// The data directory (`--data-dir`).
    public let dataDirectory: URL
    /// Everything the server printed.
    public let logFile: URL
    /// `http://127.0.0.1:PORT`, known once it listens.
    public private(set) var url = ""
    private var port = 0
    private var process: Process?
    private let arguments: [String]
    /// Added to the defaults at each start: change it between a stop and a start to restart the
    /// server with other settings on the same port.
    public var environment: [String: String]

    /// Starts a server; `arguments` and `environment` are added to the defaults.
    public init(dataDirectory: URL? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws {
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "coffer-server-\(UUID().uuidString.prefix(8))")
        logFile = self.dataDirectory.deletingLastPathComponent().appendingPathComponent(
            "\(self.dataDirectory.lastPathComponent).log")
        self.arguments = arguments
        self.environment = environment
        try start()
    }

    deinit { stop() }

    /// A program built next to the test bundle (`coffer`, `coffer-server`).
    public static func binary(named name: String) throws -> URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(name) next to the test bundle"])
    }

    /// Starts the server (again) and waits for its "listening on" line, which carries the URL.
    public func start() throws {
        let process = Process()
        process.executableURL = try Self.binary(named: "coffer-server")
        process.arguments =
            ["--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
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
                throw CocoaError(
                    .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "coffer-server exited: \(buffer)"])
            }
            buffer += String(decoding: chunk, as: UTF8.self)
        }
        let line = buffer.split(separator: "\n").first { $0.contains("listening on http://") } ?? ""
        if let start = line.range(of: "http://")?.lowerBound {
            url = String(line[start...]).trimmingCharacters(in: .whitespaces)
        }
        port = Int(url.split(separator: ":").last ?? "") ?? 0
        let log = logFile
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        Self.append(Data(buffer.utf8), to: log)
        handle.readabilityHandler = { handle in Self.append(handle.availableData, to: log) }
    }

    private static func append(_ data: Data, to file: URL) {
        guard let handle = try? FileHandle(forWritingTo: file) else { return }
        handle.seekToEndOfFile()
        handle.write(data)
        try? handle.close()
    }

    /// Sends `signal` and waits for the process to end.
    public func kill(signal: Int32 = SIGKILL) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Stops it gracefully (SIGTERM); one that has not stopped after a minute is killed, and the
    /// log says so, so a server that ignores SIGTERM fails its test instead of hanging the run.
    public func stop() {
        guard !stop(within: .seconds(60)) else { return }
        FileHandle.standardError.write(
            Data("coffer-server \(dataDirectory.lastPathComponent) ignored SIGTERM for a minute; killed\n".utf8))
    }

    /// Sends SIGTERM and waits at most `limit` for the process to end; `false` (after killing it)
    /// when it was still running then.
    @discardableResult
    public func stop(within limit: Duration) -> Bool {
        guard let process, process.isRunning else { return true }
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + limit
        // Polled: Foundation's Process has no wait with a timeout.
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        guard process.isRunning else { return true }
        kill()
        return false
    }

    /// The process id while it runs.
    public var processIdentifier: Int32? { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    /// The most memory the process has held so far (VmHWM), in bytes.
    public var peakMemory: Int? {
        guard let pid = processIdentifier,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// The exit status once it ended; `nil` while it runs.
    public var exitStatus: Int32? { process.flatMap { $0.isRunning ? nil : $0.terminationStatus } }

    /// The SQLite database's path.
    public var databasePath: String { dataDirectory.appendingPathComponent("coffer.sqlite").path }

    /// Everything the server wrote: its data directory (database, mail) and its log.
    public func allBytes() throws -> Data {
        var data = (try? Data(contentsOf: logFile)) ?? Data()
        let enumerator = FileManager.default.enumerator(at: dataDirectory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if let bytes = try? Data(contentsOf: url) { data.append(bytes) }
        }
        return data
    }
}

extension ServerProcess {
    /// The newest mail to `email` whose text contains `marker` (the server writes mail as files here).
    /// Mail leaves the server from a queue after the request answered, so this waits for it, up to
    /// `timeout` seconds.
    public func mail(to email: String, containing marker: String, timeout: TimeInterval = 15) throws -> String {
        let directory = dataDirectory.appendingPathComponent("mail")
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
                $0.hasSuffix(".eml")
            }.sorted()
            for name in names.reversed() {
                guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                else { continue }
                if text.lowercased().contains(email.lowercased()), text.contains(marker) { return text }
            }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no mail to \(email) with \(marker)"])
    }

    /// The one-time code in the newest code mail to `email`, waiting up to `timeout` seconds.
    public func emailCode(to email: String, timeout: TimeInterval = 15) throws -> String {
        let text = try mail(to: email, containing: "one-time code", timeout: timeout)
        guard let line = text.components(separatedBy: .newlines).first(where: { $0.contains("one-time code:") }),
            let code = line.split(separator: ":").last
        else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no code in: \(text)"]) }
        return code.trimmingCharacters(in: .whitespaces)
    }
}

extension ServerProcess {
    /// Confirms `email` as its owner would: the link from the registration mail, then the page's
    /// button (a POST; opening the link alone confirms nothing). Blocking, so synchronous set-up can
    /// use it.
    public func confirmAddress(_ email: String) throws {
        let mail = try mail(to: email, containing: "/verify-email?token=")
        guard let range = mail.range(of: "/verify-email?token=") else { throw CocoaError(.fileReadCorruptFile) }
        let token = String(mail[range.upperBound...].prefix { !$0.isWhitespace })
        let body = "token=\(token)"
        let host = url.replacingOccurrences(of: "http://", with: "")
        let answer = try RawConnection(to: url).exchange(
            "POST /verify-email HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        guard let answer, answer.hasPrefix("HTTP/1.1 200"), answer.contains("Address confirmed") else {
            throw CocoaError(
                .fileReadUnknown,
                userInfo: [
                    NSLocalizedDescriptionKey: "confirming \(email) failed: \(answer?.prefix(300) ?? "no answer")"
                ])
        }
    }
}
