public import Foundation
import Synchronization

/// A real PostgreSQL server from Debian's `postgresql` package, started once per test process in a
/// temporary directory on a free loopback port, and stopped when the process exits.
///
/// Tests about PostgreSQL need it: when it is not installed the tests fail with what to install
/// (`make test` installs it), never skip.
public final class PostgreSQLCluster: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The superuser tests connect as (trust authentication on loopback only).
    public let user = "coffer"
    /// Its directory (data, socket, log).
    public let directory: URL
    private let binaries: URL

    /// The cluster most tests of this process share.
    public static func shared() throws -> PostgreSQLCluster {
        try started.get()
    }

    /// A cluster of its own, for a test that restarts or stops the database.
    public static func dedicated() throws -> PostgreSQLCluster {
        try PostgreSQLCluster()
    }

    private static let started: Result<PostgreSQLCluster, Unavailable> = {
        do {
            return .success(try PostgreSQLCluster())
        } catch let error as Unavailable {
            return .failure(error)
        } catch {
            return .failure(Unavailable(description: "PostgreSQL for the tests could not start: \(error)"))
        }
    }()

    /// Why the cluster could not start.
    public struct Unavailable: Error, CustomStringConvertible {
        /// What went wrong and what to do.
        public var description: String
    }

    private init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw Unavailable(
                description:
                    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); `make test` installs Debian's postgresql, or run `apt-get install postgresql`."
            )
        }
        binaries = URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-postgresql-\(UUID().uuidString.prefix(8))")
        port = try LoopbackPort.unused()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // PostgreSQL refuses to run as root; as root (CI) the cluster belongs to Debian's postgres user.
        if getuid() == 0 {
            try Self.check(Program.run("/bin/chown", ["postgres:postgres", directory.path]), "chown")
        }
        let data = directory.appendingPathComponent("data").path
        try check(
            run("initdb", ["-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
            "initdb")
        // fsync off: a test stops PostgreSQL, never the machine, so the page cache keeps every commit.
        // synchronous_commit stays on: with it off, an immediate restart loses the last commits, which
        // devices rightly report as a rolled-back server.
        let options = [
            "-c listen_addresses=127.0.0.1", "-p \(port)", "-k \(directory.path)", "-c fsync=off",
            "-c max_connections=300",
        ].joined(separator: " ")
        try check(
            run(
                "pg_ctl",
                [
                    "-D", data, "-l", directory.appendingPathComponent("postgresql.log").path, "-o", options, "-w",
                    "start",
                ]),
            "pg_ctl start")
        Self.stopAtExit(self)
    }

    /// A new, empty database; its `postgres://` URL.
    public func createDatabase() throws -> String {
        let name = "coffer_test_\(UUID().uuidString.prefix(8).lowercased())"
        try check(
            Program.run(
                "/usr/bin/psql",
                ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres", "-c", "CREATE DATABASE \(name)"]),
            "CREATE DATABASE")
        return url(database: name)
    }

    /// The URL of `database` on this cluster.
    public func url(database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs `sql` in `database` with psql; returns what it printed (tuples only, unaligned).
    @discardableResult
    public func psql(_ sql: String, database: String) throws -> String {
        let result = try Program.run(
            "/usr/bin/psql",
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c",
                sql,
            ])
        try check(result, "psql")
        return result.output
    }

    /// Stops the server at once (as a crash would) and starts it again on the same port.
    public func restart() throws {
        let data = directory.appendingPathComponent("data").path
        let log = directory.appendingPathComponent("postgresql.log").path
        try check(run("pg_ctl", ["-D", data, "-l", log, "-m", "immediate", "-w", "restart"]), "pg_ctl restart")
    }

    /// Runs a PostgreSQL tool without handing it this process's descriptors: `pg_ctl start` leaves
    /// the server running with whatever it inherited, and Foundation's `Process` learns that a child
    /// ended from a descriptor every child inherits — held open by the server, no child of the test
    /// runner would ever be reaped again.
    private func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let path = binaries.appendingPathComponent(tool).path
        if getuid() == 0 {
            return try Program.runWithoutInheritedDescriptors(
                "/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
        }
        return try Program.runWithoutInheritedDescriptors(path, arguments)
    }

    private func check(_ result: (status: Int32, output: String), _ step: String) throws {
        try Self.check(result, step)
    }

    private static func check(_ result: (status: Int32, output: String), _ step: String) throws {
        guard result.status == 0 else {
            throw Unavailable(description: "PostgreSQL for the tests: \(step) failed: \(result.output)")
        }
    }

    /// Registers `cluster` to be stopped when the test process exits: `atexit` takes a plain C
    /// function, which can only reach a global.
    private static func stopAtExit(_ cluster: PostgreSQLCluster) {
        let first = clustersToStop.withLock { clusters in
            clusters.append(cluster)
            return clusters.count == 1
        }
        guard first else { return }
        atexit {
            for cluster in PostgreSQLCluster.clustersToStop.withLock({ $0 }) {
                let data = cluster.directory.appendingPathComponent("data").path
                _ = try? cluster.run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
                try? FileManager.default.removeItem(at: cluster.directory)
            }
        }
    }

    private static let clustersToStop = Mutex<[PostgreSQLCluster]>([])
}
