import CofferTestSupport
import Foundation
import GRDB
import Testing

/// Two real `coffer` profiles and the real `coffer-server` on 127.0.0.1.
@Suite("sync between two devices through the real server", .serialized)
struct SyncTests {
    static let password = "tundra-walrus-pebble-orchid-42"

    /// A server and two signed-in profiles, A (registered) and B (logged in).
    struct TwoDevices {
        let server: ServerProcess
        let a: CofferCLI
        let b: CofferCLI
        let email = "alice-\(UUID().uuidString.prefix(6))@example.org"

        init(itemsBeforeB: (CofferCLI) throws -> Void = { _ in }) throws {
            server = try ServerProcess()
            a = try CofferCLI()
            b = try CofferCLI()
            try a.ok(
                [
                    "register", "--server", server.url, "--email", email, "--device-name", "device-A",
                    "--password-stdin",
                ],
                stdin: SyncTests.password + "\n")
            try itemsBeforeB(a)
            // Changes sync in the background; `coffer sync` waits until they are on the server.
            try a.ok(["sync"])
            try b.ok(
                ["login", "--server", server.url, "--email", email, "--device-name", "device-B", "--password-stdin"],
                stdin: SyncTests.password + "\n")
        }
    }

    static func titles(_ cli: CofferCLI, _ extra: [String] = []) throws -> [String] {
        let list = try #require(try cli.json(["list", "--json"] + extra) as? [[String: Any]])
        return list.compactMap { $0["title"] as? String }.sorted()
    }

