import CofferAPI
import CofferTestSupport
import Foundation
import GRDB
import Testing

/// Server-held backups and the quarantine are how a user gets back what they lost. One session (or
/// one mailbox) must not be able to destroy them: no eviction to make room, and a deletion takes the
/// password, a mailed link and a waiting period during which any device can cancel.
@Suite("safety nets: backups are never evicted, deletions wait and can be cancelled", .serialized)
struct SafetyNetTests {
    static func backupBytes(_ marker: String) -> Data {
        Data("COFFERBK".utf8) + Data(marker.utf8) + Data((0..<4096).map { _ in UInt8.random(in: 0...255) })
    }

    static func upload(_ bytes: Data, id: UUID, account: TestAccount) async throws -> HTTP.Reply {
        try await HTTP.send(
            "PUT", account.server.url + "/api/v1/backups/\(id.uuidString.lowercased())", body: bytes,
            token: account.session.accessToken, headers: ["Content-Type": "application/octet-stream"])
    }

    static func backups(_ account: TestAccount) async throws -> [ServerBackup] {
        let reply = try await HTTP.send(
            "GET", account.server.url + "/api/v1/backups", token: account.session.accessToken)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode([ServerBackup].self, from: reply.body)
    }

    static func requestDeletion(_ account: TestAccount, backup: UUID, authKey: Data) async throws -> HTTP.Reply {
        try await HTTP.send(
            "POST", account.server.url + "/api/v1/account/deletions",
            body: HTTP.json([
                "what": "backup", "backupID": backup.uuidString.lowercased(),
                "currentAuthKey": authKey.base64EncodedString(),
            ]), token: account.session.accessToken)
    }

    static func pending(_ account: TestAccount) async throws -> [PendingDeletion] {
        let reply = try await HTTP.send(
            "GET", account.server.url + "/api/v1/account/deletions", token: account.session.accessToken)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode([PendingDeletion].self, from: reply.body)
    }

    /// Asks for a backup's deletion and returns the confirmation link mailed for it: page, id, token.
    static func requestAndLink(_ account: TestAccount, backup: UUID) async throws -> (
        url: String, id: String, token: String
    ) {
        let reply = try await requestDeletion(account, backup: backup, authKey: account.authKey)
        #expect(reply.status == 202)
        let id = try #require(reply.json?["id"] as? String).lowercased()
        return try link(account, id: id)
    }

