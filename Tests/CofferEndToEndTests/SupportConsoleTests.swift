import CofferTestSupport
import Foundation
import GRDB
import Testing

/// The support desk of security.md's support case: `coffer-server admin` run by the operator against
/// the real server's database tells what happened and what to say, and nothing that opens data.
@Suite("support console", .serialized)
struct SupportConsoleTests {
    /// Runs `coffer-server admin ARGUMENTS --data-dir …` of `server`.
    static func admin(_ server: ServerProcess, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Program.run(
            try ServerProcess.binary(named: "coffer-server").path,
            ["admin"] + arguments + ["--data-dir", server.dataDirectory.path])
    }

    static func adminJSON(_ server: ServerProcess, _ arguments: [String]) throws -> Any {
        let result = try admin(server, arguments + ["--json"])
        #expect(result.status == 0, "\(result.output)")
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    }

    /// Every blob the server's database holds (keys, verifiers, salts, token and code hashes,
    /// ciphertext), in the forms a careless print would show them.
    static func storedSecrets(_ server: ServerProcess) throws -> [String] {
        let database = try DatabaseQueue(path: server.databasePath)
        return try database.read { db in
            var blobs: [Data] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            for table in tables {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    for column in row.columnNames {
                        let value: DatabaseValue = row[column]
                        if case .blob(let blob) = value.storage, blob.count >= 16 { blobs.append(blob) }
                    }
                }
            }
            return blobs.flatMap { blob in
                [
                    blob.base64EncodedString(), blob.map { String(format: "%02x", $0) }.joined(),
                    blob.prefix(12).base64EncodedString(),
                ]
            }
        }
    }

    @Test(
        "the support case replayed: after a portal reset, admin account show says when and names the three ways back; no secret in any output; every look is an event the user sees"
    )
    func supportCase() async throws {
        let account = try LifecycleTests.Account(withDeviceB: false)
        let server = account.server
        let canaryTitle = "canary-title-qv71"
        try account.a.ok(
            ["add", "login", "--title", canaryTitle, "--password-stdin"], stdin: "canary-secret-qv71\n")
        try account.a.ok(["sync"])
        var outputs: [String] = []

        // Before any reset: a normal account, and the user sees that support looked.
        let before = try Self.admin(server, ["account", "show", account.email.uppercased()])
        outputs.append(before.output)
        #expect(before.status == 0, "\(before.output)")
        #expect(
            before.output.contains("This account has never been reset. It stores 31 items")
                && before.output.contains("device-A: signed in"), "\(before.output)")
        let seen = try account.a.ok(["account", "events"])
        #expect(seen.contains("Support looked at this account"), "\(seen)")

        // Nothing to extend yet: refused, and nothing is recorded.
        let nothing = try Self.admin(server, ["account", "extend-quarantine", account.email, "--days", "10"])
        #expect(nothing.status != 0 && nothing.output.contains("has no quarantined data"), "\(nothing.output)")

        // The support case: a reset from the web portal.
        let (link, setupCode) = try await account.resetFromPortal()
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let shown = try Self.admin(server, ["account", "show", account.email])
        outputs.append(shown.output)
        let summary = shown.output.replacingOccurrences(of: "\n", with: " ")
        #expect(shown.status == 0)
        #expect(summary.contains("This account was reset from the web portal on \(today)"), "\(shown.output)")
        #expect(summary.contains("31 items from before the reset of \(today)"), "\(shown.output)")
        #expect(summary.contains("in quarantine until"))
        for way in ["the old password", "the old recovery code", "a device signed in before the reset"] {
            #expect(summary.contains(way), "the summary names \(way)")
        }
        #expect(summary.contains("No new master password has been set since"))
        #expect(shown.output.contains("device-A: signed out (the account was reset)"), "\(shown.output)")

        let dossier = try #require(try Self.adminJSON(server, ["account", "show", account.email]) as? [String: Any])
        let quarantine = try #require((dossier["quarantines"] as? [[String: Any]])?.first)
        #expect(quarantine["items"] as? Int == 31 && quarantine["needsOldSecret"] as? Bool == true)
        #expect((dossier["resets"] as? [[String: Any]])?.first?["through"] as? String == "web portal")
        let expiry = try #require(quarantine["expiresAt"] as? String)

        // Kept longer at the user's request: the expiry moves by exactly that, and the user is told.
        let extended = try Self.admin(server, ["account", "extend-quarantine", account.email, "--days", "10"])
        outputs.append(extended.output)
        #expect(extended.status == 0, "\(extended.output)")
        let after = try #require(try Self.adminJSON(server, ["account", "show", account.email]) as? [String: Any])
        let newExpiry = try #require((after["quarantines"] as? [[String: Any]])?.first?["expiresAt"] as? String)
        let formatter = ISO8601DateFormatter()
        let moved = try #require(formatter.date(from: newExpiry)).timeIntervalSince(
            try #require(formatter.date(from: expiry)))
        #expect(moved == 10 * 86_400)

        // Events, search and counts; with the server stopped too.
        server.stop()
        let events = try Self.admin(server, ["account", "events", account.email, "--limit", "500"])
        outputs.append(events.output)
        for expected in ["Support kept the data from before a reset for longer", "Support looked", "Account reset;"] {
            #expect(events.output.contains(expected), "\(events.output)")
        }
        let found = try #require(
            try Self.adminJSON(server, ["accounts", "--search", String(account.email.prefix(12)).uppercased()])
                as? [[String: Any]])
        #expect(found.map { $0["email"] as? String } == [account.email])
        let stats = try #require(try Self.adminJSON(server, ["stats"]) as? [String: Any])
        #expect(stats["accounts"] as? Int == 1 && stats["resets"] as? Int == 1)
        outputs.append(try Self.admin(server, ["stats"]).output)
        outputs.append(try Self.admin(server, ["accounts"]).output)
        outputs.append(String(describing: dossier))

        // Nothing in any of it opens anything.
        let secrets =
            try Self.storedSecrets(server) + [
                LifecycleTests.oldPassword, account.recoveryCode, canaryTitle, "canary-secret-qv71",
                setupCode, try firstMatch("token=([A-Za-z0-9_-]+)", in: link),
            ]
        for output in outputs {
            for secret in secrets { #expect(!output.contains(secret), "an admin output shows \(secret)") }
        }
    }

    @Test("bad input to the console: one clear sentence, a failing exit status, and nothing changed")
    func badInput() throws {
        let server = try ServerProcess()
        let cli = try CofferCLI()
        try cli.ok(
            ["register", "--server", server.url, "--email", "dora@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        server.stop()
        let database = try DatabaseQueue(path: server.databasePath)
        let state = "SELECT (SELECT count(*) FROM account_events) || '/' || (SELECT count(*) FROM accounts)"
        let before = try database.read { try String.fetchOne($0, sql: state) }
        let cases: [([String], String)] = [
            (["account", "show", "nobody@example.org"], "No account has the address nobody@example.org"),
            (["account", "show", "not an address"], "is not an e-mail address"),
            (["account", "extend-quarantine", "dora@example.org", "--days", "0"], "from 1 to 3650"),
            (["account", "extend-quarantine", "dora@example.org", "--days", "99999999999999999999"], "--days"),
            (["account", "events", "dora@example.org", "--limit", "0"], "from 1 to 1000"),
            (["accounts", "--per-page", "0"], "from 1 to 500"),
            (["accounts", "--page", "0"], "from 1 to 1000000"),
            (["stats", "--days", "x"], "--days"),
        ]
        for (arguments, message) in cases {
            let result = try Self.admin(server, arguments)
            #expect(result.status != 0 && result.output.contains(message), "\(arguments): \(result.output)")
            #expect(!result.output.contains("Fatal error"), "\(arguments)")
        }
        #expect(try database.read { try String.fetchOne($0, sql: state) } == before, "nothing changed")

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        let missing = try Program.run(
            try ServerProcess.binary(named: "coffer-server").path, ["admin", "stats", "--data-dir", empty.path])
        #expect(missing.status != 0 && missing.output.contains("holds no Coffer database"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: empty.path), "no database is created where none was")
    }
}
