import CofferAPI
import CofferTestSupport
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What an everyday failure does to the server: a full disk, a request with the largest numbers.
@Suite("server robustness", .serialized)
struct RobustnessTests {
    /// A small tmpfs the test mounts for the server's data directory, so the disk really fills up.
    final class SmallDisk {
        let directory: URL

        init(megabytes: Int) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "coffer-disk-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let mount = Process()
            mount.executableURL = URL(fileURLWithPath: "/bin/mount")
            mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", directory.path]
            try mount.run()
            mount.waitUntilExit()
            guard mount.terminationStatus == 0 else {
                throw CocoaError(
                    .fileWriteNoPermission,
                    userInfo: [
                        NSLocalizedDescriptionKey:
                            "mounting a tmpfs failed: the full-disk test needs root (as make test has in CI)"
                    ])
            }
        }

        /// Writes zeros until the disk is full; returns the file to delete to make room again.
        func fill() throws -> URL {
            let filler = directory.appendingPathComponent("filler")
            _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
            let handle = try FileHandle(forWritingTo: filler)
            let chunk = Data(count: 64 * 1024)
            while (try? handle.write(contentsOf: chunk)) != nil {}
            try? handle.close()
            return filler
        }

        deinit {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = ["-l", directory.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
    }

    static func change(_ size: Int) -> PushChange {
        PushChange(
            id: UUID(), baseRevision: 0, isDeleted: false, wrappedKey: TestAccount.sealedBox(),
            content: Data([1]) + Data((0..<size).map { _ in UInt8.random(in: 0...255) }))
    }

    @Test(
        "a full disk answers 507 with Retry-After, readiness fails and the log says why; freeing space heals it, nothing acknowledged is lost"
    )
    func fullDisk() async throws {
        let disk = try SmallDisk(megabytes: 8)
        let server = try ServerProcess(dataDirectory: disk.directory.appendingPathComponent("data"))
        defer { server.stop() }
        let account = try await TestAccount.register(on: server)
        let token = account.session.accessToken
        let first = Self.change(1000)
        let stored = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(PushRequest(changes: [first])),
            token: token)
        #expect(stored.status == 200)

        let filler = try disk.fill()
        let refused = try await HTTP.send(
            "POST", server.url + "/api/v2/sync",
            body: try JSONEncoder().encode(PushRequest(changes: (0..<20).map { _ in Self.change(200_000) })),
            token: token)
        #expect(refused.status == 507, "\(String(decoding: refused.body, as: UTF8.self))")
        #expect(refused.headers["retry-after"] == "60")
        #expect(try JSONDecoder().decode(ErrorBody.self, from: refused.body).code == "insufficient-storage")
        let notReady = try await HTTP.send("GET", server.url + "/health/ready")
        #expect(notReady.status == 503)
        #expect(String(decoding: notReady.body, as: UTF8.self).contains("full"))
        #expect(server.exitStatus == nil, "the server keeps running")

        try FileManager.default.removeItem(at: filler)
        #expect(try await HTTP.send("GET", server.url + "/health/ready").status == 200)
        let second = Self.change(1000)
        let healed = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(PushRequest(changes: [second])),
            token: token)
        #expect(healed.status == 200)
        let page = try JSONDecoder().decode(
            SyncPage.self, from: try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token).body)
        #expect(page.records.map(\.id) == [first.id, second.id])
        let log = try String(contentsOf: server.logFile, encoding: .utf8)
        #expect(log.contains("the disk holding the database is full"))
    }

    @Test("the pull's own reader refuses expired and revoked access tokens, and sees new writes at once")
    func pullReaderChecksTokens() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let token = account.session.accessToken
        #expect(try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token).status == 200)
        let change = Self.change(100)
        _ = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(PushRequest(changes: [change])),
            token: token)
        let page = try JSONDecoder().decode(
            SyncPage.self, from: try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token).body)
        #expect(page.records.map(\.id) == [change.id])
        let empty = try JSONDecoder().decode(
            SyncPage.self,
            from: try await HTTP.send("GET", server.url + "/api/v2/sync?after=\(page.cursor)", token: token).body)
        #expect(empty.records.isEmpty && empty.cursor == page.cursor && !empty.hasMore)
        // Expired: the row aged in the real database file.
        let database = try DatabaseQueue(path: server.databasePath)
        try await database.write { db in
            try db.execute(sql: "UPDATE access_tokens SET expires_at = ?", arguments: [Date().addingTimeInterval(-1)])
        }
        #expect(try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token).status == 401)
        // Revoked: a fresh token for the same device stops working once the device is signed out.
        let refreshed = try await HTTP.send(
            "POST", server.url + "/api/v1/token/refresh",
            body: HTTP.json(["refreshToken": account.session.refreshToken]))
        let fresh = try JSONDecoder().decode(SessionResponse.self, from: refreshed.body).accessToken
        #expect(try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: fresh).status == 200)
        try await database.write { db in try db.execute(sql: "UPDATE devices SET revoked = 1") }
        #expect(try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: fresh).status == 401)
    }

    @Test(
        "eight large backup uploads at once: memory stays bounded, the ones over the limit are told to retry, bytes come back intact"
    )
    func concurrentLargeUploads() async throws {
        let server = try ServerProcess()
        let token = try await TestAccount.register(on: server).session.accessToken
        let body =
            Data("COFFERBK".utf8) + Data((0..<(40 * 1_048_576)).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) })
        let before = try #require(server.peakMemory)
        let ids = (0..<8).map { _ in UUID() }
        let statuses = try await withThrowingTaskGroup(of: (UUID, HTTP.Reply).self) { group in
            for id in ids {
                group.addTask {
                    (id, try await HTTP.send("PUT", server.url + "/api/v1/backups/\(id)", body: body, token: token))
                }
            }
            var replies: [UUID: HTTP.Reply] = [:]
            for try await (id, reply) in group { replies[id] = reply }
            return replies
        }
        let stored = statuses.filter { $0.value.status == 204 }.map(\.key)
        let busy = statuses.values.filter { $0.status == 503 }
        #expect(stored.count + busy.count == 8, "\(statuses.values.map(\.status))")
        #expect(!stored.isEmpty)
        #expect(busy.allSatisfy { $0.headers["retry-after"] != nil })
        let growth = try #require(server.peakMemory) - before
        #expect(growth < 160 * 1_048_576, "the server grew by \(growth / 1_048_576) MiB for 8 uploads of 40 MiB")
        let back = try await HTTP.send("GET", server.url + "/api/v1/backups/\(stored[0])", token: token)
        #expect(back.status == 200 && back.body == body)
        let junk = try await HTTP.send(
            "PUT", server.url + "/api/v1/backups/\(UUID())", body: Data("NOTABACKUP".utf8) + body.prefix(1000),
            token: token)
        #expect(junk.status == 400)
    }

    @Test("150 pulls and account reads at once all answer: no request waits for a thread another one holds")
    func concurrentPulls() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let token = account.session.accessToken
        _ = try await HTTP.send(
            "POST", server.url + "/api/v2/sync",
            body: try JSONEncoder().encode(PushRequest(changes: (0..<20).map { _ in Self.change(2000) })), token: token)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<150 {
                // Pulls with records, pulls without, and requests that read the account, all at once.
                let path = ["/api/v2/sync?after=0", "/api/v2/sync?after=20", "/api/v1/account"][index % 3]
                group.addTask { try await HTTP.send("GET", server.url + path, token: token).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 150 && statuses.allSatisfy { $0 == 200 }, "\(Set(statuses))")
        #expect(try await HTTP.send("GET", server.url + "/health").status == 200)
    }

    @Test("the server keeps its secret across restarts and refuses to start when the secret file is damaged")
    func lastingSecret() async throws {
        let server = try ServerProcess()
        let secretPath = server.dataDirectory.appendingPathComponent("server-secret").path
        let secret = try #require(FileManager.default.contents(atPath: secretPath))
        let mode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        #expect(secret.count == 32 && mode == 0o600)
        // Everything else the server writes is its own user's only (umask 077): directory, database, mail.
        _ = try await TestAccount.register(on: server)
        _ = try server.mail(to: "@example.org", containing: "verify-email")
        let mail = server.dataDirectory.appendingPathComponent("mail").path
        let mailFile = try #require(try FileManager.default.contentsOfDirectory(atPath: mail).first)
        for path in [server.dataDirectory.path, server.databasePath, mail, mail + "/" + mailFile] {
            let permissions = try #require(
                try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(permissions & 0o077 == 0, "\(path) is open to others: \(String(permissions, radix: 8))")
        }
        server.kill()
        try server.start()
        #expect(FileManager.default.contents(atPath: secretPath) == secret, "the same secret after a restart")
        server.kill()
        try Data("short".utf8).write(to: URL(fileURLWithPath: secretPath))
        #expect {
            try server.start()
        } throws: { error in
            "\(error)".contains("server secret") && "\(error)".contains("not 32 bytes")
        }
    }

    @Test("a database a newer server migrated is refused at start, with what to do; nothing is changed")
    func schemaFromTheFuture() async throws {
        let server = try ServerProcess()
        server.kill(signal: SIGTERM)
        let database = try DatabaseQueue(path: server.databasePath)
        try await database.write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a newer server')")
        }
        let applied = {
            try await database.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        }
        let before = try await applied()
        #expect {
            try server.start()
        } throws: { error in
            "\(error)".contains("upgraded by a newer coffer-server") && "\(error)".contains("Upgrading the server")
        }
        #expect(try await applied() == before, "no migration was run or undone")
    }

    @Test("readiness fails when the database file is removed underneath the server")
    func databaseRemoved() async throws {
        let server = try ServerProcess()
        #expect(try await HTTP.send("GET", server.url + "/health/ready").status == 200)
        try FileManager.default.removeItem(atPath: server.databasePath)
        let ready = try await HTTP.send("GET", server.url + "/health/ready")
        #expect(ready.status == 503)
        #expect(String(decoding: ready.body, as: UTF8.self).contains("removed or replaced"))
    }
}

