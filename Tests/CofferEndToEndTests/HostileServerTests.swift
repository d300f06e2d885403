import CofferAPI
import CofferTestSupport
import Foundation
import GRDB
import Testing

/// The real `coffer` talking to the real `coffer-server` through a proxy that lies: every answer a
/// hostile or broken server can give, one test each. Each test checks that the device refuses with a
/// clear message and that its items and secrets are exactly as before.
@Suite("a hostile server between the device and its data", .serialized)
struct HostileServerTests {
    static let password = SyncTests.password

    /// A real server behind a hostile proxy, and devices that know only the proxy's address.
    final class Setup {
        let server: ServerProcess
        let proxy: HostileProxy
        let email = "hostile-\(UUID().uuidString.prefix(6))@example.org"

        init() async throws {
            server = try ServerProcess()
            proxy = try await HostileProxy(upstream: server.url)
        }

        /// A device registered through the proxy, holding `Mail` (password "first") and `Notes`.
        func registered(environment: [String: String] = [:]) throws -> CofferCLI {
            let device = try CofferCLI()
            device.environment = environment
            try device.ok(
                ["register", "--server", proxy.url, "--email", email, "--device-name", "A", "--password-stdin"],
                stdin: HostileServerTests.password + "\n")
            try device.ok(
                ["add", "login", "--title", "Mail", "--username", "alice", "--password-stdin"], stdin: "first\n")
            try device.ok(["add", "note", "--title", "Notes", "--notes", "kept"])
            try device.ok(["sync"])
            return device
        }

        /// Another device signed in through the proxy.
        func signedIn(_ name: String = "B", environment: [String: String] = [:]) throws -> CofferCLI {
            let device = try CofferCLI()
            device.environment = environment
            try device.ok(
                ["login", "--server", proxy.url, "--email", email, "--device-name", name, "--password-stdin"],
                stdin: HostileServerTests.password + "\n")
            return device
        }
    }

