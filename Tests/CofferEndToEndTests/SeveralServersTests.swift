import CofferTestSupport
import Foundation
import GRDB
import Testing

/// Two real `coffer-server` processes on one real PostgreSQL, behind a real HAProxy, with two real
/// devices: what a deployment that outgrew one machine runs.
@Suite("several servers on one PostgreSQL database behind a load balancer", .serialized)
struct SeveralServersTests {
    /// A Bitwarden CSV of `count` logins named `prefix N`.
    static func logins(_ prefix: String, count: Int) -> String {
        "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n"
            + (0..<count).map {
                ",,login,\(prefix) \($0),,,0,https://site\($0).example,user\($0),\(prefix)-pass-\($0),"
            }
            .joined(separator: "\n") + "\n"
    }

    static func titles(_ cli: CofferCLI) throws -> [String] {
        let list = try #require(try cli.json(["list", "--json"]) as? [[String: Any]])
        return list.compactMap { $0["title"] as? String }.sorted()
    }

    /// Two servers on one new database of the shared test cluster, with one secret file.
    static func twoServers(on url: String) throws -> (ServerProcess, ServerProcess) {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        let environment = ["COFFER_SERVER_DATABASE_URL": url, "COFFER_SERVER_SECRET_FILE": secret.path]
        return (try ServerProcess(environment: environment), try ServerProcess(environment: environment))
    }

    /// Asks `server` whether it is ready until it says so: after the database restarted, each server's
    /// first requests find their pooled connections closed, and the pool opens new ones.
    static func waitUntilReady(_ server: ServerProcess) async throws {
        for _ in 0..<100 where try await HTTP.send("GET", server.url + "/health/ready").status != 200 {}
        #expect(try await HTTP.send("GET", server.url + "/health/ready").status == 200)
    }

