import CofferTestSupport
import Foundation
import Testing

/// `coffer import` and `coffer export` through the real binary.
@Suite("import and export through the CLI", .serialized)
struct InterchangeTests {
    static let bitwardenCSV = """
        folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp
        Social,1,login,Twitter,,,0,https://twitter.com,alice,tw-pass-1,
        ,,login,Mail,,,0,https://mail.example,alice,mail-pass-2,
        ,,note,Plans,secret plans,,0,,,,

        """

    static func write(_ text: String, to cli: CofferCLI, as name: String) throws -> String {
        let path = cli.home.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("import previews, adds in one step, skips or merges duplicates; export round-trips into another vault")
    func importAndExport() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let file = try Self.write(Self.bitwardenCSV, to: a, as: "bitwarden.csv")

        let dry = try a.run(["import", file, "--dry-run"])
        #expect(dry.status == 0 && dry.stderr.contains("3 to add (2 login, 1 secure note)"), "\(dry.stderr)")
        #expect(try LifecycleTests.count(a) == 0)
        let refused = try a.run(["import", file])
        #expect(refused.status == 7 && refused.stderr.contains("Nothing was imported"))

        let first = try a.ok(["import", file, "--yes"])
        #expect(first.contains("3 added"))
        #expect(try a.ok(["get", "Twitter", "password"]) == "tw-pass-1\n")
        let again = try a.ok(["import", file, "--yes"])
        #expect(again.contains("0 added") && again.contains("3 skipped as duplicates"))

        let changed = try Self.write(
            Self.bitwardenCSV.replacingOccurrences(of: "tw-pass-1", with: "tw-pass-NEW"), to: a, as: "v2.csv")
        let merged = try a.ok(["import", changed, "--duplicates", "merge", "--yes"])
        #expect(merged.contains("3 merged"))
        #expect(try a.ok(["get", "Twitter", "password"]) == "tw-pass-NEW\n")
        #expect(try LifecycleTests.count(a) == 3)

        let bad = try Self.write("name,url,username,password\nA,https://a,u,\"open\n", to: a, as: "broken.csv")
        let broken = try a.run(["import", bad, "--yes"])
        #expect(broken.status == 7 && broken.stderr.contains("broken.csv (line 2)"), "\(broken.stderr)")
        #expect(try LifecycleTests.count(a) == 3)

        let exported = a.home.appendingPathComponent("export.csv").path
        let export = try a.run(["export", "--format", "csv", "--output", exported, "--yes"])
        #expect(export.status == 0 && export.stderr.contains("unencrypted"))
        #expect((try FileManager.default.attributesOfItem(atPath: exported)[.posixPermissions] as? Int) == 0o600)
        #expect(
            try a.run(["export", "--format", "csv", "--output", exported, "--yes"]).status == 7, "never overwrites")