    @Test(
        "a first push sends each new record as it was sealed: the device's rows stay as they were, the server holds them"
    )
    func firstPushKeepsRecords() throws {
        let server = try ServerProcess()
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: Self.password + "\n")
        for title in ["One", "Two", "Three"] { try a.ok(["add", "note", "--title", title, "--notes", "n"]) }
        try a.ok(["lock"])
        func rows(_ path: String, _ sql: String) throws -> [String: Data] {
            let database = try DatabaseQueue(path: path)
            defer { try? database.close() }
            return try database.read { db in
                Dictionary(
                    uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { ($0[0] as String, $0[1] as Data) })
            }
        }
        let local = "SELECT lower(hex(id)), content FROM item"
        let before = try rows(a.vaultFile.path, local)
        try a.ok(
            ["register", "--server", server.url, "--email", "first-push@example.org", "--password-stdin"],
            stdin: Self.password + "\n")
        try a.ok(["sync"])
        try a.ok(["lock"])
        #expect(try rows(a.vaultFile.path, local) == before)
        let stored = try rows(
            server.databasePath, "SELECT lower(replace(item_id, '-', '')), content FROM records WHERE is_deleted = 0")
        #expect(stored == before)
    }

    @Test("A registers and adds 50 items; B logs in and lists the same 50")
    func fiftyItems() throws {
        let devices = try TwoDevices { a in
            for index in 0..<50 {
                try a.ok(
                    ["add", "login", "--title", "Site \(index)", "--username", "user\(index)", "--password-stdin"],
                    stdin: "password-\(index)\n")
            }
        }
        #expect(try Self.titles(devices.b).count == 50)
        #expect(try Self.titles(devices.b) == Self.titles(devices.a))
        #expect(try devices.b.ok(["get", "Site 42", "password"]) == "password-42\n")
    }

    @Test(
        "offline edits of different fields merge; of the same field both versions survive; a delete reaches B's trash")
    func offlineEditsMerge() throws {
        let devices = try TwoDevices { a in
            try a.ok(
                ["add", "login", "--title", "Mail", "--username", "alice", "--password-stdin"], stdin: "original\n")
            try a.ok(["add", "note", "--title", "Plans", "--notes", "v1"])
            try a.ok(["add", "note", "--title", "Old", "--notes", "bye"])
        }
        let (a, b, server) = (devices.a, devices.b, devices.server)
        // B goes offline (the server stops), edits; A edits meanwhile.
        server.stop()
        try b.ok(["edit", "Mail", "--username", "alice.b"])
        try b.ok(["edit", "Plans", "--notes", "from B"])
        try server.start()
        try a.ok(["edit", "Mail", "--set-secret", "password", "--password-stdin"], stdin: "changed-by-A\n")
        try a.ok(["edit", "Plans", "--notes", "from A"])
        try a.ok(["rm", "Old"])
        try b.ok(["sync"])
        try a.ok(["sync"])
        for device in [a, b] {
            #expect(try device.ok(["get", "Mail", "username"]) == "alice.b\n")
            #expect(try device.ok(["get", "Mail", "password"]) == "changed-by-A\n")
            let titles = try Self.titles(device)
            #expect(titles.contains("Plans"))
            let copies = titles.filter { $0.hasPrefix("Plans (conflict copy from device-B") }
            #expect(copies.count == 1, "\(titles)")
            #expect(try Self.titles(device, ["--trash"]) == ["Old"])
        }
        let notes = Set(try [a.ok(["get", "Plans", "notes"])] + [a.ok(["search", "conflict copy", "--json"])])
        #expect(notes.first { $0.contains("from A") } != nil)
    }

    @Test(
        "a vault that stored each synced record twice upgrades in place: same items, a smaller file, merges find their base"
    )
    func oneCopyUpgrade() throws {
        let devices = try TwoDevices { a in
            let batch = a.home.appendingPathComponent("items.csv")
            try Data(SeveralServersTests.logins("Kept", count: 300).utf8).write(to: batch)
            try a.ok(["import", batch.path, "--yes"])
        }
        let (a, b) = (devices.a, devices.b)
        try b.ok(["sync"])
        #expect(try Self.titles(b).count == 300)
        // B's vault as the previous version left it: every synced record also stored as its base.
        _ = try b.run(["pin", "clear"])
        try b.ok(["lock"])
        let database = try DatabaseQueue(path: b.vaultFile.path)
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE itemSync SET baseWrappedKey = (SELECT wrappedKey FROM item WHERE item.id = itemSync.id),
                      baseContent = (SELECT content FROM item WHERE item.id = itemSync.id)
                    WHERE baseIsLocal = 1
                    """)
            try db.execute(sql: "ALTER TABLE itemSync DROP COLUMN baseIsLocal")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v8:%'")
        }
        let copied = try database.read { db in
            try Int.fetchOne(db, sql: "SELECT sum(length(baseWrappedKey) + length(baseContent)) FROM itemSync") ?? 0
        }
        try database.vacuum()
        try database.close()
        let before = Self.fileSize(b.vaultFile)

        try b.ok(["unlock", "--password-stdin"], stdin: Self.password + "\n")
        #expect(try Self.titles(b).count == 300)
        let after = Self.fileSize(b.vaultFile)
        // The file gives back at least the copies' bytes (page ends and indexes aside).
        #expect(before - after > copied * 3 / 4, "\(before) bytes before, \(after) after, \(copied) in copies")
        let upgraded = try DatabaseQueue(path: b.vaultFile.path)
        let copies = try upgraded.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM itemSync WHERE baseContent IS NOT NULL") ?? -1
        }
        #expect(copies == 0, "synced records still stored twice")
        try upgraded.close()

        // A merge on B needs the synced version as its base: B changes the user name offline, A the
        // password meanwhile.
        devices.server.stop()
        try b.ok(["edit", "Kept 7", "--username", "from-B"])
        try devices.server.start()
        try a.ok(["edit", "Kept 7", "--set-secret", "password", "--password-stdin"], stdin: "from-A\n")
        try a.ok(["sync"])
        try b.ok(["sync"])
        try a.ok(["sync"])
        for device in [a, b] {
            #expect(try device.ok(["get", "Kept 7", "password"]) == "from-A\n")
            #expect(try device.ok(["get", "Kept 7", "username"]) == "from-B\n")
            #expect(try Self.titles(device).count == 300, "a conflict copy: the base was lost")
        }
    }

    /// The size of the vault file with its write-ahead log.
    static func fileSize(_ url: URL) -> Int {
        [url.path, url.path + "-wal"].reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
    }

    @Test("the server killed with SIGKILL and restarted: the client syncs again, nothing lost or duplicated")
    func serverKilled() throws {
        let devices = try TwoDevices()
        let (a, b, server) = (devices.a, devices.b, devices.server)
        for index in 0..<5 { try a.ok(["add", "note", "--title", "Before \(index)"]) }
        server.kill()
        for index in 0..<5 { try a.ok(["add", "note", "--title", "During \(index)"]) }
        #expect(try a.run(["sync"]).status == 8)
        try server.start()
        try a.ok(["sync"])
        try b.ok(["sync"])
        let titles = try Self.titles(b)
        #expect(titles.count == 10)
        #expect(Set(titles).count == 10)
    }

    @Test("canaries in every field never reach the server's database, log or mail")
    func canaries() throws {
        let devices = try TwoDevices()
        try devices.a.ok(
            [
                "add", "login", "--title", "CANARY-title-zqxw", "--username", "CANARY-user-zqxw", "--url",
                "https://canary-zqxw.example",
                "--tag", "CANARY-tag-zqxw", "--notes", "CANARY-notes-zqxw", "--field", "extra=CANARY-field-zqxw",
                "--password-stdin",
            ],
            stdin: "CANARY-pass-zqxw\n")
        try devices.b.ok(["sync"])
        #expect(try devices.b.ok(["get", "CANARY-title-zqxw", "password"]) == "CANARY-pass-zqxw\n")
        let bytes = try devices.server.allBytes()
        #expect(bytes.range(of: Data("zqxw".utf8)) == nil)
        #expect(bytes.range(of: Data(Self.password.utf8)) == nil)
    }

    /// Puts saved server rows back, as a server restoring its records would.
    /// A server's records and manifest as they were at one moment, to put back later: what a rollback
    /// (or a restore from a backup) does to a device's data.
    struct ServerSnapshot {
        let records: [Row]
        let manifest: (counter: Int64, sequence: Int64, blob: Data)

        init(of database: DatabaseQueue) throws {
            records = try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM records") }
            let row = try database.read { db in
                try Row.fetchOne(db, sql: "SELECT manifest_counter, manifest_sequence, manifest_blob FROM accounts")!
            }
            manifest = (row["manifest_counter"], row["manifest_sequence"], row["manifest_blob"])
        }

        /// Puts the records and the manifest back; with `restoredAt`, the server also says it was restored.
        func putBack(into database: DatabaseQueue, sayingRestoredAt restoredAt: Date? = nil) throws {
            try database.write { db in
                try db.execute(sql: "DELETE FROM records")
                try SyncTests.restore(records, in: db)
                try db.execute(
                    sql:
                        "UPDATE accounts SET manifest_counter = ?, manifest_sequence = ?, manifest_blob = ?, restored_at = coalesce(?, restored_at)",
                    arguments: [manifest.counter, manifest.sequence, manifest.blob, restoredAt])
            }
        }
    }

    static func restore(_ rows: [Row], in db: Database) throws {
        for row in rows {
            try db.execute(
                sql: """
                    INSERT INTO records (account_id, item_id, revision, sequence, is_deleted, wrapped_key, content, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    row["account_id"], row["item_id"], row["revision"], row["sequence"], row["is_deleted"],
                    row["wrapped_key"],
                    row["content"], row["updated_at"],
                ])
        }
    }

    @Test("a server that drops an item, swaps ciphertexts or serves an old manifest is caught; local data is kept")
    func tamperingServer() throws {
        let devices = try TwoDevices { a in
            try a.ok(["add", "note", "--title", "First", "--notes", "one"])
            try a.ok(["add", "note", "--title", "Second", "--notes", "two"])
        }
        let (a, b, server) = (devices.a, devices.b, devices.server)
        // A fresh device C sees a server that dropped a record.
        let database = try DatabaseQueue(path: server.dataDirectory.appendingPathComponent("coffer.sqlite").path)
        let saved = try database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM records") }
        try database.write { db in
            try db.execute(sql: "DELETE FROM records WHERE rowid = (SELECT min(rowid) FROM records)")
        }
        let c = try CofferCLI()
        let dropped = try c.run(
            ["login", "--server", server.url, "--email", devices.email, "--password-stdin"], stdin: Self.password + "\n"
        )
        #expect(dropped.status == 5, "\(dropped.stderr)")
        #expect(dropped.stderr.contains("manifest"))

        // Put it back, then swap two items' ciphertexts in the server's database.
        try database.write { db in
            try db.execute(sql: "DELETE FROM records")
            try Self.restore(saved, in: db)
            let rows = try Row.fetchAll(db, sql: "SELECT item_id, content FROM records ORDER BY item_id")
            try db.execute(
                sql: "UPDATE records SET content = ? WHERE item_id = ?",
                arguments: [rows[1]["content"] as Data, rows[0]["item_id"] as String])
            try db.execute(
                sql: "UPDATE records SET content = ? WHERE item_id = ?",
                arguments: [rows[0]["content"] as Data, rows[1]["item_id"] as String])
        }
        let swapped = try c.run(
            ["login", "--server", server.url, "--email", devices.email, "--password-stdin"], stdin: Self.password + "\n"
        )
        #expect(swapped.status == 5, "\(swapped.stderr)")
        #expect(try Self.titles(b) == ["First", "Second"])
        #expect(try b.ok(["get", "First", "notes"]) == "one\n")

        // Restore the records, then serve an older manifest.
        try database.write { db in
            try db.execute(sql: "DELETE FROM records")
            try Self.restore(saved, in: db)
        }
        let oldManifest = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT manifest_counter, manifest_sequence, manifest_blob FROM accounts")!
        }
        try a.ok(["add", "note", "--title", "Third"])
        try a.ok(["sync"])
        try b.ok(["sync"])
        try database.write { db in
            try db.execute(
                sql: "UPDATE accounts SET manifest_counter = ?, manifest_sequence = ?, manifest_blob = ?",
                arguments: [
                    oldManifest["manifest_counter"] as Int64, oldManifest["manifest_sequence"] as Int64,
                    oldManifest["manifest_blob"] as Data,
                ])
        }
        let rolledBack = try b.run(["sync"])
        #expect(rolledBack.status == 5, "\(rolledBack.stderr)")
        #expect(rolledBack.stderr.contains("older state"))
        #expect(try Self.titles(b) == ["First", "Second", "Third"])
    }
}

