import CofferTestSupport
import Foundation
import Testing

/// Issue 17: secret references for `read`, `run` and `inject`, and git's credential helper, with the
/// real `coffer`, real `sh` and real `git`.
@Suite("developer secrets", .serialized)
struct DeveloperSecretsTests {
    static let token = "tok-canary-5512-zz"
    static let reference = "coffer://personal/API%2Fprod/password"

    /// An unlocked profile holding the canary token in "API/prod", a TOTP item and two "Twin" logins.
    static func profile() throws -> CofferCLI {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: SyncTests.password + "\n")
        try cli.ok(["add", "login", "--title", "API/prod", "--password-stdin"], stdin: token + "\n")
        try cli.ok(
            ["add", "login", "--title", "Totp", "--secret-field", "totp", "--password-stdin"],
            stdin: "x\nJBSWY3DPEHPK3PXP\n")
        try cli.ok(["add", "login", "--title", "Twin", "--password-stdin"], stdin: "one-twin\n")
        try cli.ok(["add", "login", "--title", "Twin", "--password-stdin"], stdin: "two-twin\n")
        try cli.ok(["add", "login", "--title", "Old", "--password-stdin"], stdin: "old-secret\n")
        try cli.ok(["rm", "Old"])
        return cli
    }

    @Test(
        "read: a value, a file 0600 never overwritten without --force, a TOTP code; trashed, ambiguous and malformed refused"
    )
    func read() throws {
        let cli = try Self.profile()
        #expect(try cli.ok(["read", Self.reference]) == Self.token + "\n")
        let code = try cli.ok(["read", "coffer://personal/Totp/totp?attr=totp"])
        #expect(code.count == 7 && code.dropLast().allSatisfy(\.isNumber), "\(code)")
        let file = cli.home.appendingPathComponent("token.txt").path
        try cli.ok(["read", Self.reference, "-o", file])
        #expect(try String(contentsOfFile: file, encoding: .utf8) == Self.token)
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
        let again = try cli.run(["read", Self.reference, "-o", file])
        #expect(again.status != 0 && again.stderr.contains("already exists; add --force"))
        try cli.ok(["read", Self.reference, "-o", file, "--force"])

        let trashed = try cli.run(["read", "coffer://personal/Old/password"])
        #expect(trashed.status == 2 && trashed.stderr.contains("It is in the trash"), "\(trashed.stderr)")
        let twin = try cli.run(["read", "coffer://personal/Twin/password"])
        #expect(twin.status != 0 && twin.stderr.contains("matches 2 items; name one by its id"), "\(twin.stderr)")
        for (bad, message) in [
            ("coffer://personal/API", "is not a secret reference"), ("https://x/y/z", "starts with coffer://"),
            ("coffer://personal/API%2/password", "badly percent-encoded"),
            ("coffer://work/API/password", "does not exist"),
            ("coffer://personal/API%2Fprod/password?attr=hotp", "unknown attribute"),
        ] {
            let result = try cli.run(["read", bad])
            #expect(result.status != 0 && result.stderr.contains(message), "\(bad): \(result.stderr)")
            #expect(!result.stderr.contains(Self.token))
        }
    }

    @Test(
        "run: masked output (also split across writes), --no-masking, env files, exit codes, signals, nothing started on a bad reference"
    )
    func run() throws {
        let cli = try Self.profile()
        let script =
            "echo \"token=$TOKEN\"; printf 'tok-canary-'; printf '5512-zz done\\n'; echo \"plain=$PLAIN\"; exit 3"
        let masked = try cli.run(
            ["run", "--", "/bin/sh", "-c", script], environment: ["TOKEN": Self.reference, "PLAIN": "visible"])
        #expect(masked.status == 3, "the child's exit status: \(masked.stderr)")
        #expect(!masked.stdout.contains(Self.token) && !masked.stdout.contains("5512"), "\(masked.stdout)")
        #expect(
            masked.stdout.contains("token=<concealed by coffer>")
                && masked.stdout.contains("<concealed by coffer> done")
                && masked.stdout.contains("plain=visible"), "\(masked.stdout)")
        let open = try cli.run(
            ["run", "--no-masking", "--", "/bin/sh", "-c", "echo \"$TOKEN\""], environment: ["TOKEN": Self.reference])
        #expect(open.status == 0 && open.stdout == Self.token + "\n")

        let envFile = cli.home.appendingPathComponent("app.env")
        try Data("# settings\nexport DB_URL=\"postgres://app:{{ \(Self.reference) }}@db/app\"\nMODE=prod\n".utf8)
            .write(to: envFile)
        let fromFile = try cli.run(
            ["run", "--env-file", envFile.path, "--no-masking", "--", "/bin/sh", "-c", "echo \"$DB_URL $MODE\""])
        #expect(fromFile.stdout == "postgres://app:\(Self.token)@db/app prod\n", "\(fromFile.stderr)")

        let signalled = try cli.run(
            ["run", "--", "/bin/sh", "-c", "kill -TERM $$"], environment: ["TOKEN": Self.reference])
        #expect(signalled.status == 128 + SIGTERM, "ended by the same signal")

        let marker = cli.home.appendingPathComponent("started")
        let bad = try cli.run(
            ["run", "--", "/bin/sh", "-c", "touch \(marker.path)"],
            environment: ["TOKEN": Self.reference, "OTHER": "coffer://personal/Nothing/password"])
        #expect(bad.status == 2 && bad.stderr.contains("environment variable OTHER"), "\(bad.stderr)")
        #expect(bad.stderr.contains("Nothing was written or started"))
        #expect(!FileManager.default.fileExists(atPath: marker.path), "nothing started")
        let badFile = cli.home.appendingPathComponent("bad.env")
        try Data("GOOD=1\nthis line is wrong\n".utf8).write(to: badFile)
        let malformed = try cli.run(["run", "--env-file", badFile.path, "--", "/bin/true"])
        #expect(malformed.status != 0 && malformed.stderr.contains("Line 2 of"), "\(malformed.stderr)")
    }

    @Test("run forwards a signal to the command, which decides how to end")
    func forwardsSignals() throws {
        let cli = try Self.profile()
        let marker = cli.home.appendingPathComponent("got-term").path
        let process = Process()
        process.executableURL = try CofferCLI.locateBinary()
        process.arguments = [
            "run", "--", "/bin/sh", "-c",
            "trap 'echo term > \(marker); exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ]
        process.environment = cli.environment(adding: ["TOKEN": Self.reference])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The child says it is ready (its trap is set) before the signal is sent.
        var seen = ""
        while !seen.contains("ready") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("ready"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 7)
        #expect(FileManager.default.fileExists(atPath: marker), "the command got the TERM")
    }

    @Test("inject: three references filled into a 0600 file; one bad reference names its line and writes nothing")
    func inject() throws {
        let cli = try Self.profile()
        let template = cli.home.appendingPathComponent("config.tmpl")
        try Data(
            """
            token: {{ \(Self.reference) }}
            title: {{coffer://personal/API%2Fprod/title}}
            again: {{ \(Self.reference) }} and {{ not a reference }}

            """.utf8
        ).write(to: template)
        let output = cli.home.appendingPathComponent("config.yml").path
        try cli.ok(["inject", "-i", template.path, "-o", output])
        #expect(
            try String(contentsOfFile: output, encoding: .utf8)
                == "token: \(Self.token)\ntitle: API/prod\nagain: \(Self.token) and {{ not a reference }}\n")
        #expect((try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int) == 0o600)

        let broken = cli.home.appendingPathComponent("broken.tmpl")
        try Data(
            "a: {{ \(Self.reference) }}\nb: {{ coffer://personal/API%2Fprod/password }}\nc: {{ coffer://personal/Missing/password }}\n"
                .utf8
        )
        .write(to: broken)
        let target = cli.home.appendingPathComponent("broken.yml").path
        let failed = try cli.run(["inject", "-i", broken.path, "-o", target])
        #expect(failed.status == 2 && failed.stderr.contains("line 3"), "\(failed.stderr)")
        #expect(!failed.stderr.contains(Self.token) && !FileManager.default.fileExists(atPath: target))
        let streamed = try cli.run(["inject"], stdin: "x={{ \(Self.reference) }}\n")
        #expect(streamed.stdout == "x=\(Self.token)\n")
    }

    @Test(
        "git: credential fill and a clone over HTTP with basic auth take the password from the vault; locked gives the locked exit code and one line"
    )
    func git() throws {
        let cli = try Self.profile()
        let password = "git-canary-7781"
        let server = try GitHTTPServer(username: "alice", password: password)
        defer { server.stop() }
        try cli.ok(
            ["add", "login", "--title", "Local git", "--username", "alice", "--url", server.url, "--password-stdin"],
            stdin: password + "\n")
        // `credential.helper coffer` runs `git-credential-coffer`, which is coffer under that name.
        let bin = cli.home.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: bin.appendingPathComponent("git-credential-coffer"), withDestinationURL: try CofferCLI.locateBinary())
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let git = { (arguments: [String], input: String?) throws -> CofferCLI.Result in
            try cli.run(
                ["-c", "credential.helper=coffer"] + arguments, stdin: input,
                environment: ["PATH": path, "GIT_TERMINAL_PROMPT": "0", "HOME": cli.home.path],
                program: URL(fileURLWithPath: "/usr/bin/git"))
        }
        let host = try #require(URL(string: server.url)).host! + ":\(server.port)"
        let fill = try git(["credential", "fill"], "protocol=http\nhost=\(host)\n\n")
        #expect(
            fill.status == 0 && fill.stdout.contains("username=alice") && fill.stdout.contains("password=\(password)"))

        let clone = cli.home.appendingPathComponent("clone").path
        let cloned = try git(["clone", server.url + "/repo.git", clone], nil)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        #expect(FileManager.default.fileExists(atPath: clone + "/README"), "the clone has the file")
        let config = try String(contentsOfFile: clone + "/.git/config", encoding: .utf8)
        #expect(!config.contains(password))

        try cli.ok(["lock"])
        let locked = try git(["credential", "fill"], "protocol=http\nhost=\(host)\n\n")
        #expect(locked.status != 0 && locked.stderr.contains("The vault is locked"), "\(locked.stderr)")
        let direct = try cli.run(["git-credential", "get"], stdin: "protocol=http\nhost=\(host)\n\n")
        // Coffer's documented code for "locked" (README, exit codes), the same as every other command's.
        #expect(direct.status == 3 && direct.stdout.isEmpty)
        let bytes = try cli.allFileBytes()
        #expect(bytes.range(of: Data(password.utf8)) == nil, "the git password is never in a file in clear")
    }
}

