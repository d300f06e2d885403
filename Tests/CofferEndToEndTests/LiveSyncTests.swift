import CofferAPI
import CofferTestSupport
import Foundation
import Testing

/// An unlocked device hears of another device's change from the server's change stream and syncs
/// within moments, without any command on it.
@Suite("live sync: changes reach an unlocked device without polling", .serialized)
struct LiveSyncTests {
    /// How long B may take to hold what A pushed.
    static let budget: TimeInterval = 2

    /// Lists B's titles (a read: it never syncs) until `title` is there or `deadline` seconds passed;
    /// returns how long that took, or `nil`.
    static func secondsUntil(_ device: CofferCLI, lists title: String, within deadline: TimeInterval) throws
        -> TimeInterval?
    {
        let start = Date()
        repeat {
            let list = try #require(try device.json(["list", "--json"]) as? [[String: Any]])
            if list.contains(where: { $0["title"] as? String == title }) { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date().timeIntervalSince(start) < deadline
        return nil
    }

    /// Two devices of a new account: A registered on `serverA`, B signed in on `serverB`.
    static func twoDevices(serverA: String, serverB: String, environment: [String: String] = [:]) throws -> (
        CofferCLI, CofferCLI
    ) {
        let (a, b) = (try CofferCLI(), try CofferCLI())
        (a.environment, b.environment) = (environment, environment)
        let email = "live-\(UUID().uuidString.prefix(6))@example.org"
        try a.ok(
            ["register", "--server", serverA, "--email", email, "--device-name", "A", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        try b.ok(
            ["login", "--server", serverB, "--email", email, "--device-name", "B", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        return (a, b)
    }

    /// A registers on `serverA`, B logs in on `serverB` (one server or two on one database); then
    /// A's additions must reach B's vault within the budget.
    static func changesReachB(serverA: String, serverB: String, environment: [String: String] = [:]) throws {
        let (a, b) = try twoDevices(serverA: serverA, serverB: serverB, environment: environment)
        // The first change also shows B's stream is up (B syncs once when it connects).
        try a.ok(["add", "note", "--title", "Warm-up"])
        #expect(try secondsUntil(b, lists: "Warm-up", within: 15) != nil, "B never received the first change")
        for round in 1...3 {
            try a.ok(["add", "note", "--title", "Live \(round)"])
            let took = try secondsUntil(b, lists: "Live \(round)", within: 10)
            #expect(took != nil && took! < budget, "round \(round): B held A's change after \(took ?? -1) s")
        }
    }

    @Test("one server (SQLite): A's change is in B's vault within 2 s")
    func oneServer() throws {
        let server = try ServerProcess()
        try Self.changesReachB(serverA: server.url, serverB: server.url)
    }

    @Test(
        "a hostile change stream (an endless line, impossible numbers) neither crashes nor jams the device; it recovers"
    )
    func hostileStream() async throws {
        let server = try ServerProcess()
        let proxy = try await HostileProxy(upstream: server.url)
        let garbage =
            "retry: 0\ndata: -5\n\ndata: 99999999999999999999999\n\ndata: 0x10\n\ndata: 5 5\n\n"
            + String(repeating: "x", count: 4 << 20) + "\ndata: 1\n\n"
        proxy.on("GET", "/api/v2/changes", .respond(status: 200, body: Data(garbage.utf8)))
        let (a, b) = try Self.twoDevices(serverA: server.url, serverB: proxy.url)
        // B's agent is unlocked and listening: it reads the hostile stream, drops it at the line
        // limit, and connects again after a pause.
        let deadline = Date().addingTimeInterval(20)
        while proxy.count("GET", "/api/v2/changes") < 2 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(proxy.count("GET", "/api/v2/changes") >= 2, "B never came back after the hostile stream")
        #expect(try b.json(["list", "--json"]) is [Any], "B's agent no longer answers")
        // The stream speaks sense again (this proxy answers whole bodies, so a short one): the next
        // hint makes B sync, and the sync verifies what it pulls as always.
        try a.ok(["add", "note", "--title", "After the storm"])
        proxy.reset()
        proxy.on(
            "GET", "/api/v2/changes",
            .respond(
                status: 200,
                body: Data((ChangeAnnouncement.greeting + ChangeAnnouncement.event(sequence: 1 << 40)).utf8)))
        #expect(try Self.secondsUntil(b, lists: "After the storm", within: 30) != nil)
    }

    @Test("two servers on one PostgreSQL: A on one, B on the other; the change crosses within 2 s")
    func acrossServers() throws {
        let url = try PostgreSQLCluster.shared().createDatabase()
        let (first, second) = try SeveralServersTests.twoServers(on: url)
        try Self.changesReachB(serverA: first.url, serverB: second.url)
    }
}
