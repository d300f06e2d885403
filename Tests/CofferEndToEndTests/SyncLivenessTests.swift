import CofferTestSupport
import Foundation
import GRDB
import Testing

/// An honest server that fails, a device killed at the worst moment, a user who purges while a
/// sync runs: none of it may jam an account, sign a device out for good, or bring a purged item back.
@Suite("sync survives interruptions and keeps the user's intent", .serialized)
struct SyncLivenessTests {
    static let password = SyncTests.password
    static let unlock = password + "\n"

    static func titles(_ device: CofferCLI, scope: String = "--all") throws -> [String] {
        let list = try #require(
            try device.json(["list", scope, "--json", "--password-stdin"], stdin: unlock) as? [[String: Any]])
        return list.compactMap { $0["title"] as? String }.sorted()
    }

    @Test(
        "a device killed between pushing and publishing, or after the server rotated its sign-in: every device syncs on, nothing lost",
        arguments: ["sync.pushed", "sync.published", "token.rotated"])
    func killedMidSync(step: String) throws {
        let devices = try SyncTests.TwoDevices { a in try a.ok(["add", "note", "--title", "Before"]) }
        let (a, b, server) = (devices.a, devices.b, devices.server)
        var killedDevice = a
        if step == "token.rotated" {
            // A sign-in's first refresh: the server rotated the token, the device never saved the new one.
            let c = try CofferCLI()
            let killed = try c.run(
                ["login", "--server", server.url, "--email", devices.email, "--device-name", "C", "--password-stdin"],
                stdin: Self.unlock, environment: ["COFFER_CRASH_AT": step])
            #expect(killed.status == 137, "killed at \(step): \(killed.status) \(killed.stderr)")
            try c.ok(["sync", "--password-stdin"], stdin: Self.unlock)
            try c.ok(["add", "note", "--title", "Pending", "--password-stdin"], stdin: Self.unlock)
            killedDevice = c
        } else {
            // Without an agent, the change and its sync run in this process, which dies at `step`.
            try a.ok(["lock"])
            let killed = try a.run(
                ["add", "note", "--title", "Pending", "--password-stdin"], stdin: Self.unlock,
                environment: ["COFFER_CRASH_AT": step])
            #expect(killed.status == 137, "killed at \(step): \(killed.status) \(killed.stderr)")
        }
        // The other device syncs as if nothing happened; a new device can sign in.
        let other = try b.run(["sync"])
        #expect(other.status == 0, "\(step): \(other.stderr)")
        let fresh = try CofferCLI()
        let joined = try fresh.run(
            ["login", "--server", server.url, "--email", devices.email, "--password-stdin"], stdin: Self.unlock)
        #expect(joined.status == 0, "\(step): \(joined.stderr)")
        // The device that was killed finishes the job at its next sync; then everyone has everything.
        try killedDevice.ok(["sync", "--password-stdin"], stdin: Self.unlock)
        try b.ok(["sync"])
        try fresh.ok(["sync"])
        for device in [a, b, fresh, killedDevice] {
            try device.ok(["sync", "--password-stdin"], stdin: Self.unlock)
            #expect(try Self.titles(device) == ["Before", "Pending"], "\(step)")
        }
    }

    @Test("a manifest update the server fails leaves the pushed change to the next sync; no device is stuck")
    func failedPublication() async throws {
        let server = try ServerProcess()
        let proxy = try await HostileProxy(upstream: server.url)
        let email = "liveness-\(UUID().uuidString.prefix(6))@example.org"
        let a = try CofferCLI()
        try a.ok(
            ["register", "--server", proxy.url, "--email", email, "--password-stdin"], stdin: Self.unlock)
        try a.ok(["sync"])
        let b = try CofferCLI()
        try b.ok(["login", "--server", proxy.url, "--email", email, "--password-stdin"], stdin: Self.unlock)
        proxy.on("PUT", "/api/v2/manifest", .respond(status: 500, body: Data(#"{"code":"x","message":"boom"}"#.utf8)))
        try a.ok(["add", "note", "--title", "Unpublished"])
        #expect(try a.run(["sync"]).status == 9)
        #expect(proxy.count("POST", "/api/v2/sync") >= 1, "the change itself reached the server")
        let meanwhile = try b.run(["sync"])
        #expect(meanwhile.status == 0, "\(meanwhile.stderr)")
        #expect(try Self.titles(b) == [], "nothing unpublished is applied")
        proxy.reset()
        try a.ok(["sync"])
        try b.ok(["sync"])
        #expect(try Self.titles(b) == ["Unpublished"])
    }

    @Test("rm then purge, with the automatic sync racing them, many times: gone on every device and on the server")
    func purgeSticks() throws {
        let devices = try SyncTests.TwoDevices()
        let (a, b, server) = (devices.a, devices.b, devices.server)
        for index in 0..<12 {
            let title = "Gone \(index)"
            try a.ok(["add", "note", "--title", title])
            if index % 3 == 0 { try a.ok(["sync"]) }
            try a.ok(["rm", title])
            if index % 3 == 1 { try a.ok(["sync"]) }
            let purged = try a.ok(["purge", title, "--yes"])
            #expect(purged.contains("Deleted for good") || purged.isEmpty, "\(purged)")
        }
        try a.ok(["add", "note", "--title", "Kept"])
        for _ in 0..<2 {
            try a.ok(["sync"])
            try b.ok(["sync"])
        }
        #expect(try Self.titles(a) == ["Kept"])
        #expect(try Self.titles(b) == ["Kept"])
        let database = try DatabaseQueue(path: server.databasePath)
        let live = try database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE is_deleted = 0")
        }
        #expect(live == 1, "only Kept is live on the server")
    }

    @Test("the rollback high-water mark survives logout and login, and lowering it in the file is caught")
    func watermarkSurvivesLogout() throws {
        let devices = try SyncTests.TwoDevices { a in try a.ok(["add", "note", "--title", "One"]) }
        let (a, server) = (devices.a, devices.server)
        let database = try DatabaseQueue(path: server.databasePath)
        let saved = try SyncTests.ServerSnapshot(of: database)
        try a.ok(["add", "note", "--title", "Two"])
        try a.ok(["sync"])
        try a.ok(["logout"])
        // The server goes back to the older state (an attacker, or a restore nobody told the device about).
        try saved.putBack(into: database)
        // Signing in works; the sync after it stops and says why and how to put the data back.
        let login = try a.run(
            ["login", "--server", server.url, "--email", devices.email, "--password-stdin"], stdin: Self.unlock)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("older state") && login.stderr.contains("coffer sync --yes"), "\(login.stderr)")
        #expect(try Self.titles(a) == ["One", "Two"])
        let refused = try a.run(["sync"])
        #expect(refused.status == 5 && refused.stderr.contains("older state"), "\(refused.stderr)")
        #expect(try Self.titles(a) == ["One", "Two"])

        // Someone with the file lowers the remembered counter: the MAC no longer verifies.
        let vault = try DatabaseQueue(path: a.vaultFile.path)
        try vault.write { db in try db.execute(sql: "UPDATE serverWatermark SET counter = 0") }
        let tampered = try a.run(["sync", "--password-stdin"], stdin: Self.unlock)
        #expect(tampered.status == 5, "\(tampered.stderr)")
        #expect(tampered.stderr.contains("changed outside Coffer"), "\(tampered.stderr)")
    }

    @Test("a sync with nothing new is one small request: no refresh, no manifest download, no upload")
    func noChangeSyncIsOneRequest() async throws {
        let server = try ServerProcess()
        let proxy = try await HostileProxy(upstream: server.url)
        let a = try CofferCLI()
        try a.ok(
            ["register", "--server", proxy.url, "--email", "quiet@example.org", "--password-stdin"], stdin: Self.unlock)
        for index in 0..<20 { try a.ok(["add", "note", "--title", "Note \(index)"]) }
        try a.ok(["sync"])
        let before = (
            pulls: proxy.count("GET", "/api/v2/sync"), pushes: proxy.count("POST", "/api/v2/sync"),
            refreshes: proxy.count("POST", "/api/v1/token/refresh"), publishes: proxy.count("PUT", "/api/v2/manifest")
        )
        try a.ok(["sync"])
        #expect(proxy.count("GET", "/api/v2/sync") == before.pulls + 1)
        #expect(proxy.count("POST", "/api/v2/sync") == before.pushes)
        #expect(proxy.count("POST", "/api/v1/token/refresh") == before.refreshes)
        #expect(proxy.count("PUT", "/api/v2/manifest") == before.publishes)
    }
}
