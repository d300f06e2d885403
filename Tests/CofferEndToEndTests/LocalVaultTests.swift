import CofferAgent
import CofferCrypto
import CofferTestSupport
import CofferVault
import Foundation
import GRDB
import Testing

/// The local vault driven through the real binary, as issue 2's tests describe.
@Suite("coffer CLI end to end", .serialized)
struct LocalVaultTests {
    static let password = "tundra-walrus-pebble-orchid-42"

    @Test("init, add three types, list, search, show, get, rm, restore, lock, unlock")
    func tour() throws {
        let cli = try CofferCLI()
        let kit = try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        #expect(kit.contains("Recovery code:"))
        try cli.ok(
            [
                "add", "login", "--title", "GMail", "--username", "alice", "--url", "https://mail.google.com",
                "--password-stdin",
            ],
            stdin: "mail-pass-1\n")
        try cli.ok(["add", "note", "--title", "Diary", "--notes", "dear diary"])
        try cli.ok(
            ["add", "card", "--title", "Visa", "--field", "cardholder=Alice", "--password-stdin"],
            stdin: "4111111111111111\n123\n")

        let list = try #require(try cli.json(["list", "--json"]) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["title"] as? String }) == ["GMail", "Diary", "Visa"])
        #expect(list.allSatisfy { $0["id"] != nil && $0["type"] != nil })

        #expect(try cli.ok(["search", "gml"]).contains("GMail"))
        let shown = try cli.ok(["show", "Visa"])
        #expect(shown.contains("Alice") && !shown.contains("4111111111111111"))
        #expect(try cli.ok(["show", "Visa", "--reveal"]).contains("4111111111111111"))
        #expect(try cli.ok(["get", "GMail", "password"]) == "mail-pass-1\n")
        #expect(try cli.ok(["get", "Visa", "cvv"]) == "123\n")

        let status = try #require(try cli.json(["status", "--json"]) as? [String: Any])
        #expect(status["items"] as? Int == 3)
        #expect(status["trash"] as? Int == 0)
        #expect(status["locked"] as? Bool == false)

        try cli.ok(["rm", "GMail"])
        #expect(try cli.run(["get", "GMail"]).status == 2)
        let trashed = try #require(try cli.json(["status", "--json"]) as? [String: Any])
        #expect(trashed["items"] as? Int == 2 && trashed["trash"] as? Int == 1)
        try cli.ok(["restore", "GMail"])

        try cli.ok(["lock"])
        let locked = try cli.run(["get", "GMail", "password"])
        #expect(locked.status == 3)
        #expect(locked.stderr.contains("locked"))
        #expect(locked.stdout.isEmpty)

        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try cli.ok(["get", "GMail", "password"]) == "mail-pass-1\n")
    }

    @Test("a vault without a server recovers offline with its recovery code; a wrong code changes nothing")
    func localRecovery() throws {
        let cli = try CofferCLI()
        let created = try cli.ok(["init", "--password-stdin", "--no-unlock"], stdin: Self.password + "\n")
        let code = try firstMatch("Recovery code: ([A-Z0-9-]+)", in: created)
        try cli.ok(["add", "note", "--title", "Kept", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["lock"])
        let before = try Data(contentsOf: cli.vaultFile)
        let wrong = try cli.run(
            ["recover", "--recovery-code", "-", "--password-stdin"],
            stdin: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA\nnew-password-that-is-long-9\n")
        #expect(wrong.status != 0)
        #expect(try Data(contentsOf: cli.vaultFile) == before, "nothing changed")
        let newPassword = "harbor-quiet-lantern-58-violet"
        let recovered = try cli.run(
            ["recover", "--recovery-code", "-", "--password-stdin"], stdin: code + "\n" + newPassword + "\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        try cli.ok(["lock"])
        #expect(try cli.ok(["get", "Kept", "title", "--password-stdin"], stdin: newPassword + "\n") == "Kept\n")
        try cli.ok(["lock"])
        #expect(try cli.run(["unlock", "--password-stdin"], stdin: Self.password + "\n").status == 4)
    }

    @Test("a wrong password is refused, says so, and leaves the vault file unchanged")
    func wrongPassword() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--no-unlock"], stdin: Self.password + "\n")
        let before = try Data(contentsOf: cli.vaultFile)
        let result = try cli.run(["unlock", "--password-stdin"], stdin: "not-the-password\n")
        #expect(result.status == 4)
        #expect(result.stderr.contains("master password is not correct"))
        #expect(try Data(contentsOf: cli.vaultFile) == before)
        let add = try cli.run(["add", "note", "--title", "x", "--password-stdin"], stdin: "not-the-password\n")
        #expect(add.status == 4)
        #expect(try Data(contentsOf: cli.vaultFile) == before)
    }

    @Test("a flipped byte inside a sealed record is reported as an integrity error")
    func tamperedDatabase() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "login", "--title", "Mail", "--password-stdin"], stdin: "secret\n")
        try cli.ok(["lock"])
        // Read the item's sealed content with SQLite, find those bytes in the file, flip one inside.
        let content = try DatabaseQueue(path: cli.vaultFile.path).read { db in
            try Data.fetchOne(db, sql: "SELECT content FROM item")
        }
        var bytes = try Data(contentsOf: cli.vaultFile)
        let sealed = try #require(content)
        let range = try #require(bytes.range(of: sealed))
        bytes[range.lowerBound + 60] ^= 0x40
        try bytes.write(to: cli.vaultFile)
        let result = try cli.run(["list", "--password-stdin"], stdin: Self.password + "\n")
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("Integrity check failed"))
        #expect(!result.stderr.contains("secret"))
    }

    @Test("canary strings in every kind of field never appear in any file under COFFER_HOME")
    func canaries() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(
            [
                "add", "login", "--title", "CANARY-title-zqkv", "--username", "CANARY-user-zqkv",
                "--url", "https://canary-url-zqkv.example", "--tag", "CANARY-tag-zqkv", "--notes", "CANARY-notes-zqkv",
                "--field", "extra=CANARY-field-zqkv", "--secret-field", "recovery-phrase", "--password-stdin",
            ],
            stdin: "CANARY-pass-zqkv\notpauth://totp/x?secret=GEZDGNBVGY3TQOJQ\nCANARY-secret-zqkv\n")
        try cli.ok(
            ["edit", "CANARY-title-zqkv", "--set-secret", "password", "--password-stdin"],
            stdin: "CANARY-newpass-zqkv\n")
        #expect(try cli.ok(["get", "CANARY-title-zqkv", "recovery-phrase"]) == "CANARY-secret-zqkv\n")
        try cli.ok(["lock"])
        let bytes = try cli.allFileBytes()
        #expect(bytes.range(of: Data("zqkv".utf8)) == nil)
        #expect(bytes.range(of: Data(Self.password.utf8)) == nil)
    }

    @Test("an ambiguous name lists the candidates and exits 2")
    func ambiguous() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "login", "--title", "Bank", "--username", "first"])
        try cli.ok(["add", "login", "--title", "bank", "--username", "second"])
        let result = try cli.run(["get", "bank", "username"])
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("matches 2 items") && result.stderr.contains("first")
                && result.stderr.contains("second"))
    }

    @Test(
        "bad input gets one clear sentence and a documented exit code",
        arguments: [
            (["add", "spaceship", "--title", "x"], Int32(7), "not an item type"),
            (["get", "nothing-here"], Int32(2), "No item called"),
            (["add", "login", "--title", "x", "--field", "novalue"], Int32(7), "NAME=VALUE"),
            (["unlock", "--timeout", "forever"], Int32(7), "lock timeout"),
            // Numbers whose seconds overflow: refused like any other, never a crash.
            (["unlock", "--timeout", "9223372036854775807h"], Int32(7), "lock timeout"),
            (["unlock", "--timeout", "3074457345618258603m"], Int32(7), "lock timeout"),
            (["add", "login", "--title", "x", "--field", "password=visible"], Int32(7), "secret field"),
            (["list", "--bogus"], Int32(64), "Unknown option"),
            (["copy", "anything"], Int32(11), "No clipboard is available"),
            (["copy", "anything", "--clear-after", "0"], Int32(64), "from 1 to 3600"),
        ])
    func badInput(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        let before = try Data(contentsOf: cli.vaultFile)
        let result = try cli.run(arguments)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try Data(contentsOf: cli.vaultFile) == before)
    }

    @Test("on a terminal, add asks for what is missing and says which fields may stay empty")
    func terminalPrompts() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        let terminal = try TerminalSession(cli, ["add", "login", "--title", "Forum", "--generate"])
        try terminal.answer("(optional): ", with: "bob")
        // The password was generated; the one-time password is the only secret left, and it is optional.
        try terminal.answer("One-time password (optional, Enter to skip): ", with: "")
        #expect(try terminal.finish() == 0, "\(terminal.shown)")
        #expect(!terminal.shown.contains("Password: "), "\(terminal.shown)")
        #expect(try cli.ok(["get", "Forum", "username"]) == "bob\n")
        #expect(try cli.ok(["get", "Forum", "password"]).count > 16)
    }

    @Test("help names the encrypted export formats; --version and a subcommand's help work on the quick path too")
    func exportHelp() throws {
        let cli = try CofferCLI()
        let version = try cli.run(["--version"])
        #expect(version.status == 0 && version.stdout == "0.1.0\n", "\(version.stdout)")
        let getHelp = try cli.run(["get", "--help"])
        #expect(getHelp.status == 0 && getHelp.stdout.contains("USAGE: coffer get"), "\(getHelp.stdout)")
        let help = try cli.run(["--help"])
        // Help wraps lines to the terminal's width; read it as one line of words.
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("encrypted as KeePass (kdbx) or Coffer"), "\(help.stdout)")
    }

    @Test("a PIN unlocks after lock; five wrong PINs erase it and the master password still works")
    func pin() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "password", "--title", "Router", "--password-stdin"], stdin: "router-pass\n")
        try cli.ok(["pin", "set", "--pin-stdin"], stdin: "4321\n")
        try cli.ok(["lock"])
        try cli.ok(["unlock", "--pin-stdin"], stdin: "4321\n")
        #expect(try cli.ok(["get", "Router"]) == "router-pass\n")
        try cli.ok(["lock"])
        for attempt in 1...5 {
            let result = try cli.run(["unlock", "--pin-stdin"], stdin: "0000\n")
            #expect(result.status == 4)
            if attempt == 5 { #expect(result.stderr.contains("unlock with your master password")) }
        }
        let noPin = try cli.run(["unlock", "--pin-stdin"], stdin: "4321\n")
        #expect(noPin.status != 0)
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try cli.ok(["get", "Router"]) == "router-pass\n")
    }

    @Test("after an upgrade, `coffer lock` stops an agent of an older protocol and `coffer unlock` starts a new one")
    func olderAgentAfterUpgrade() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--no-unlock"], stdin: Self.password + "\n")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/Scripts/older-agent.py")
        let older = Process()
        older.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        older.arguments = [script.path, cli.home.appendingPathComponent("agent/agent.sock").path]
        let output = Pipe()
        older.standardOutput = output
        older.standardError = FileHandle.nullDevice
        older.standardInput = FileHandle.nullDevice
        try older.run()
        defer {
            // Only while it runs: once reaped, its process id may belong to another test's process.
            if older.isRunning { kill(older.processIdentifier, SIGKILL) }
            older.waitUntilExit()
        }
        #expect(try output.firstLine() == "ready")

        let refused = try cli.run(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("protocol version 6") && refused.stderr.contains("coffer lock"), "\(refused.stderr)"
        )
        let lock = try cli.run(["lock"])
        #expect(lock.status == 0 && lock.stderr.contains("was stopped"), "\(lock.stderr)")
        older.waitUntilExit()
        #expect(older.terminationReason == .uncaughtSignal)
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "login", "--title", "After the upgrade"])
        let relock = try cli.run(["lock"])
        #expect(relock.status == 0 && relock.stderr.contains("Locked."), "\(relock.stderr)")
    }

    @Test("an idle timeout from the socket that no command would send is clamped, and the agent keeps serving")
    func hugeIdleTimeoutFromTheSocket() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        let paths = ProfilePaths(environment: ["COFFER_HOME": cli.home.path])
        let keyring = try VaultSetup.unlock(paths: paths, password: Self.password).keyring
        let agent = try #require(AgentClient.connectIfRunning(paths))
        let key = keyring.accountKey.withUnsafeBytes { Data($0) }
        for timeout in [Int.max, Int.min, 0] {
            let state = try agent.call(UnlockVault(accountKey: key, idleTimeoutSeconds: timeout))
            #expect((1...AgentServer.longestIdleTimeoutSeconds).contains(state.idleTimeoutSeconds))
            // The loop computed its next wake-up with that timeout and still answers.
            #expect(try agent.state().isUnlocked)
        }
        try cli.ok(["add", "login", "--title", "Still served"])
    }

    @Test("the agent locks by itself after its idle timeout")
    func idleTimeout() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--no-unlock"], stdin: Self.password + "\n")
        try cli.ok(["unlock", "--password-stdin", "--timeout", "1s"], stdin: Self.password + "\n")
        let socket = cli.home.appendingPathComponent("agent/agent.sock").path
        #expect(FileManager.default.fileExists(atPath: socket))
        // Wait for the agent to lock and exit (it removes its socket), with a generous deadline.
        let deadline = Date().addingTimeInterval(15)
        while FileManager.default.fileExists(atPath: socket) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(!FileManager.default.fileExists(atPath: socket))
        let result = try cli.run(["get", "anything"])
        #expect(result.status == 3)
    }

    @Test(
        "frames that lie on the agent's socket (lengths, counts, a cut-short item section, a malformed item, garbage) get a failure or a closed connection; nothing is imported and the agent keeps serving"
    )
    func hostileFrames() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "login", "--title", "Router", "--password-stdin"], stdin: "router-pass\n")
        let socket = cli.home.appendingPathComponent("agent/agent.sock").path
        let envelope = Array(#"{"version":6,"body":{"importItems":{"_0":0,"duplicates":"keep","dryRun":false}}}"#.utf8)
        let frame = { (section: [UInt8]) -> [UInt8] in
            let inner = Self.bigEndian(envelope.count) + envelope + section
            return Self.bigEndian(inner.count) + inner
        }
        let item = Array(#"{"id":"not an id"}"#.utf8)
        let hostile: [[UInt8]] = [
            Self.bigEndian(0x7FFF_FFFF),  // a 2 GiB frame announced
            Self.bigEndian(100) + Array(repeating: 0x41, count: 10),  // cut short
            Self.bigEndian(8) + Self.bigEndian(0x7FFF_FFF0) + [1, 2, 3, 4],  // an envelope longer than the frame
            frame(Self.bigEndian(0xFFFF_FFFF)),  // four billion items announced
            frame(Self.bigEndian(1) + Self.bigEndian(0x7FFF_FFFF)),  // an item longer than the frame
            frame(Self.bigEndian(1) + Self.bigEndian(item.count) + item),  // an item that is not one
            frame([]),  // the batch the envelope names is missing
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
        ]
        for bytes in hostile {
            let reply = try Self.exchange(bytes, with: socket)
            #expect(
                reply.isEmpty || String(decoding: reply, as: UTF8.self).contains("failure"),
                "\(String(decoding: reply, as: UTF8.self))")
        }
        #expect(try cli.ok(["get", "Router", "password"]) == "router-pass\n")
        #expect(try cli.ok(["list"]).split(separator: "\n").count == 1, "nothing was imported")
    }

    private static func bigEndian(_ value: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian, Array.init)
    }

    /// Sends `bytes` on a new connection to the agent, ends the sending side and reads the whole
    /// answer (empty when the agent closes the connection without one).
    private static func exchange(_ bytes: [UInt8], with path: String) throws -> [UInt8] {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: Array(path.utf8) + [0])
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(descriptor, Int32(SHUT_WR))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            reply += buffer.prefix(count)
        }
        return reply
    }

    @Test("the agent socket, the vault and its index cache are owner-only")
    func permissions() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        // The agent writes the index cache after answering the unlock; it answers the next request after that.
        try cli.ok(["status"])
        let attributes = { (path: String) throws -> Int in
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        #expect(try attributes(cli.vaultFile.path) & 0o077 == 0)
        #expect(try attributes(cli.home.appendingPathComponent("agent").path) == 0o700)
        #expect(try attributes(cli.home.appendingPathComponent("agent/agent.sock").path) & 0o077 == 0)
        #expect(try attributes(cli.vaultFile.path + "-index") == 0o600)
    }

    @Test("generate makes passwords and passphrases; totp prints the current code")
    func generateAndTOTP() throws {
        let cli = try CofferCLI()
        #expect(try cli.ok(["generate", "--length", "32"]).trimmingCharacters(in: .newlines).count == 32)
        #expect(
            try cli.ok(["generate", "--passphrase", "--words", "4", "--separator", "+"]).split(separator: "+").count
                == 4)
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(
            ["add", "login", "--title", "2FA", "--password-stdin"],
            stdin: "pw\notpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
        let report = try #require(try cli.json(["totp", "2FA", "--json"]) as? [String: Any])
        #expect((report["code"] as? String)?.count == 6)
        #expect(try cli.ok(["completion", "bash"]).contains("coffer"))
    }

    @Test("a process killed in the middle of writing leaves a vault that opens")
    func killedWriter() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--no-unlock"], stdin: Self.password + "\n")
        let script = (0..<40).map { _ in Self.password }.joined(separator: "\n")
        for round in 0..<5 {
            // Each add opens, derives the key and commits; kill it at a different point each round.
            let process = Process()
            process.executableURL = try CofferCLI.locateBinary()
            process.arguments = ["add", "note", "--title", "note \(round)", "--password-stdin"]
            process.environment = ProcessInfo.processInfo.environment.merging(["COFFER_HOME": cli.home.path]) { $1 }
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try? input.fileHandleForWriting.write(contentsOf: Data((script + "\n").utf8))
            try? input.fileHandleForWriting.close()
            if round % 2 == 0 { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let list = try cli.run(["list", "--json", "--password-stdin"], stdin: Self.password + "\n")
        #expect(list.status == 0, "\(list.stderr)")
    }

    @Test("attachment add, save and rm: bytes kept exactly; duplicates, oversized and missing files refused")
    func attachments() throws {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["add", "note", "--title", "Server", "--notes", "ssh"])
        let folder = cli.home.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func file(_ name: String, _ bytes: Int) throws -> String {
            let url = folder.appendingPathComponent(name)
            try Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 >> 2) }).write(to: url)
            return url.path
        }
        let key = try file("id_ed25519", 1_500_000)
        #expect(try cli.ok(["attachment", "add", "Server", key]).isEmpty)
        #expect(try cli.ok(["show", "Server"]).contains("id_ed25519"))
        let saved = folder.appendingPathComponent("restored").path
        try cli.ok(["attachment", "save", "Server", "id_ed25519", "--output", saved])
        #expect(FileManager.default.contentsEqual(atPath: saved, andPath: key))

        let again = try cli.run(["attachment", "add", "Server", key])
        #expect(again.status == 7 && again.stderr.contains("already has an attachment called \"id_ed25519\""))
        let overTotal = try cli.run(["attachment", "add", "Server", try file("scan.pdf", 700_000)])
        #expect(
            overTotal.status == 7 && overTotal.stderr.contains("an item keeps at most 2048 KiB"), "\(overTotal.stderr)")
        let huge = try cli.run(["attachment", "add", "Server", try file("movie.mkv", 3_000_000)])
        #expect(huge.status == 7 && huge.stderr.contains("Nothing was changed"), "\(huge.stderr)")
        let missing = try cli.run(["attachment", "add", "Server", folder.appendingPathComponent("nope").path])
        #expect(missing.status == 7 && missing.stderr.contains("is not a file Coffer can read"))
        let named = try cli.run(["attachment", "rm", "Server", "id_rsa"])
        #expect(named.status == 2 && named.stderr.contains("it has: id_ed25519"), "\(named.stderr)")

        try cli.ok(["attachment", "rm", "Server", "id_ed25519"])
        #expect(!(try cli.ok(["show", "Server"]).contains("id_ed25519")))
        try cli.ok(["attachment", "add", "Server", try file("small.txt", 10), "--name", "notes.txt"])
        #expect(try cli.ok(["show", "Server"]).contains("notes.txt"))
    }
}
