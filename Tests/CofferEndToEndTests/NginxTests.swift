import CofferTestSupport
import Foundation
import Testing

/// The nginx site in docs/examples/nginx-coffer.conf, run as written — only the ports, the name and
/// the certificate are this machine's — in front of two servers on one PostgreSQL database.
@Suite("two servers behind nginx, with the documented configuration", .serialized)
struct NginxTests {
    /// Debian's nginx in the foreground, with the documented site included as it is.
    final class Nginx {
        let url: String
        private let process: Process
        private let directory: URL

        init(site: URL, backends: [ServerProcess], authority: PrivateCATests.PrivateAuthority) throws {
            let nginx = "/usr/sbin/nginx"
            guard FileManager.default.isExecutableFile(atPath: nginx) else {
                throw CocoaError(
                    .fileNoSuchFile,
                    userInfo: [NSLocalizedDescriptionKey: "\(nginx) is missing: `make test` installs Debian's nginx"])
            }
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "nginx-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try LoopbackPort.unused()
            var text = try String(contentsOf: site, encoding: .utf8)
            // In this order: the certificate paths contain the name.
            let replacements = [
                ("127.0.0.1:8081", backends[0].url.replacingOccurrences(of: "http://", with: "")),
                ("127.0.0.1:8082", backends[1].url.replacingOccurrences(of: "http://", with: "")),
                ("listen 443 ", "listen 127.0.0.1:\(port) "),
                ("/etc/letsencrypt/live/coffer.example.org/fullchain.pem", authority.leafCertificate),
                ("/etc/letsencrypt/live/coffer.example.org/privkey.pem", authority.leafKey),
                ("coffer.example.org", "localhost"),
            ]
            for (documented, local) in replacements {
                try #require(text.contains(documented), "the documented site no longer has \(documented)")
                text = text.replacingOccurrences(of: documented, with: local)
            }
            try Data(text.utf8).write(to: directory.appendingPathComponent("coffer.conf"))
            let path = directory.path
            let main = """
                worker_processes 1;
                pid \(path)/nginx.pid;
                error_log \(path)/error.log;
                events { worker_connections 512; }
                http {
                    access_log off;
                    client_body_temp_path \(path)/body;
                    proxy_temp_path \(path)/proxy;
                    fastcgi_temp_path \(path)/fastcgi;
                    uwsgi_temp_path \(path)/uwsgi;
                    scgi_temp_path \(path)/scgi;
                    include \(path)/coffer.conf;
                }

                """
            let configuration = directory.appendingPathComponent("nginx.conf")
            try Data(main.utf8).write(to: configuration)
            let check = try Program.run(nginx, ["-t", "-p", path, "-c", configuration.path])
            try #require(check.status == 0, "nginx -t: \(check.output)")
            process = Process()
            process.executableURL = URL(fileURLWithPath: nginx)
            process.arguments = ["-p", path, "-c", configuration.path, "-g", "daemon off;"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            url = "https://localhost:\(port)"
            // Ready once it accepts connections.
            let deadline = Date().addingTimeInterval(10)
            while (try? RawConnection(to: "http://127.0.0.1:\(port)", timeout: 1)) == nil {
                guard Date() < deadline, process.isRunning else {
                    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "nginx did not start"])
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    static var site: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/examples/nginx-coffer.conf")
    }

    @Test("devices sync through it, a change crosses servers within 2 s, and one server killed changes nothing")
    func documentedSite() throws {
        let url = try PostgreSQLCluster.shared().createDatabase()
        let (first, second) = try SeveralServersTests.twoServers(on: url)
        let authority = try PrivateCATests.PrivateAuthority()
        let nginx = try Nginx(site: Self.site, backends: [first, second], authority: authority)
        let trust = ["SSL_CERT_FILE": authority.caCertificate, "SSL_CERT_DIR": ""]
        // The live-sync test's own steps, through nginx: its change stream must not be buffered.
        try LiveSyncTests.changesReachB(serverA: nginx.url, serverB: nginx.url, environment: trust)

        let (c, d) = try LiveSyncTests.twoDevices(serverA: nginx.url, serverB: nginx.url, environment: trust)
        first.kill()
        for index in 0..<5 { try c.ok(["add", "note", "--title", "Via nginx \(index)"]) }
        try c.ok(["sync"])
        try d.ok(["sync"])
        #expect(try SeveralServersTests.titles(d).filter { $0.hasPrefix("Via nginx") }.count == 5)
    }
}