/// A git repository served over HTTP ("dumb" protocol) by Python's http.server, behind basic auth.
final class GitHTTPServer {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init(username: String, password: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("git-http-\(UUID().uuidString)")
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: work.appendingPathComponent("README"))
        for arguments in [
            ["init", "-q", work.path], ["-C", work.path, "add", "README"],
            ["-C", work.path, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "first"],
            ["clone", "-q", "--bare", work.path, root.appendingPathComponent("repo.git").path],
            ["-C", root.appendingPathComponent("repo.git").path, "update-server-info"],
        ] {
            let result = try Program.run("/usr/bin/git", arguments)
            guard result.status == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
        let expected = Data("\(username):\(password)".utf8).base64EncodedString()
        let script = """
            import http.server, sys, os
            os.chdir(sys.argv[1])
            class H(http.server.SimpleHTTPRequestHandler):
                def do_GET(self):
                    if self.headers.get('Authorization') != 'Basic \(expected)':
                        self.send_response(401)
                        self.send_header('WWW-Authenticate', 'Basic realm="git"')
                        self.send_header('Content-Length', '0')
                        self.end_headers()
                        return
                    super().do_GET()
                def log_message(self, *args): pass
            server = http.server.HTTPServer(('127.0.0.1', 0), H)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, root.path]
        let output = Pipe()
        process.standardOutput = output
        // Not the test runner's output: a process holding it open keeps `swift test` waiting.
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        port = try #require(Int(try output.firstLine()))
    }

    /// SIGKILL: a child of the test runner may have inherited SIGTERM ignored (the in-process
    /// servers' signal handling sets that), and then `terminate()` would leave it running.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
