import CofferTestSupport
import Foundation
import Testing

/// What a terminal program must never do with a secret: put it on a command line (where `ps` and
/// shell history show it) or send it unencrypted over a network.
@Suite("secrets stay off command lines and off plain HTTP", .serialized)
struct CLIHygieneTests {
    @Test(
        "files that hold secrets (exports, attachments, recovery kits, backups) are owner-only from their first byte, as a watcher of the folder sees them"
    )
    func secretFilesOwnerOnlyFromCreation() throws {
        let cli = try CofferCLI()
        let password = "correct horse battery staple 42"
        let out = cli.home.appendingPathComponent("out").path
        let backups = cli.home.appendingPathComponent("backup-folder").path
        for folder in [out, backups] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let environment = ["COFFER_BACKUP_DIR": backups]
        let watchers = try [out, backups].map(CreationWatcher.init(folder:))
        let path = { (name: String) in (out as NSString).appendingPathComponent(name) }
        try cli.ok(["init", "--password-stdin", "--recovery-kit-html", path("kit.html")], stdin: password + "\n")
        try cli.ok(["add", "note", "--title", "Server", "--notes", "ssh"])
        let key = path("id_ed25519")
        // Large enough that writing the saved copy and the exports takes a while: a file made with a
        // default mode and narrowed later is then seen as it was (a tiny one may be renamed and
        // narrowed before the watcher opens it).
        try Data((0..<1_900_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: key))
        try cli.ok(["attachment", "add", "Server", key])
        try cli.ok(["attachment", "save", "Server", "id_ed25519", "--output", path("saved-key")])
        try cli.ok(["export", "--format", "csv", "--output", path("export.csv"), "--yes"])
        try cli.ok(
            ["export", "--format", "coffer", "--output", path("export.cofferexport"), "--password-stdin", "--yes"],
            stdin: "export password 1\n")
        let backup = try cli.run(["backup", "create"], environment: environment)
        #expect(backup.status == 0, "\(backup.stderr)")
        let seen = watchers.flatMap { $0.stop() }
        let names = Set(seen.map(\.name))
        for expected in ["kit.html", "saved-key", "export.csv", "export.cofferexport"] {
            #expect(names.contains(expected), "the watcher never saw \(expected): \(names)")
        }
        #expect(names.contains { $0.hasSuffix(".cofferbackup") }, "the watcher never saw the backup: \(names)")
        // The attachment's source, written by this test under the test process's umask, shows that
        // the watcher sees modes as they are.
        #expect(seen.contains { $0.name == "id_ed25519" && $0.mode & 0o044 != 0 })
        for (name, mode) in seen where name != "id_ed25519" {
            #expect(mode == 0o600, "\(name) was \(String(mode, radix: 8)) when another process opened it")
        }
    }

    @Test("a recovery code given on the command line is refused, with the way to give it instead")
    func noSecretArguments() throws {
        let cli = try CofferCLI()
        for arguments in [
            ["recover", "--code", "ABCD-EFGH", "--recovery-code", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345"],
            ["recover", "--old-recovery-code", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345"],
            ["backup", "restore", "x.cofferbackup", "--recovery-code", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345"],
        ] {
            let result = try cli.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("takes -"), "\(result.stderr)")
        }
    }

    @Test("plain http:// to another machine is refused before anything is sent; loopback is allowed")
    func plainHTTPRefused() throws {
        let cli = try CofferCLI()
        let refused = try cli.run(
            ["login", "--server", "http://coffer.example.org", "--email", "a@example.org", "--password-stdin"],
            stdin: "whatever-password\n")
        #expect(refused.status == 7, "\(refused.stderr)")
        #expect(refused.stderr.contains("not encrypted") && refused.stderr.contains("https://"), "\(refused.stderr)")
        let server = try ServerProcess()
        let local = server.url.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        try cli.ok(
            ["register", "--server", local, "--email", "local@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        // Without --device-name the device is named who@where (system), not just the host name.
        let devices = try cli.ok(["devices"])
        #expect(devices.contains("@\(ProcessInfo.processInfo.hostName) ("), "\(devices)")
        // A lost confirmation link can be sent again; once confirmed, the command says so.
        let resent = try cli.run(["account", "confirm-email"])
        #expect(resent.status == 0 && resent.stderr.contains("A confirmation link was mailed"), "\(resent.stderr)")
        try server.confirmAddress("local@example.org")
        let confirmed = try cli.run(["account", "confirm-email"])
        #expect(confirmed.stderr.contains("is confirmed"), "\(confirmed.stderr)")
    }

    /// A virtual X display (Xvfb from Debian), for the clipboard.
    final class VirtualDisplay {
        let process = Process()
        let name: String

        init() throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/Xvfb")
            // -displayfd 1: Xvfb picks a free display and prints its number once it accepts clients.
            process.arguments = ["-displayfd", "1", "-nolisten", "tcp"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            name = ":" + (try output.firstLine())
        }

        /// Stops the display with SIGKILL, not SIGTERM: the test runner's children may inherit
        /// SIGTERM ignored. Its clipboard holders (xclip) exit with it.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        deinit { stop() }

        /// What the clipboard holds (xclip from Debian).
        func clipboard() throws -> String {
            let xclip = Process()
            xclip.executableURL = URL(fileURLWithPath: "/usr/bin/xclip")
            xclip.arguments = ["-selection", "clipboard", "-o"]
            xclip.environment = ["DISPLAY": name]
            let output = Pipe()
            xclip.standardOutput = output
            xclip.standardError = FileHandle.nullDevice
            try xclip.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            xclip.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Every command line of every process on the machine.
    static func commandLines() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
                String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            }
        }
    }

    @Test(
        "copy: the value and the clearing helper outlive the terminal, nothing secret is on a command line, the clipboard is cleared"
    )
    func clipboardHelper() throws {
        let display = try VirtualDisplay()
        defer { display.stop() }
        let cli = try CofferCLI()
        cli.environment = ["DISPLAY": display.name]
        try cli.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let secret = "clip-secret-qzxj-7"
        try cli.ok(["add", "login", "--title", "Mail", "--password-stdin"], stdin: secret + "\n")
        // On a terminal that closes when the command ends, as a person's would.
        // Long enough that a loaded machine reads the clipboard before the helper clears it.
        let copied = try cli.runOnTerminal(["copy", "Mail", "--clear-after", "15"])
        #expect(copied.status == 0, "\(copied.stdout)")
        // The terminal has closed: what serves the clipboard must not have died with it.
        #expect(try display.clipboard() == secret)
        let digest = CofferCLI.sha256Hex(secret)
        let lines = Self.commandLines()
        #expect(lines.contains { $0.contains("clipboard-clear") }, "the helper runs after the terminal closed")
        #expect(!lines.contains { $0.contains(secret) || $0.contains(digest) })
        // The helper clears the clipboard on its own; wait for that, bounded.
        let deadline = Date().addingTimeInterval(60)
        while try display.clipboard() == secret, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(try display.clipboard().isEmpty, "the clipboard was cleared")
    }
}
