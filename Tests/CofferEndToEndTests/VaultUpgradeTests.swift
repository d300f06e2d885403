import CofferAgent
import CofferCrypto
import CofferModel
import CofferStore
import CofferTestSupport
import CofferVault
import Foundation
import GRDB
import Testing

/// A vault and a backup made by Coffer 0.1 before content format 2 and 16-byte item keys
/// (Fixtures/coffer-0.1/README.md says how): the real `coffer` of this build opens, edits, restores
/// and syncs them, and a migration killed half-way leaves the file as it was.
@Suite("a vault made by the previous release", .serialized)
struct VaultUpgradeTests {
    static let password = "fixture-password-made-by-coffer-0.1"
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/coffer-0.1")

    /// A profile holding a copy of the old vault.
    static func oldProfile() throws -> CofferCLI {
        let cli = try CofferCLI()
        try FileManager.default.copyItem(
            at: fixtures.appendingPathComponent("vault.sqlite"), to: cli.home.appendingPathComponent("vault.sqlite"))
        return cli
    }

    static func titles(_ cli: CofferCLI, _ extra: [String] = []) throws -> [String] {
        try #require(try cli.json(["list", "--json"] + extra) as? [[String: Any]]).compactMap {
            $0["title"] as? String
        }.sorted()
    }

    static func database(_ cli: CofferCLI) throws -> DatabaseQueue {
        try DatabaseQueue(path: cli.home.appendingPathComponent("vault.sqlite").path)
    }

    static func contentBytes(_ cli: CofferCLI) throws -> Int {
        try Self.database(cli).read { db in try Int.fetchOne(db, sql: "SELECT sum(length(content)) FROM item") ?? 0 }
    }

    static func backups(_ cli: CofferCLI) -> [String] {
        let folder = cli.home.appendingPathComponent("backups")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0).path }
    }

    @Test(
        "it opens with every item, secret, history and attachment; never synced, it moves to the compact format after a backup"
    )
    func opens() throws {
        let cli = try Self.oldProfile()
        let jsonBytes = try Self.contentBytes(cli)
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try Self.titles(cli) == ["Mail", "Plans", "Visa"])
        #expect(try Self.titles(cli, ["--trash"]) == ["Old account"])
        #expect(try cli.ok(["get", "Mail", "password"]) == "second-secret\n")
        #expect(try cli.ok(["show", "Mail", "--reveal", "--json"]).contains("first-secret"), "the password history")
        let saved = cli.home.appendingPathComponent("key.bin")
        try cli.ok(["attachment", "save", "Plans", "key.bin", "--output", saved.path])
        #expect(try Data(contentsOf: saved) == Data("key file bytes".utf8) + Data([0, 1]))
        try cli.ok(["edit", "Plans", "--notes", "edited after the upgrade"])
        // The way back: the backup taken before the move holds every item as it was.
        let beforeMove = try #require(Self.backups(cli).first)
        let restore = try #require(
            try cli.json(["backup", "restore", beforeMove, "--replace", "--dry-run", "--json"]) as? [String: Any])
        #expect(restore["updated"] as? Int == 1 && restore["unchanged"] as? Int == 3, "\(restore)")
        #expect(restore["added"] as? Int == 0 && restore["trashed"] as? Int == 0, "\(restore)")
        try cli.ok(["lock"])

        let layout = try Self.database(cli).read { db in
            (
                keys: try Int.fetchAll(db, sql: "SELECT length(id) FROM item UNION SELECT length(id) FROM removedItem"),
                format: try Int.fetchOne(db, sql: "SELECT contentFormat FROM account")
            )
        }
        #expect(layout.keys == [16], "item and removal keys are 16 bytes")
        #expect(layout.format == 2, "no server ever saw it, so no older device reads it")
        #expect(try Self.contentBytes(cli) * 2 < jsonBytes, "every record sealed again, compact")
        #expect(
            try cli.ok(["get", "Plans", "notes", "--password-stdin"], stdin: Self.password + "\n")
                == "edited after the upgrade\n")
    }

    @Test("killed after the first of two chunks of its move, a vault opens with every item, then finishes the move")
    func interruptedMove() throws {
        // A vault in the state the previous release's leaves after the layout upgrade: JSON, never synced.
        let cli = try CofferCLI()
        let paths = ProfilePaths(environment: ["COFFER_HOME": cli.home.path])
        let created = try AccountHeader.create(password: Self.password, parameters: .minimum)
        let keyring = Keyring(accountID: created.header.accountID, epoch: 1, accountKey: created.accountKey)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        let store = try VaultStore.create(
            at: paths.vaultFile, header: created.header, keyring: keyring, writing: .json)
        let items = (0..<5_000).map { Item(type: .note, title: "Note \($0)", now: Date()) }
        _ = try VaultSession(store: store, keyring: keyring).add(contentsOf: items)
        let jsonBytes = try Self.contentBytes(cli)

        try cli.ok(
            ["unlock", "--password-stdin"], stdin: Self.password + "\n",
            environment: ["COFFER_CRASH_AT": "move.chunk.1"])
        // The agent dies after the first chunk; the next command finds the vault half moved.
        let listed = try #require(
            try cli.json(["list", "--json", "--password-stdin"], stdin: Self.password + "\n") as? [[String: Any]])
        #expect(listed.count == 5_000)
        let half = try Self.database(cli).read { db in try Int.fetchOne(db, sql: "SELECT contentFormat FROM account") }
        #expect(half == 1, "the format is recorded only when every item has moved")
        let moved = try Self.contentBytes(cli)
        #expect(moved < jsonBytes, "the first chunk is sealed in format 2")

        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try Self.titles(cli).count == 5_000)
        try cli.ok(["lock"])
        let format = try Self.database(cli).read { db in try Int.fetchOne(db, sql: "SELECT contentFormat FROM account")
        }
        #expect(format == 2)
        let final = try Self.contentBytes(cli)
        #expect(final * 2 < jsonBytes)
        #expect(final < moved, "the second chunk was still JSON when the agent died")
    }

    @Test("a vault that cannot take a backup first does not move: it keeps its JSON records, and opens")
    func noBackupNoMove() throws {
        let cli = try Self.oldProfile()
        let blocker = cli.home.appendingPathComponent("not-a-folder")
        try Data("a file where the backup folder would go".utf8).write(to: blocker)
        cli.environment["COFFER_BACKUP_DIR"] = blocker.appendingPathComponent("backups").path
        let jsonBytes = try Self.contentBytes(cli)
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try Self.titles(cli) == ["Mail", "Plans", "Visa"])
        try cli.ok(["lock"])
        let format = try Self.database(cli).read { db in try Int.fetchOne(db, sql: "SELECT contentFormat FROM account")
        }
        #expect(format == 1)
        #expect(try Self.contentBytes(cli) == jsonBytes)
    }

    @Test("a backup the previous release made restores into the upgraded vault")
    func restoresOldBackup() throws {
        let cli = try Self.oldProfile()
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["rm", "Visa"])
        try cli.ok(["purge", "Visa", "--yes"])
        #expect(try Self.titles(cli) == ["Mail", "Plans"])
        try cli.ok(["backup", "restore", Self.fixtures.appendingPathComponent("manual.cofferbackup").path, "--merge"])
        #expect(try Self.titles(cli) == ["Mail", "Plans", "Visa"])
    }

    @Test("the upgraded vault registers and a second device reads every item")
    func syncs() throws {
        let server = try ServerProcess()
        let cli = try Self.oldProfile()
        let email = "upgrade-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        try cli.ok(
            ["register", "--server", server.url, "--email", email, "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["sync"])
        let other = try CofferCLI()
        // The fixture was made with 19 MiB of Argon2id memory to keep tests quick; a new device
        // rightly refuses parameters below the default unless told they are the user's own.
        try other.ok(
            ["login", "--server", server.url, "--email", email, "--accept-weaker-kdf", "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(try Self.titles(other) == ["Mail", "Plans", "Visa"])
        #expect(try other.ok(["get", "Mail", "password"]) == "second-secret\n")
        try other.ok(["edit", "Mail", "--username", "alice.other"])
        try other.ok(["sync"])
        try cli.ok(["sync"])
        #expect(try cli.ok(["get", "Mail", "username"]) == "alice.other\n")
        // A device that signed in to an account that existed writes JSON, whatever its age.
        let format = try DatabaseQueue(path: other.vaultFile.path).read { db in
            try Int.fetchOne(db, sql: "SELECT contentFormat FROM account")
        }
        #expect(format == 1)
    }

    @Test("killed in the middle of its migration, the vault is as it was, then migrates and opens")
    func interruptedMigration() throws {
        let cli = try Self.oldProfile()
        let killed = try cli.run(
            ["list", "--password-stdin"], stdin: Self.password + "\n", environment: ["COFFER_CRASH_AT": "store.v10"])
        #expect(killed.status == 128 + SIGKILL, "\(killed.stderr)")
        let before = try Self.database(cli).read { db in
            (
                applied: try String.fetchAll(
                    db, sql: "SELECT identifier FROM grdb_migrations WHERE identifier LIKE 'v10:%'"),
                ids: try String.fetchAll(db, sql: "SELECT typeof(id) FROM item GROUP BY 1"),
                tables: try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE '%_v10'")
            )
        }
        #expect(before.applied.isEmpty && before.ids == ["text"] && before.tables.isEmpty, "\(before)")
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try Self.titles(cli) == ["Mail", "Plans", "Visa"])
    }

    @Test("a vault whose file layout is newer than this build is refused with what to do, and left alone")
    func newerLayout() throws {
        let cli = try Self.oldProfile()
        try cli.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        try cli.ok(["lock"])
        try Self.database(cli).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: a layout from the future')")
        }
        let file = cli.home.appendingPathComponent("vault.sqlite")
        let bytes = try Data(contentsOf: file)
        let result = try cli.run(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("newer Coffer") && result.stderr.contains("Update Coffer"), "\(result.stderr)")
        #expect(try Data(contentsOf: file) == bytes)
    }

    @Test("a row damaged outside Coffer stops the upgrade with what to do, and every record is left as it was")
    func damagedRow() throws {
        let cli = try Self.oldProfile()
        try Self.database(cli).write { db in
            try db.execute(sql: "UPDATE item SET id = 'not an id' WHERE rowid = (SELECT min(rowid) FROM item)")
        }
        func records() throws -> [Row] {
            try Self.database(cli).read { db in
                try Row.fetchAll(db, sql: "SELECT id, revision, wrappedKey, content FROM item ORDER BY rowid")
            }
        }
        let before = try records()
        let result = try cli.run(["list", "--password-stdin"], stdin: Self.password + "\n")
        #expect(result.status != 0)
        #expect(result.stderr.contains("damaged") && result.stderr.contains("backup"), "\(result.stderr)")
        #expect(try records() == before)
    }
}
