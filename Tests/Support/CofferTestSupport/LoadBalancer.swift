public import Foundation

/// A real HAProxy from Debian on a free loopback port, spreading requests round-robin over
/// `coffer-server` processes, as a deployment's load balancer would: health checks on
/// `/health/ready` every 200 ms, and a request whose server refused the connection retried on
/// another.
public final class LoadBalancer: @unchecked Sendable {
    // `@unchecked Sendable` is sound: the process is started in `init` and only signalled after.

    /// `http://127.0.0.1:PORT`.
    public let url: String
    private let statisticsURL: String
    private let process: Process
    private let directory: URL

    /// Starts HAProxy in front of `backends` (`http://127.0.0.1:PORT` each).
    public init(backends: [String]) throws {
        let haproxy = "/usr/sbin/haproxy"
        guard FileManager.default.isExecutableFile(atPath: haproxy) else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [NSLocalizedDescriptionKey: "\(haproxy) is missing: `make test` installs Debian's haproxy"])
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "haproxy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try LoopbackPort.unused()
        let statisticsPort = try LoopbackPort.unused()
        let servers = backends.enumerated().map { index, backend in
            "    server coffer\(index + 1) \(backend.replacingOccurrences(of: "http://", with: "")) check inter 200ms fall 1 rise 1"
        }
        let configuration = """
            global
                maxconn 4096
            defaults
                mode http
                timeout connect 2s
                timeout client 60s
                timeout server 60s
                retries 3
                option redispatch 1
                retry-on conn-failure empty-response response-timeout
            frontend coffer
                bind 127.0.0.1:\(port)
                default_backend servers
            frontend statistics
                bind 127.0.0.1:\(statisticsPort)
                stats enable
                stats uri /stats
            backend servers
                balance roundrobin
                option httpchk GET /health/ready
            \(servers.joined(separator: "\n"))

            """
        let file = directory.appendingPathComponent("haproxy.cfg")
        try Data(configuration.utf8).write(to: file)
        process = Process()
        process.executableURL = URL(fileURLWithPath: haproxy)
        process.arguments = ["-db", "-f", file.path]
        let log = directory.appendingPathComponent("haproxy.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        url = "http://127.0.0.1:\(port)"
        statisticsURL = "http://127.0.0.1:\(statisticsPort)/stats;csv"
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// How many requests each backend has answered so far, by its position in `backends`.
    public func requestsPerBackend() async throws -> [Int] {
        let reply = try await HTTP.send("GET", statisticsURL)
        let lines = String(decoding: reply.body, as: UTF8.self).split(separator: "\n")
        guard let header = lines.first?.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false),
            let name = header.firstIndex(of: "svname"), let total = header.firstIndex(of: "stot")
        else { return [] }
        var served: [(server: String, requests: Int)] = []
        for line in lines.dropFirst() {
            let cells: [Substring] = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count > max(name, total), cells[name].hasPrefix("coffer") else { continue }
            served.append((String(cells[name]), Int(cells[total]) ?? 0))
        }
        return served.sorted { $0.server < $1.server }.map(\.requests)
    }
}