    /// The confirmation link mailed for deletion `id`: its page, id and token.
    static func link(_ account: TestAccount, id: String) throws -> (url: String, id: String, token: String) {
        let mail = try account.server.mail(to: account.email, containing: "/portal/deletion?id=\(id)")
        let url = try #require(
            mail.split(whereSeparator: \.isWhitespace).first { $0.contains("/portal/deletion?") }.map(String.init))
        let query = try #require(URLComponents(string: url)?.queryItems)
        let id = try #require(query.first { $0.name == "id" }?.value)
        let token = try #require(query.first { $0.name == "token" }?.value)
        return (url, id, token)
    }

    static func decide(_ action: String, link: (url: String, id: String, token: String), server: ServerProcess)
        async throws -> HTTP.Reply
    {
        try await HTTP.send(
            "POST", server.url + "/portal/deletion",
            body: Data("id=\(link.id)&token=\(link.token)&action=\(action)".utf8),
            headers: ["Content-Type": "application/x-www-form-urlencoded"])
    }

    @Test("junk uploads up to the quota leave the real backup in place; past it they are refused with what to delete")
    func junkDoesNotEvict() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let real = Self.backupBytes("the-real-one")
        let realID = UUID()
        #expect(try await Self.upload(real, id: realID, account: account).status == 204)
        for _ in 1..<10 {
            #expect(try await Self.upload(Self.backupBytes("junk"), id: UUID(), account: account).status == 204)
        }
        let refused = try await Self.upload(Self.backupBytes("junk"), id: UUID(), account: account)
        #expect(refused.status == 409)
        let error = try JSONDecoder().decode(ErrorBody.self, from: refused.body)
        #expect(error.code == "backup-quota" && error.message.contains("coffer backup delete-remote"))
        let kept = try await Self.backups(account)
        #expect(kept.count == 10 && kept.contains { $0.id == realID })
        let downloaded = try await HTTP.send(
            "GET", server.url + "/api/v1/backups/\(realID.uuidString.lowercased())",
            token: account.session.accessToken)
        #expect(downloaded.body == real)
    }

    @Test(
        "deleting a backup: password, mailed link (opening it changes nothing), a wait any device can cancel, then gone"
    )
    func delayedDeletion() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let id = UUID()
        #expect(try await Self.upload(Self.backupBytes("keep-me"), id: id, account: account).status == 204)

        let wrongPassword = try await Self.requestDeletion(
            account, backup: id, authKey: Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
        #expect(wrongPassword.status == 403)
        #expect(try await Self.pending(account).isEmpty)

        // Asked, then cancelled from a signed-in device before anything happened.
        let first = try await Self.requestAndLink(account, backup: id)
        let page = try await HTTP.send("GET", first.url)
        #expect(page.status == 200 && String(decoding: page.body, as: UTF8.self).contains("Confirm the deletion"))
        let unconfirmed = try #require(try await Self.pending(account).first)
        #expect(unconfirmed.confirmedAt == nil && unconfirmed.executesAt == nil, "opening the link confirmed nothing")
        let cancelled = try await HTTP.send(
            "DELETE", server.url + "/api/v1/account/deletions/\(first.id)", token: account.session.accessToken)
        #expect(cancelled.status == 204)
        #expect(try await HTTP.send("GET", first.url).status == 410, "a cancelled deletion's link is dead")

        // Asked again and confirmed: it waits 72 hours.
        let second = try await Self.requestAndLink(account, backup: id)
        let confirmed = try await Self.decide("confirm", link: second, server: server)
        #expect(confirmed.status == 200)
        let waiting = try #require(try await Self.pending(account).first)
        let wait = try #require(waiting.executesAt).timeIntervalSince(try #require(waiting.confirmedAt))
        #expect(abs(wait - 72 * 3600) < 1)
        #expect(try await Self.backups(account).contains { $0.id == id })

        // A day later it is still pending and still there.
        let database = try DatabaseQueue(path: server.databasePath)
        try await database.write {
            try $0.execute(sql: "UPDATE pending_deletions SET executes_at = datetime(executes_at, '-24 hours')")
        }
        #expect(try await Self.pending(account).count == 1)
        #expect(try await Self.backups(account).contains { $0.id == id })

        // The wait is over: it happens, and the events tell the story.
        try await database.write {
            try $0.execute(sql: "UPDATE pending_deletions SET executes_at = '2000-01-01 00:00:00.000'")
        }
        #expect(try await Self.backups(account).isEmpty)
        #expect(try await Self.pending(account).isEmpty)
        let events = try await HTTP.send(
            "GET", server.url + "/api/v1/account/events", token: account.session.accessToken)
        let kinds = try #require(try JSONSerialization.jsonObject(with: events.body) as? [[String: Any]]).compactMap {
            $0["kind"] as? String
        }
        for kind in ["deletion-requested", "deletion-cancelled", "deletion-confirmed", "backup-deleted"] {
            #expect(kinds.contains(kind), "\(kind) in \(kinds)")
        }
    }

    @Test("an unconfirmed deletion lapses with its link; a wrong token or a second confirmation changes nothing")
    func linksAreStrict() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let id = UUID()
        #expect(try await Self.upload(Self.backupBytes("x"), id: id, account: account).status == 204)
        let link = try await Self.requestAndLink(account, backup: id)
        let forged = try await Self.decide("confirm", link: (link.url, link.id, "not-the-token"), server: server)
        #expect(forged.status == 410)
        #expect(try await Self.pending(account).first?.confirmedAt == nil)
        #expect(try await Self.decide("confirm", link: link, server: server).status == 200)
        #expect(try await Self.decide("confirm", link: link, server: server).status == 409)

        let later = try await Self.requestAndLink(account, backup: id)
        let database = try DatabaseQueue(path: server.databasePath)
        try await database.write {
            try $0.execute(
                sql: "UPDATE pending_deletions SET confirm_by = '2000-01-01 00:00:00.000' WHERE id = ?",
                arguments: [later.id])
        }
        #expect(try await Self.decide("confirm", link: later, server: server).status == 410)
        #expect(try await Self.pending(account).count == 1, "only the confirmed one is pending")
    }
}