    @Test(
        "200 items and edits flow both ways; a server SIGKILLed mid-push and a database restart lose and duplicate nothing"
    )
    func convergence() async throws {
        let database = try PostgreSQLCluster.dedicated()
        let url = try database.createDatabase()
        let (first, second) = try Self.twoServers(on: url)
        let balancer = try LoadBalancer(backends: [first.url, second.url])
        let (a, b) = (try CofferCLI(), try CofferCLI())
        let email = "team-\(UUID().uuidString.prefix(6))@example.org"
        try a.ok(
            ["register", "--server", balancer.url, "--email", email, "--device-name", "A", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        let batch = a.home.appendingPathComponent("first.csv")
        try Data(Self.logins("Site", count: 200).utf8).write(to: batch)
        try a.ok(["import", batch.path, "--yes"])
        try a.ok(["sync"])
        try b.ok(
            ["login", "--server", balancer.url, "--email", email, "--device-name", "B", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        #expect(try Self.titles(b).count == 200)
        for index in 0..<20 { try b.ok(["edit", "Site \(index)", "--username", "edited-by-b-\(index)"]) }
        try b.ok(["sync"])
        try a.ok(["sync"])
        #expect(try a.ok(["get", "Site 7", "username"]) == "edited-by-b-7\n")

        // A pushes 100 more while one server dies with SIGKILL; the balancer sends the rest to the other.
        let more = a.home.appendingPathComponent("second.csv")
        try Data(Self.logins("Late", count: 100).utf8).write(to: more)
        let pushing = try a.start(["import", more.path, "--yes"])
        first.kill()
        #expect(try pushing.wait().status == 0)
        try a.ok(["sync"])
        try b.ok(["sync"])

        // The database restarts under the surviving server; it reconnects.
        try database.restart()
        try await Self.waitUntilReady(second)
        try first.start()
        try await Self.waitUntilReady(first)
        for index in 0..<10 { try a.ok(["edit", "Late \(index)", "--username", "after-restart-\(index)"]) }
        try a.ok(["sync"])
        try b.ok(["sync"])

        let (titlesA, titlesB) = (try Self.titles(a), try Self.titles(b))
        #expect(titlesA.count == 300 && Set(titlesA).count == 300, "nothing lost or duplicated on A")
        #expect(titlesA == titlesB)
        #expect(try b.ok(["get", "Late 3", "username"]) == "after-restart-3\n")
        #expect(try b.ok(["get", "Late 99", "password"]) == "Late-pass-99\n")
        #expect(try a.ok(["get", "Site 19", "username"]) == "edited-by-b-19\n")
        let served = try await balancer.requestsPerBackend()
        #expect(served.count == 2 && served.allSatisfy { $0 > 0 }, "both servers answered: \(served)")
        // Both servers lived through the database restart; asked to stop, they stop (within their
        // 10 s of graceful shutdown and 10 s of cancellation).
        #expect(second.stop(within: .seconds(30)), "the server that lived through the restart stops on SIGTERM")
        #expect(first.stop(within: .seconds(30)), "the restarted server stops on SIGTERM")
    }

    @Test("a server whose secret differs from the others' refuses to start, and says what to do")
    func differentSecretRefused() throws {
        let url = try PostgreSQLCluster.shared().createDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        let first = try ServerProcess(
            environment: [
                "COFFER_SERVER_DATABASE_URL": url,
                "COFFER_SERVER_SECRET_FILE": directory.appendingPathComponent("one").path,
            ])
        #expect(first.processIdentifier != nil)
        #expect(throws: (any Error).self) {
            _ = try ServerProcess(
                environment: [
                    "COFFER_SERVER_DATABASE_URL": url,
                    "COFFER_SERVER_SECRET_FILE": directory.appendingPathComponent("two").path,
                ])
        }
    }

    @Test("a password in --database-url is refused before anything starts; a bad URL says what is wrong")
    func databaseURLChecks() throws {
        let server = try ServerProcess.binary(named: "coffer-server")
        let withPassword = try Program.run(
            server.path, ["migrate", "--database-url", "postgres://coffer:hunter2-canary@127.0.0.1:5432/coffer"])
        #expect(withPassword.status != 0)
        #expect(withPassword.output.contains("COFFER_SERVER_DATABASE_URL"))
        #expect(!withPassword.output.contains("hunter2-canary"))
        let bad = try Program.run(server.path, ["migrate", "--database-url", "mysql://x@y/z"])
        #expect(bad.status != 0 && bad.output.contains("postgres://USER@HOST:PORT/DATABASE"), "\(bad.output)")
        // A password given the right way never shows up when the database cannot be reached.
        let unreachable = "postgres://coffer:hunter3-canary@127.0.0.1:\(try LoopbackPort.unused())/coffer"
        do {
            _ = try ServerProcess(environment: ["COFFER_SERVER_DATABASE_URL": unreachable])
            Issue.record("a server without its database started")
        } catch {
            #expect(!"\(error)".contains("hunter3-canary"))
            #expect("\(error)".contains("cannot be reached"), "\(error)")
        }
        let url = try PostgreSQLCluster.shared().createDatabase()
        let migrated = try Program.run(server.path, ["migrate", "--database-url", url])
        #expect(migrated.status == 0, "\(migrated.output)")
        #expect(try Program.run(server.path, ["migrate", "--database-url", url]).status == 0)
    }
}

/// Moving a deployment from SQLite to PostgreSQL with `coffer-server copy-data`.
@Suite("copy-data: from SQLite to PostgreSQL", .serialized)
struct CopyDataTests {
    static func recordsSummary(_ cluster: PostgreSQLCluster, _ url: String) throws -> String {
        try cluster.psql(
            "SELECT count(*), max(sequence) FROM records", database: String(url.split(separator: "/").last ?? ""))
    }

    @Test(
        "a populated SQLite server copies, verifies, refuses a second copy, and devices go on syncing with no re-upload"
    )
    func copyThenSync() throws {
        let server = try ServerProcess()
        let (a, b) = (try CofferCLI(), try CofferCLI())
        let email = "move-\(UUID().uuidString.prefix(6))@example.org"
        try a.ok(
            ["register", "--server", server.url, "--email", email, "--device-name", "A", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        let batch = a.home.appendingPathComponent("items.csv")
        try Data(SeveralServersTests.logins("Moved", count: 30).utf8).write(to: batch)
        try a.ok(["import", batch.path, "--yes"])
        try a.ok(["rm", "Moved 29"])
        try a.ok(["sync"])
        try b.ok(
            ["login", "--server", server.url, "--email", email, "--device-name", "B", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        server.stop()

        let cluster = try PostgreSQLCluster.shared()
        let url = try cluster.createDatabase()
        let binary = try ServerProcess.binary(named: "coffer-server").path
        let copied = try Program.run(
            binary, ["copy-data", "--from", "sqlite:\(server.dataDirectory.path)", "--to", url])
        #expect(copied.status == 0, "\(copied.output)")
        #expect(
            copied.output.contains("records: 30 rows") && copied.output.contains("Copied and verified"),
            "\(copied.output)")
        let again = try Program.run(
            binary, ["copy-data", "--from", "sqlite:\(server.dataDirectory.path)", "--to", url])
        #expect(again.status != 0 && again.output.contains("not empty"), "\(again.output)")
        let before = try Self.recordsSummary(cluster, url)

        server.environment["COFFER_SERVER_DATABASE_URL"] = url
        try server.start()
        try a.ok(["sync"])
        try b.ok(["sync"])
        #expect(try Self.recordsSummary(cluster, url) == before, "no device uploaded its items again")
        #expect(try SeveralServersTests.titles(b).count == 29)
        try b.ok(["add", "note", "--title", "After the move"])
        try b.ok(["sync"])
        try a.ok(["sync"])
        #expect(try a.ok(["get", "Moved 5", "password"]) == "Moved-pass-5\n")
        #expect(try SeveralServersTests.titles(a).contains("After the move"))
    }
}

extension CopyDataTests {
    @Test("a source value the target's type cannot hold stops the copy, names table and column, and says what to do")
    func unconvertibleValue() throws {
        let server = try ServerProcess()
        try CofferCLI().ok(
            [
                "register", "--server", server.url, "--email", "odd-\(UUID().uuidString.prefix(6))@example.org",
                "--device-name", "A", "--password-stdin",
            ], stdin: SyncTests.password + "\n")
        server.stop()
        // As a hand edit would leave it: a time SQLite keeps as any text.
        let database = try DatabaseQueue(path: server.databasePath)
        try database.write { try $0.execute(sql: "UPDATE devices SET last_seen_at = 'a while ago'") }
        try database.close()

        let url = try PostgreSQLCluster.shared().createDatabase()
        let copied = try Program.run(
            try ServerProcess.binary(named: "coffer-server").path,
            ["copy-data", "--from", "sqlite:\(server.dataDirectory.path)", "--to", url])
        #expect(copied.status != 0)
        #expect(copied.output.contains("devices.last_seen_at"), "\(copied.output)")
        #expect(copied.output.contains("drop the target database"), "\(copied.output)")
        #expect(!copied.output.contains("Fatal error"), "\(copied.output)")
        let after = try DatabaseQueue(path: server.databasePath)
        #expect(try after.read { try String.fetchAll($0, sql: "SELECT last_seen_at FROM devices") } == ["a while ago"])
    }
}

/// The documented PostgreSQL backup: pg_dump while the server runs, pg_restore into an empty
/// database, record-restore, start.
@Suite("PostgreSQL backup and restore, as docs/operations.md says", .serialized)
struct PostgreSQLBackupTests {
    @Test("a pg_dump restored and recorded: the device keeps its newer data and puts it back")
    func dumpAndRestore() throws {
        let cluster = try PostgreSQLCluster.dedicated()
        let url = try cluster.createDatabase()
        let name = String(url.split(separator: "/").last ?? "")
        let server = try ServerProcess(environment: ["COFFER_SERVER_DATABASE_URL": url])
        let a = try CofferCLI()
        try a.ok(
            ["register", "--server", server.url, "--email", "dump@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        for index in 0..<5 { try a.ok(["add", "note", "--title", "Before \(index)"]) }
        try a.ok(["sync"])
        let dump = cluster.directory.appendingPathComponent("coffer.dump")
        let tools = URL(fileURLWithPath: "/usr/lib/postgresql")
        let version = try #require(
            try FileManager.default.contentsOfDirectory(atPath: tools.path).compactMap(Int.init).max())
        let bin = tools.appendingPathComponent("\(version)/bin")
        let dumped = try Program.run(
            bin.appendingPathComponent("pg_dump").path, ["--format=custom", "--file=\(dump.path)", url])
        try #require(dumped.status == 0, "\(dumped.output)")
        for index in 0..<3 { try a.ok(["add", "note", "--title", "After \(index)"]) }
        try a.ok(["sync"])

        server.stop()
        try cluster.psql("DROP DATABASE \(name)", database: "postgres")
        try cluster.psql("CREATE DATABASE \(name)", database: "postgres")
        let restored = try Program.run(bin.appendingPathComponent("pg_restore").path, ["--dbname=\(url)", dump.path])
        try #require(restored.status == 0, "\(restored.output)")
        let recorded = try Program.run(
            try ServerProcess.binary(named: "coffer-server").path, ["record-restore", "--database-url", url])
        #expect(recorded.status == 0 && recorded.output.contains("for 1 account"), "\(recorded.output)")
        try server.start()

        let refused = try a.run(["sync"])
        #expect(refused.status == 5 && refused.stderr.contains("restored it from a backup"), "\(refused.stderr)")
        let healed = try a.run(["sync", "--yes"])
        #expect(healed.status == 0, "\(healed.stderr)")
        let b = try CofferCLI()
        try b.ok(
            ["login", "--server", server.url, "--email", "dump@example.org", "--password-stdin"],
            stdin: SyncTests.password + "\n")
        #expect(try SeveralServersTests.titles(b).count == 8, "the 3 items newer than the dump came back from A")
    }
}