/// Clients that hold connections open: half a request head, a body that never arrives, idle
/// connections, too many connections from one address.
@Suite("connection limits", .serialized)
struct ConnectionLimitTests {
    static func server(_ extra: [String: String] = [:]) throws -> ServerProcess {
        try ServerProcess(
            environment: [
                "COFFER_SERVER_HEAD_TIMEOUT": "1", "COFFER_SERVER_BODY_TIMEOUT": "1", "COFFER_SERVER_IDLE_TIMEOUT": "1",
            ].merging(extra) { _, new in new })
    }

    @Test("a request head that never completes, a body that never arrives and an idle connection are all closed")
    func slowClients() throws {
        let server = try Self.server()
        let slowHead = try RawConnection(to: server.url)
        slowHead.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        let missingBody = try RawConnection(to: server.url)
        missingBody.send(
            "POST /api/v1/prelogin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        let idle = try RawConnection(to: server.url)
        for connection in [slowHead, missingBody, idle] {
            let closed = try #require(connection.readUntilClosed(), "the server kept the connection open")
            #expect(closed.seconds < 10)
        }
        // A keep-alive connection is served, then closed once idle.
        let kept = try RawConnection(to: server.url)
        kept.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let served = try #require(kept.readUntilClosed())
        #expect(served.received.hasPrefix("HTTP/1.1 200"))
        #expect(server.exitStatus == nil)
    }

    @Test("one address cannot hold more than its share of connections; those it holds are still served")
    func connectionCap() async throws {
        let server = try Self.server([
            "COFFER_SERVER_CONNECTIONS_PER_ADDRESS": "3", "COFFER_SERVER_HEAD_TIMEOUT": "30",
            "COFFER_SERVER_IDLE_TIMEOUT": "30",
        ])
        let held = try (0..<3).map { _ in try RawConnection(to: server.url) }
        for connection in held {
            // Served, so surely counted (connections are set up on several threads, in any order).
            #expect(
                connection.exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?.hasPrefix("HTTP/1.1 200")
                    == true)
        }
        let refused = try RawConnection(to: server.url)
        refused.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let closed = try #require(refused.readUntilClosed(), "the fourth connection was kept open")
        #expect(closed.received.isEmpty, "it was closed without an answer")
        // The connections it holds are still served.
        #expect(held[0].exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?.hasPrefix("HTTP/1.1 200") == true)
        withExtendedLifetime(held) {}
    }

