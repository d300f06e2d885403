import CofferTestSupport
import Foundation
import Testing

/// A deployment behind TLS signed by a company's own certificate authority, made here with Debian's
/// openssl: the device must say the certificate is not trusted (not "cannot reach"), and must work
/// once told about the authority, by SSL_CERT_FILE or by `--ca-file`.
@Suite("a server behind TLS from a private certificate authority", .serialized)
struct PrivateCATests {
    /// A CA and a leaf certificate for `localhost` signed by it, in a temporary directory.
    struct PrivateAuthority {
        let directory: URL
        var caCertificate: String { directory.appendingPathComponent("ca.pem").path }
        var leafCertificate: String { directory.appendingPathComponent("leaf.pem").path }
        var leafKey: String { directory.appendingPathComponent("leaf.key").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-ca-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.openssl(
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Coffer Test Private CA",
                ], in: directory)
            try Self.openssl(
                [
                    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost",
                ], in: directory)
            try "subjectAltName=DNS:localhost\n".write(
                to: directory.appendingPathComponent("leaf.ext"), atomically: true, encoding: .utf8)
            try Self.openssl(
                [
                    "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext",
                ], in: directory)
        }

        static func openssl(_ arguments: [String], in directory: URL) throws {
            let result = try Program.run("/usr/bin/openssl", arguments, in: directory)
            try #require(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.output)")
        }
    }

    @Test(
        "untrusted: said so and nothing sent; SSL_CERT_FILE or --ca-file make it work, and the profile keeps trusting it"
    )
    func privateAuthority() async throws {
        let authority = try PrivateAuthority()
        let server = try ServerProcess()
        let identity = HostileProxy.TLSIdentity(
            certificateFile: authority.leafCertificate, keyFile: authority.leafKey, hostName: "localhost")
        let proxy = try await HostileProxy(upstream: server.url, tls: identity)
        let email = "private-ca@example.org"
        let password = SyncTests.password + "\n"
        let register = ["register", "--server", proxy.url, "--email", email, "--password-stdin"]

        // Not trusted: the message names the certificate and the way to trust it; nothing reached the server.
        let a = try CofferCLI()
        let refused = try a.run(register, stdin: password)
        #expect(refused.status == 8, "\(refused.stderr)")
        #expect(refused.stderr.contains("certificate is not trusted"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--ca-file"), "\(refused.stderr)")
        #expect(proxy.count("POST", "/api/") == 0)

        // The name checked too: the same certificate reached under another name is not trusted.
        let otherName = proxy.url.replacingOccurrences(of: "localhost", with: "127.0.0.1")
        let misnamed = try a.run(
            ["login", "--server", otherName, "--email", email, "--password-stdin"], stdin: password,
            environment: ["SSL_CERT_FILE": authority.caCertificate])
        #expect(misnamed.status == 8 && misnamed.stderr.contains("not made out to 127.0.0.1"), "\(misnamed.stderr)")

        // SSL_CERT_FILE, as every other TLS program honours it (alone: this machine may set SSL_CERT_DIR too).
        let onlyTheCA = ["SSL_CERT_FILE": authority.caCertificate, "SSL_CERT_DIR": ""]
        try a.ok(register, stdin: password, environment: onlyTheCA)

        // A file that is not a certificate is refused before anything is sent or copied.
        let b = try CofferCLI()
        let junk = authority.directory.appendingPathComponent("junk.pem")
        try Data("not a certificate".utf8).write(to: junk)
        let login = ["login", "--server", proxy.url, "--email", email, "--password-stdin"]
        let badFile = try b.run(login + ["--ca-file", junk.path], stdin: password)
        #expect(badFile.status == 7 && badFile.stderr.contains("not a readable PEM certificate"), "\(badFile.stderr)")

        // --ca-file at login, no environment: kept in the profile, so later syncs (and the agent) trust it.
        try b.ok(login + ["--ca-file", authority.caCertificate], stdin: password)
        try a.ok(["add", "note", "--title", "Over private TLS"], environment: onlyTheCA)
        try a.ok(["sync"], environment: onlyTheCA)
        try b.ok(["sync"])
        let titles = try b.ok(["list"])
        #expect(titles.contains("Over private TLS"), "\(titles)")

        // An agent that already failed to trust the server trusts it as soon as the authority is in the
        // profile (here put there by hand, as docs/operations.md names the file): no restart needed.
        let d = try CofferCLI()
        try d.ok(["init", "--password-stdin"], stdin: password)
        try d.ok(
            ["register", "--server", proxy.url, "--email", "private-ca-d@example.org", "--password-stdin"],
            stdin: password, environment: onlyTheCA)
        let stale = try d.run(["sync"])
        #expect(stale.status == 8 && stale.stderr.contains("certificate is not trusted"), "\(stale.stderr)")
        try FileManager.default.copyItem(
            atPath: authority.caCertificate, toPath: d.home.appendingPathComponent("server-ca.pem").path)
        try d.ok(["add", "note", "--title", "After the CA"])
        try d.ok(["sync"])
    }
}

extension CofferCLI {
    /// Runs a command that must succeed, with `environment` added.
    @discardableResult
    func ok(_ arguments: [String], stdin: String? = nil, environment: [String: String]) throws -> String {
        let result = try run(arguments, stdin: stdin, environment: environment)
        try #require(result.status == 0, "coffer \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }
}