@Suite("joining a server", .serialized)
struct JoiningTests {
    @Test("register turns an existing local vault into a synced one and uploads its items")
    func registerExistingVault() throws {
        let server = try ServerProcess()
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        for title in ["One", "Two", "Three"] { try a.ok(["add", "note", "--title", title]) }
        let output = try a.ok(
            ["register", "--server", server.url, "--email", "bob@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        #expect(output.contains("3 item(s) uploaded"))
        #expect(output.contains("Recovery code:"))
        let b = try CofferCLI()
        try b.ok(
            ["login", "--server", server.url, "--email", "bob@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        #expect(try SyncTests.titles(b) == ["One", "Three", "Two"])
        let wrong = try CofferCLI()
        let refused = try wrong.run(
            ["login", "--server", server.url, "--email", "bob@example.org", "--password-stdin"],
            stdin: "not-the-password-at-all\n")
        #expect(refused.status == 4)
        #expect(!FileManager.default.fileExists(atPath: wrong.vaultFile.path))
    }

    @Test("devices lists both devices; revoking B makes B's next sync say it was signed out, keeping its data")
    func devices() throws {
        let devices = try SyncTests.TwoDevices { a in try a.ok(["add", "note", "--title", "Kept"]) }
        let list = try #require(try devices.a.json(["devices", "--json"]) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["name"] as? String }) == ["device-A", "device-B"])
        let bID = try #require(list.first { $0["name"] as? String == "device-B" }?["id"] as? String)
        try devices.a.ok(["devices", "revoke", bID])
        #expect(try devices.b.ok(["status"]).contains("last synced"), "status says when it last synced")
        let result = try devices.b.run(["sync"])
        #expect(result.status == 9, "\(result.stderr)")
        #expect(result.stderr.lowercased().contains("sign in again"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "coffer login").count == 2, "said once: \(result.stderr)")
        let status = try devices.b.ok(["status"])
        #expect(status.contains("Last sync failed") && status.lowercased().contains("sign in again"), "\(status)")
        #expect(!status.contains("in sync"))
        #expect(try SyncTests.titles(devices.b) == ["Kept"])
        try devices.b.ok(
            ["login", "--server", devices.server.url, "--email", devices.email, "--password-stdin"],
            stdin: SyncTests.password + "\n")
        try devices.b.ok(["add", "note", "--title", "After sign-in"])
        try devices.a.ok(["sync"])
        #expect(try SyncTests.titles(devices.a) == ["After sign-in", "Kept"])
        let events = try #require(try devices.a.json(["account", "events", "--json"]) as? [[String: Any]])
        #expect(
            Set(events.compactMap { $0["kind"] as? String }).isSuperset(of: [
                "register", "new-device", "device-revoked",
            ]))
        let revocation = events.first { $0["kind"] as? String == "device-revoked" }
        #expect(revocation?["deviceName"] as? String == "device-B", "the event names the device signed out")
    }
}