        let b = try CofferCLI()
        try b.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        try b.ok(["import", exported, "--yes"])
        #expect(try b.ok(["get", "Twitter", "password"]) == "tw-pass-NEW\n")
        #expect(try b.ok(["get", "Plans", "notes"]) == "secret plans\n")
        #expect(try LifecycleTests.count(b) == 3)
    }

    @Test(
        "a password-protected Bitwarden export (PBKDF2 and Argon2id, written by an independent implementation) opens with its password; a wrong one changes nothing"
    )
    func bitwardenPasswordProtected() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: SyncTests.password + "\n")
        // Outside the profile: the plain export holds the canary, and the profile is checked for it below.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bitwarden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain.json").path
        try Data(
            #"{"encrypted": false, "folders": [{"id": "f", "name": "Work"}], "items": [{"type": 1, "name": "Jira", "folderId": "f", "login": {"username": "ann", "password": "bw-canary-5120"}}]}"#
                .utf8
        ).write(to: URL(fileURLWithPath: plain))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/Scripts/bitwarden-protected-export.py")
        for kdf in ["pbkdf2", "argon2id"] {
            let export = folder.appendingPathComponent("bitwarden-\(kdf).json").path
            let made = try Program.run("/usr/bin/python3", [script.path, plain, "export pass 7", kdf, export])
            #expect(made.status == 0, "\(made.output)")
            let wrong = try a.run(["import", export, "--password-stdin", "--yes"], stdin: "not it\n")
            #expect(wrong.status == 4 && wrong.stderr.contains("does not open it"), "\(wrong.stderr)")
            #expect(try LifecycleTests.count(a) == (kdf == "pbkdf2" ? 0 : 1))
            let imported = try a.run(
                ["import", export, "--password-stdin", "--yes", "--duplicates", "keep"], stdin: "export pass 7\n")
            #expect(imported.status == 0 && imported.stdout.contains("1 added"), "\(imported.stderr)")
            if kdf == "pbkdf2" {
                #expect(try a.ok(["get", "Jira", "password"]) == "bw-canary-5120\n")
                #expect(try a.ok(["show", "Jira"]).contains("Tags: Work"))
            }
        }
        #expect(try LifecycleTests.count(a) == 2)
        #expect(try a.allFileBytes().range(of: Data("bw-canary-5120".utf8)) == nil, "never in a file in clear")
    }

    @Test(
        "--dry-run reports exactly what the import then does: added, merged, skipped, and each rejected row or item"
    )
    func dryRunCountsMatchTheImport() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        try a.ok(["import", try Self.write(Self.bitwardenCSV, to: a, as: "first.csv"), "--yes"])
        // Too large to sync once sealed: five cells of a million characters each.
        let huge = String(repeating: "x", count: 1_000_000)
        let mixed = """
            folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp
            ,,login,Twitter,,,0,https://twitter.com,alice,tw-pass-CHANGED,
            ,,login,Mail,,,0,https://mail.example,alice,mail-pass-2,
            ,,login,New one,,,0,https://new.example,bob,new-pass,
            ,,note,Also new,text,,0,,,,
            ,,login,Broken,,,0,https://b.example,u,p,,one cell too many
            ,,login,Huge,\(huge),big: \(huge),0,https://h.example,\(huge),\(huge),\(huge)

            """
        let file = try Self.write(mixed, to: a, as: "mixed.csv")
        // Twitter and Mail are already there; after the first run so are the two new items.
        let expected = ["skip": [2, 0, 2], "merge": [0, 4, 0], "keep": [4, 0, 0]]
        for choice in ["skip", "merge", "keep"] {
            let before = try LifecycleTests.count(a)
            let dry = try #require(
                try a.json(["import", file, "--duplicates", choice, "--dry-run", "--json"]) as? [String: Any])
            #expect(try LifecycleTests.count(a) == before, "a dry run changes nothing")
            let done = try #require(
                try a.json(["import", file, "--duplicates", choice, "--yes", "--json"]) as? [String: Any])
            for key in ["format", "added", "merged", "skipped"] {
                #expect("\(dry[key] ?? "-")" == "\(done[key] ?? "-")", "\(choice): \(key)")
            }
            let rejected = { (report: [String: Any]) in
                ((report["rejected"] as? [[String: Any]]) ?? []).map { "\($0["line"] ?? "-") \($0["field"] ?? "-")" }
            }
            #expect(rejected(dry) == rejected(done) && rejected(done).count == 2, "\(choice): \(rejected(done))")
            #expect(dry["dryRun"] as? Bool == true && done["dryRun"] as? Bool == false)
            #expect(
                [done["added"], done["merged"], done["skipped"]].map { $0 as? Int }
                    == expected[choice]?.map { Optional($0) },
                "\(choice): \(done)")
            let added = try #require(done["added"] as? Int)
            #expect(try LifecycleTests.count(a) == before + added, "\(choice): the vault grew by what was reported")
        }
    }

    @Test("the encrypted export opens only with its own password and imports into another vault")
    func encryptedExport() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let file = try Self.write(Self.bitwardenCSV, to: a, as: "bitwarden.csv")
        try a.ok(["import", file, "--yes"])
        let exported = a.home.appendingPathComponent("vault.coffer").path
        try a.ok(
            ["export", "--format", "coffer", "--output", exported, "--password-stdin", "--yes"],
            stdin: "export-password-99\n")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: exported))
        #expect(bytes.range(of: Data("tw-pass-1".utf8)) == nil && bytes.range(of: Data("Twitter".utf8)) == nil)

        let b = try CofferCLI()
        try b.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let wrong = try b.run(["import", exported, "--password-stdin", "--yes"], stdin: "not-the-password\n")
        #expect(wrong.status == 4 && wrong.stderr.contains("password chosen when it was made"), "\(wrong.stderr)")
        let imported = try b.run(["import", exported, "--password-stdin", "--yes"], stdin: "export-password-99\n")
        #expect(imported.status == 0 && imported.stdout.contains("3 added"), "\(imported.stderr)")
        #expect(try b.ok(["get", "Twitter", "password"]) == "tw-pass-1\n")
    }

    @Test("a large import draws a progress bar on a terminal, and nothing when standard error is a file")
    func progressBar() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let rows = (0..<30_000).map { "Site \($0),https://s\($0).example,user\($0),pw-\($0)" }
        let file = try Self.write("name,url,username,password\n" + rows.joined(separator: "\n"), to: a, as: "big.csv")
        let terminal = try a.runOnTerminal(["import", file, "--dry-run"])
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("Reading big.csv [") && terminal.stdout.contains("%"), "\(terminal.stdout)")
        #expect(terminal.stdout.contains("30000 to add"))
        let piped = try a.run(["import", file, "--dry-run"])
        #expect(piped.status == 0 && !piped.stderr.contains("Reading big.csv") && !piped.stderr.contains("\u{1B}["))
    }
}