    /// Everything a device holds: each item's title and its whole content, secrets and trash included.
    static func snapshot(_ device: CofferCLI) throws -> [String: String] {
        let unlock = password + "\n"
        let items = try #require(
            try device.json(["list", "--all", "--json", "--password-stdin"], stdin: unlock) as? [[String: Any]])
        var result: [String: String] = [:]
        for item in items {
            let title = try #require(item["title"] as? String)
            let id = try #require(item["id"] as? String)
            result[title] = try device.ok(
                ["show", id, "--reveal", "--trash", "--json", "--password-stdin"], stdin: unlock)
        }
        return result
    }

    /// The id of the item titled `title` on `device`.
    static func id(of title: String, on device: CofferCLI) throws -> String {
        let items = try #require(try device.json(["list", "--all", "--json"]) as? [[String: Any]])
        return try #require(items.first { $0["title"] as? String == title }?["id"] as? String)
    }

    static func page(_ body: Data) throws -> SyncPage { try JSONDecoder().decode(SyncPage.self, from: body) }
    static func encode(_ value: some Encodable) throws -> Data { try JSONEncoder().encode(value) }

    // MARK: - Push answers

    @Test("a push answer that claims success, names conflicts or carries old records changes nothing on the device")
    func pushAnswerIsAHint() async throws {
        let setup = try await Setup()
        let a = try setup.registered()
        let b = try setup.signedIn()
        let before = try Self.snapshot(b)
        // The server throws A's next push away and answers with lies: the change "accepted", an
        // unrelated item "conflicting", and an old record of it alongside, as a protocol-1 server sent.
        let mailID = try Self.id(of: "Mail", on: a)
        let notesID = try Self.id(of: "Notes", on: a)
        let lie = Data(
            """
            {"accepted":[{"id":"\(mailID)","revision":3,"sequence":999},{"id":"\(notesID)","revision":9,"sequence":1000}],
             "conflicts":["\(notesID)"],
             "records":[{"id":"\(notesID)","revision":9,"sequence":1000,"isDeleted":true}]}
            """.utf8)
        setup.proxy.on("POST", "/api/v2/sync", .respond(status: 200, body: lie))
        try a.ok(["edit", "Mail", "--set-secret", "password", "--password-stdin"], stdin: "second\n")
        let lied = try a.run(["sync"])
        #expect(lied.status == 9, "\(lied.stderr)")
        #expect(lied.stderr.contains("not stored by the server"), "\(lied.stderr)")
        #expect(try a.ok(["get", "Mail", "password"]) == "second\n")
        #expect(try a.ok(["get", "Notes", "notes"]) == "kept\n")
        #expect((try a.json(["status", "--json"]) as? [String: Any])?["pendingChanges"] as? Int == 1)
        try b.ok(["sync"])
        #expect(try Self.snapshot(b) == before)
        // The server behaves again: the pending change goes through and reaches B.
        setup.proxy.reset()
        try a.ok(["sync"])
        try b.ok(["sync"])
        #expect(try b.ok(["get", "Mail", "password"]) == "second\n")
        #expect(try b.ok(["get", "Notes", "notes"]) == "kept\n")
    }

    // MARK: - Pre-login and the account header

    @Test("pre-login asking for weaker Argon2id parameters is refused before anything is derived or sent")
    func kdfDowngrade() async throws {
        let setup = try await Setup()
        _ = try setup.registered()
        setup.proxy.on("POST", "/api/v1/prelogin", Self.weakerKDF)
        // A new device: nothing seen yet, so Coffer's default is the floor.
        let fresh = try CofferCLI()
        let refused = try fresh.run(
            ["login", "--server", setup.proxy.url, "--email", setup.email, "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(refused.stderr.contains("weaker Argon2id parameters"), "\(refused.stderr)")
        #expect(setup.proxy.count("POST", "/api/v1/login") == 0)
        #expect(!FileManager.default.fileExists(atPath: fresh.vaultFile.path))

        // A device that has signed in before, then out: its pin is remembered.
        setup.proxy.reset()
        let b = try setup.signedIn()
        try b.ok(["logout"])
        setup.proxy.on("POST", "/api/v1/prelogin", Self.weakerKDF)
        let again = try b.run(
            ["login", "--server", setup.proxy.url, "--email", setup.email, "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(again.status == 5, "\(again.stderr)")
        #expect(setup.proxy.count("POST", "/api/v1/login") == 1, "only B's first sign-in reached the server")
        #expect(try Self.snapshot(b).count == 2, "local data stays")
        // The user's explicit choice gets past the refusal (and then the wrong key is refused as usual).
        let accepted = try b.run(
            ["login", "--server", setup.proxy.url, "--email", setup.email, "--accept-weaker-kdf", "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(accepted.status == 4, "\(accepted.stderr)")
    }

    /// Pre-login answered with OWASP's floor instead of the account's parameters.
    static let weakerKDF = HostileProxy.Action.rewrite({ exchange in
        var changed = exchange
        var body = try JSONDecoder().decode(PreloginResponse.self, from: exchange.body)
        body.kdf = WireKDF(memoryKiB: 19456, iterations: 2, parallelism: 1)
        changed.body = try JSONEncoder().encode(body)
        return changed
    })

    @Test("an account header rewritten by the server is refused at sign-in; the vault on the device stays as it is")
    func rewrittenAccountHeader() async throws {
        let setup = try await Setup()
        _ = try setup.registered()
        let b = try setup.signedIn()
        try b.ok(["logout"])
        let before = try Self.snapshot(b)
        setup.proxy.on(
            "GET", "/api/v1/account",
            .rewrite({ exchange in
                var changed = exchange
                var state = try JSONDecoder().decode(AccountState.self, from: exchange.body)
                state.epoch += 1
                changed.body = try JSONEncoder().encode(state)
                return changed
            }))
        let result = try b.run(
            ["login", "--server", setup.proxy.url, "--email", setup.email, "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("does not open with your password"), "\(result.stderr)")
        #expect(try Self.snapshot(b) == before)
        #expect(!FileManager.default.fileExists(atPath: b.home.appendingPathComponent("before-reset").path))
    }

    // MARK: - Pull pages

    /// A and B in sync; A then adds `Third` and syncs, so B's next pull carries one new record.
    static func withNewRecordForB() async throws -> (Setup, CofferCLI, CofferCLI, [String: String]) {
        let setup = try await Setup()
        let a = try setup.registered()
        let b = try setup.signedIn()
        let before = try snapshot(b)
        try a.ok(["add", "note", "--title", "Third", "--notes", "three"])
        try a.ok(["edit", "Mail", "--set-secret", "password", "--password-stdin"], stdin: "second\n")
        try a.ok(["sync"])
        return (setup, a, b, before)
    }

    @Test(
        "a pull page with a record dropped, swapped, moved out of the manifest, replayed at its old revision, a forged manifest, or an injected unpublished record, is refused",
        arguments: ["drop", "swap", "move", "replay", "forge", "inject"])
    func tamperedPage(attack: String) async throws {
        let (setup, _, b, before) = try await Self.withNewRecordForB()
        setup.proxy.on(
            "GET", "/api/v2/sync",
            .rewrite({ exchange in
                var changed = exchange
                var page = try Self.page(exchange.body)
                guard page.records.count >= 2 else { return exchange }
                switch attack {
                case "drop":
                    page.records.removeFirst()
                case "swap":
                    let first = page.records[0].content
                    page.records[0].content = page.records[1].content
                    page.records[1].content = first
                case "move":
                    // A published record renumbered past the manifest's sequence, as if not yet published.
                    var moved = page.records.removeFirst()
                    moved.sequence = page.cursor + 1
                    page.records.append(moved)
                    page.cursor = moved.sequence
                case "replay":
                    // Mail's new record relabelled with the revision B already holds.
                    if let index = page.records.firstIndex(where: { $0.revision > 1 }) {
                        page.records[index].revision -= 1
                    }
                case "forge":
                    if var manifest = page.manifest {
                        var blob = [UInt8](manifest.blob)
                        blob[blob.count - 1] ^= 1
                        manifest.blob = Data(blob)
                        page.manifest = manifest
                    }
                default:
                    // A record the account never wrote, after the manifest: a device about to publish
                    // would adopt it if it did not open it under the account's keys first.
                    let fake = WireRecord(
                        id: UUID(), revision: 1, sequence: page.cursor + 1, isDeleted: false,
                        wrappedKey: Data([1]) + Data((0..<80).map { _ in UInt8.random(in: 0...255) }),
                        content: Data([1]) + Data((0..<80).map { _ in UInt8.random(in: 0...255) }))
                    page.records.append(fake)
                    page.cursor = fake.sequence
                }
                changed.body = try JSONEncoder().encode(page)
                return changed
            }))
        if attack == "inject" { try b.ok(["add", "note", "--title", "B's own", "--notes", "mine"]) }
        let result = try b.run(["sync"])
        #expect(result.status == 5, "\(attack): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("integrity checks"), "\(attack): \(result.stderr)")
        #expect(try Self.snapshot(b).filter { before[$0.key] != nil } == before, "\(attack)")
        // An honest server again: B catches up with everything and keeps its own change.
        setup.proxy.reset()
        let healed = try b.run(["sync"])
        #expect(healed.status == 0, "\(attack): \(healed.stderr)")
        #expect(try b.ok(["get", "Mail", "password"]) == "second\n")
        #expect(try b.ok(["get", "Third", "notes"]) == "three\n")
        if attack == "inject" { #expect(try b.ok(["get", "B's own", "notes"]) == "mine\n") }
    }

    @Test("a server that shows two devices different histories under the same manifest number is caught")
    func equivocation() async throws {
        let setup = try await Setup()
        let a = try setup.registered()
        let b = try setup.signedIn()
        let c = try setup.signedIn("C")
        let database = try DatabaseQueue(path: setup.server.databasePath)
        let saved = try await database.read { db -> (Int64, Int64, Data) in
            let row = try Row.fetchOne(
                db, sql: "SELECT manifest_counter, manifest_sequence, manifest_blob FROM accounts")!
            return (row["manifest_counter"], row["manifest_sequence"], row["manifest_blob"])
        }
        try a.ok(["add", "note", "--title", "From A"])
        try a.ok(["sync"])
        try b.ok(["sync"])
        #expect(try Self.snapshot(b)["From A"] != nil)
        // The server forgets A's manifest and lets C publish another one under the same number.
        try await database.write { db in
            try db.execute(
                sql: "UPDATE accounts SET manifest_counter = ?, manifest_sequence = ?, manifest_blob = ?",
                arguments: [saved.0, saved.1, saved.2])
        }
        try c.ok(["add", "note", "--title", "From C"])
        try c.ok(["sync"])
        let forked = try b.run(["sync"])
        #expect(forked.status == 5, "\(forked.stderr)")
        #expect(forked.stderr.contains("two different versions"), "\(forked.stderr)")
    }

    @Test("a purged item served again in place of its tombstone is refused")
    func resurrection() async throws {
        let setup = try await Setup()
        let a = try setup.registered()
        let b = try setup.signedIn()
        let live = try setup.storedRecords()
        try a.ok(["rm", "Notes"])
        try a.ok(["purge", "Notes", "--yes"])
        try a.ok(["sync"])
        setup.proxy.on(
            "GET", "/api/v2/sync",
            .rewrite({ exchange in
                var changed = exchange
                var page = try Self.page(exchange.body)
                // The last live Notes record, put back where its tombstone is.
                if let index = page.records.firstIndex(where: \.isDeleted),
                    var old = live.first(where: { $0.id == page.records[index].id })
                {
                    old.sequence = page.records[index].sequence
                    page.records[index] = old
                }
                changed.body = try JSONEncoder().encode(page)
                return changed
            }))
        let result = try b.run(["sync"])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(try Self.snapshot(b).keys.sorted() == ["Mail", "Notes"])
        #expect(try b.ok(["get", "Notes", "notes"]) == "kept\n")
        setup.proxy.reset()
        try b.ok(["sync"])
        #expect(try Self.snapshot(b).keys.sorted() == ["Mail"])
    }

    @Test("text the server sends is shown without control or direction-changing characters")
    func serverTextIsCleaned() async throws {
        let setup = try await Setup()
        let a = try setup.registered()
        let body = try Self.encode(
            ErrorBody(code: "x", message: "Oops\u{1b}]0;pwned\u{07}\u{1b}[2J \u{202E}txt.exe\u{0}"))
        setup.proxy.on("GET", "/api/v2/sync", .respond(status: 400, body: body))
        let result = try a.run(["sync"])
        #expect(result.status == 9)
        #expect(result.stderr.contains("Oops"))
        for scalar in ["\u{1b}", "\u{07}", "\u{202E}", "\u{0}"] { #expect(!result.stderr.contains(scalar)) }
    }

    // MARK: - Stalls and endless answers

    @Test("a server that stalls its answer or pages forever cannot hold the device; the agent keeps serving meanwhile")
    func stallsAndEndlessPages() async throws {
        let setup = try await Setup()
        let a = try setup.registered(environment: ["COFFER_NETWORK_TIMEOUT": "3"])
        // The answer's head arrives, the body never finishes.
        setup.proxy.on("GET", "/api/v2/sync", times: 1, .stallBody(afterBytes: 8))
        let stalled = try a.run(["sync"])
        #expect(stalled.status == 8, "\(stalled.stderr)")
        #expect(stalled.stderr.contains("did not finish answering within 3 seconds"), "\(stalled.stderr)")

        // Pages that always say there is more.
        setup.proxy.on(
            "GET", "/api/v2/sync",
            .rewrite({ exchange in
                var changed = exchange
                var page = try Self.page(exchange.body)
                page.hasMore = true
                changed.body = try JSONEncoder().encode(page)
                return changed
            }))
        let endless = try a.run(["sync"])
        #expect(endless.status == 5, "\(endless.stderr)")
        #expect(endless.stderr.contains("more records wait but sent none"), "\(endless.stderr)")
        setup.proxy.reset()

        // While a sync waits on a server that never answers, the agent answers everything else.
        setup.proxy.on("GET", "/api/v2/sync", times: 1, .hang)
        let arrival = setup.proxy.expectRequest("GET", "/api/v2/sync")
        let syncing = try a.start(["sync"])
        await arrival.wait()
        #expect(try a.ok(["get", "Mail", "password"]) == "first\n")
        try a.ok(["add", "note", "--title", "Meanwhile"])
        let waited = try syncing.wait()
        #expect(waited.status == 8, "\(waited.stderr)")
        try a.ok(["sync"])
        #expect(try Self.snapshot(a).keys.sorted() == ["Mail", "Meanwhile", "Notes"])
    }

    // MARK: - Backups

    @Test("a backup download swapped for another backup, or altered, is refused and nothing is saved")
    func swappedBackup() async throws {
        let setup = try await Setup()
        let a = try setup.registered()
        try a.ok(["backup", "create", "--upload"])
        try a.ok(["add", "note", "--title", "Later"])
        try a.ok(["backup", "create", "--upload"])
        let listed = try #require(try a.json(["backup", "list", "--server", "--json"]) as? [[String: Any]])
        let ids = listed.compactMap { ($0["id"] as? String)?.lowercased() }
        #expect(ids.count == 2)
        let other = try setup.storedBackup(ids[1])
        setup.proxy.on(
            "GET", "/api/v1/backups/\(ids[0])", times: 1,
            .rewrite({ exchange in
                var changed = exchange
                changed.body = other
                return changed
            }))
        let folder = a.home.appendingPathComponent("backups")
        let filesBefore = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let swapped = try a.run(["backup", "download", ids[0]])
        #expect(swapped.status == 5, "\(swapped.stderr)")
        #expect(swapped.stderr.contains("another backup"), "\(swapped.stderr)")
        setup.proxy.on(
            "GET", "/api/v1/backups/\(ids[0])", times: 1,
            .rewrite({ exchange in
                var changed = exchange
                var bytes = [UInt8](exchange.body)
                bytes[bytes.count - 20] ^= 0x40
                changed.body = Data(bytes)
                return changed
            }))
        let altered = try a.run(["backup", "download", ids[0]])
        #expect(altered.status == 5, "\(altered.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []) == filesBefore)
        try a.ok(["backup", "download", ids[0]])
    }
}

extension HostileServerTests.Setup {
    /// The server's records as stored, read from its database file.
    func storedRecords() throws -> [WireRecord] {
        let database = try DatabaseQueue(path: server.databasePath)
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM records ORDER BY sequence").map { row in
                WireRecord(
                    id: UUID(uuidString: row["item_id"]) ?? UUID(), revision: row["revision"],
                    sequence: row["sequence"], isDeleted: (row["is_deleted"] as Int64) != 0,
                    wrappedKey: row["wrapped_key"], content: row["content"])
            }
        }
    }

    /// One stored backup's bytes, read from the server's database file.
    func storedBackup(_ id: String) throws -> Data {
        let database = try DatabaseQueue(path: server.databasePath)
        return try database.read { db in
            try Data.fetchAll(
                db, sql: "SELECT bytes FROM backup_chunks WHERE backup_id = ? ORDER BY chunk",
                arguments: [id.lowercased()]
            ).reduce(Data(), +)
        }
    }
}