    @Test("behind a trusted proxy, limits count the forwarded client; without one, the header is ignored")
    func trustedProxy() async throws {
        // A small per-address limit keeps the test about the address, not about the machine's speed:
        // 6 logins must land inside the 5-minute window.
        let limit = ["COFFER_SERVER_ATTEMPTS_PER_ADDRESS": "5"]
        func logins(_ server: ServerProcess, forwardedFor address: String, count: Int = 6) async throws -> [Int] {
            var statuses: [Int] = []
            for index in 0..<count {
                let body = try JSONEncoder().encode(
                    LoginRequest(
                        email: "user\(index)@example.org", authKey: Data(count: 32),
                        device: DeviceInfo(id: UUID(), name: "x")))
                statuses.append(
                    try await HTTP.send(
                        "POST", server.url + "/api/v1/login", body: body, headers: ["X-Forwarded-For": address]
                    ).status)
            }
            return statuses
        }
        let proxied = try ServerProcess(arguments: ["--trusted-proxy", "127.0.0.1/32"], environment: limit)
        #expect(try await logins(proxied, forwardedFor: "198.51.100.7") == [401, 401, 401, 401, 401, 429])
        #expect(
            try await logins(proxied, forwardedFor: "198.51.100.8", count: 1) == [401], "another client is not limited")
        let direct = try ServerProcess(environment: limit)
        _ = try await logins(direct, forwardedFor: "198.51.100.7")
        #expect(
            try await logins(direct, forwardedFor: "198.51.100.8", count: 1) == [429], "a forged header changes nothing"
        )
    }
}
