import CofferTestSupport
import Foundation
import GRDB
import Testing

/// An operator restores the server from last night's backup, as docs/operations.md says. Devices
/// hold newer data than the backup; they must never take the older state, and must not be stranded:
/// with their user's consent they put back what the server lost, and every device converges.
@Suite("a server restored from a backup is healed by its devices", .serialized)
struct ServerRestoreTests {
    static let unlock = SyncTests.password + "\n"

    static func titles(_ device: CofferCLI) throws -> [String] {
        let list = try #require(
            try device.json(["list", "--all", "--json", "--password-stdin"], stdin: unlock) as? [[String: Any]])
        return list.compactMap { $0["title"] as? String }.sorted()
    }

    /// The id of the conflict copy made of `title`.
    static func conflictCopy(of title: String, on device: CofferCLI) throws -> String {
        let list = try #require(try device.json(["list", "--json"]) as? [[String: Any]])
        let copy = list.first { ($0["title"] as? String)?.hasPrefix("\(title) (conflict copy") == true }
        return try #require(copy?["id"] as? String, "no conflict copy of \(title) in \(list)")
    }

    @Test(
        "backup, changes on two devices, restore: older data is never applied, devices put back what was lost and converge"
    )
    func restoreRoundTrip() throws {
        let devices = try SyncTests.TwoDevices { a in
            try a.ok(["add", "note", "--title", "Kept"])
            try a.ok(["add", "note", "--title", "Doomed"])
            try a.ok(["add", "login", "--title", "Shared", "--password-stdin"], stdin: "before-backup\n")
        }
        let (a, b, server) = (devices.a, devices.b, devices.server)
        try b.ok(["sync"])

        // The documented backup, taken while the server runs.
        let backup = server.dataDirectory.deletingLastPathComponent()
            .appendingPathComponent("backup-\(UUID().uuidString.prefix(6)).sqlite").path
        let copied = try Program.run("/usr/bin/sqlite3", [server.databasePath, ".backup '\(backup)'"])
        try #require(copied.status == 0, "\(copied.output)")

        // After the backup: A adds, edits and deletes; B signs in again (a sign-in the backup never saw)
        // and adds. Everything reaches the server.
        try a.ok(["add", "note", "--title", "A after backup"])
        try a.ok(["edit", "Shared", "--set-secret", "password", "--password-stdin"], stdin: "after-backup\n")
        try a.ok(["rm", "Doomed"])
        try a.ok(["purge", "Doomed", "--yes"])
        try a.ok(["sync"])
        try b.ok(
            [
                "login", "--server", server.url, "--email", devices.email, "--device-name", "device-B",
                "--password-stdin",
            ],
            stdin: Self.unlock)
        try b.ok(["add", "note", "--title", "B after backup"])
        try b.ok(["sync"])
        try a.ok(["sync"])
        let everything = ["A after backup", "B after backup", "Kept", "Shared"]
        #expect(try Self.titles(a) == everything)

        // The restore: stop, put the backup back, record it, start.
        server.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: server.databasePath + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: server.databasePath)
        let recorded = try Program.run(
            try ServerProcess.binary(named: "coffer-server").path,
            ["record-restore", server.dataDirectory.path])
        #expect(
            recorded.status == 0 && recorded.output.contains("Recorded the restore for 1 account"), "\(recorded.output)"
        )
        try server.start()

        // A new device signs in to the restored server and edits the item A had edited after the backup.
        let d = try CofferCLI()
        try d.ok(
            [
                "login", "--server", server.url, "--email", devices.email, "--device-name", "device-D",
                "--password-stdin",
            ],
            stdin: Self.unlock)
        #expect(try Self.titles(d) == ["Doomed", "Kept", "Shared"], "the restored server's state")
        try d.ok(["edit", "Shared", "--username", "edited-on-D"])
        try d.ok(["sync"])

        // A script without --yes is told what happened and how to go on; nothing changes anywhere.
        let refused = try a.run(["sync"])
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("restored it from a backup") && refused.stderr.contains("coffer sync --yes"),
            "\(refused.stderr)")
        #expect(try Self.titles(a) == everything, "nothing older was applied")
        #expect(try a.ok(["status"]).contains("Last sync failed"))

        // A agrees: it puts back what the server lost. D's edit of "Shared" is kept beside A's version.
        let healed = try a.run(["sync", "--yes"])
        #expect(healed.status == 0 && healed.stderr.contains("Put back on the server"), "\(healed.stderr)")
        #expect(try a.ok(["get", "Shared", "username"]) == "edited-on-D\n")
        #expect(try a.ok(["get", try Self.conflictCopy(of: "Shared", on: a), "password"]) == "after-backup\n")

        // B's sign-in is unknown to the restored server; it is told why, signs in, and heals too.
        let signedOut = try b.run(["sync"])
        #expect(signedOut.status == 9 && signedOut.stderr.contains("restored from a backup"), "\(signedOut.stderr)")
        let login = try b.run(
            ["login", "--server", server.url, "--email", devices.email, "--password-stdin"], stdin: Self.unlock)
        #expect(login.status == 0 && login.stderr.contains("coffer sync --yes"), "\(login.stderr)")
        // On a terminal, `coffer sync` asks first.
        let terminal = try TerminalSession(b, ["sync"])
        try terminal.answer("Put this device's data back on the server now? [y/N] ", with: "y")
        #expect(try terminal.finish() == 0, "\(terminal.shown)")
        #expect(terminal.shown.contains("restored it from a backup"), "\(terminal.shown)")

        // Everyone converges on everything: nothing lost, the purge stays, both edits of "Shared" kept.
        for device in [a, d, b, a, d] { try device.ok(["sync", "--yes"]) }
        let final = try Self.titles(a)
        #expect(final.contains("A after backup") && final.contains("B after backup") && final.contains("Kept"))
        #expect(!final.contains("Doomed"), "a purge made after the backup stays purged")
        #expect(final.filter { $0.hasPrefix("Shared") }.count == 2, "A's and D's versions both kept: \(final)")
        for device in [b, d] {
            #expect(try Self.titles(device) == final)
            #expect(try device.ok(["get", "Shared", "username"]) == "edited-on-D\n")
            #expect(
                try device.ok(["get", try Self.conflictCopy(of: "Shared", on: device), "password"]) == "after-backup\n")
        }

        // The restore is on record where the user looks.
        #expect(try a.ok(["account", "events"]).contains("restored from a backup"))
    }

    @Test("a server that claims a restore and then throws away what is put back is caught; the device keeps its data")
    func healingIsVerified() async throws {
        let server = try ServerProcess()
        let proxy = try await HostileProxy(upstream: server.url)
        let a = try CofferCLI()
        try a.ok(
            ["register", "--server", proxy.url, "--email", "claims@example.org", "--password-stdin"], stdin: Self.unlock
        )
        try a.ok(["add", "note", "--title", "One"])
        try a.ok(["sync"])
        let database = try DatabaseQueue(path: server.databasePath)
        let saved = try SyncTests.ServerSnapshot(of: database)
        try a.ok(["add", "note", "--title", "Two"])
        try a.ok(["edit", "One", "--notes", "edited"])
        try a.ok(["sync"])
        // The server goes back, says it was restored, and answers every upload with "stored" but keeps nothing.
        try saved.putBack(into: database, sayingRestoredAt: Date())
        proxy.on("POST", "/api/v2/sync", .respond(status: 200, body: Data(#"{"accepted":[],"conflicts":[]}"#.utf8)))
        let healing = try a.run(["sync", "--yes"])
        #expect(healing.status == 5, "\(healing.stderr)")
        #expect(healing.stderr.contains("did not keep the version"), "\(healing.stderr)")
        #expect(try Self.titles(a) == ["One", "Two"])
        #expect(try a.ok(["get", "One", "notes"]) == "edited\n", "nothing older was applied")
        // The server behaves again: the same command heals it, and a new device gets everything.
        proxy.reset()
        // Killed half-way through healing (versions put back, no manifest yet): the next sync finishes it.
        try a.ok(["lock"])
        let killed = try a.run(
            ["sync", "--yes", "--password-stdin"], stdin: Self.unlock, environment: ["COFFER_CRASH_AT": "heal.restored"]
        )
        #expect(killed.status == 137, "\(killed.stderr)")
        try a.ok(["sync", "--yes", "--password-stdin"], stdin: Self.unlock)
        let b = try CofferCLI()
        try b.ok(
            ["login", "--server", proxy.url, "--email", "claims@example.org", "--password-stdin"], stdin: Self.unlock)
        #expect(try Self.titles(b) == ["One", "Two"])
        #expect(try b.ok(["get", "One", "notes"]) == "edited\n")
    }
}
