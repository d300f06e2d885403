import CofferAPI
import CofferTestSupport
import Crypto
import Foundation
import GRDB
import Testing

@testable import CofferServer

/// Mail waits in the database, sealed, from the transaction that issued its code until it is
/// delivered: a crash never loses a code, the database never holds one in clear, and a message
/// delivered again is the same message.
@Suite("mail leaves through a sealed outbox", .serialized)
struct MailOutboxTests {
    @Test("a code whose mail could not go before the server was killed arrives after the restart, once, and works")
    func codeSurvivesKill() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        try server.confirmAddress(account.email)
        server.stop()
        // A mail system that refuses everything: the message stays in the outbox, to be retried.
        server.environment = ["COFFER_SERVER_MAIL": "sendmail", "COFFER_SERVER_SENDMAIL_COMMAND": "/bin/false"]
        try server.start()
        let asked = try await HTTP.send(
            "POST", server.url + "/api/v1/account/email-code",
            body: try JSONEncoder().encode(EmailCodeRequest(email: account.email, purpose: .reset)))
        #expect(asked.status == 202)
        try Self.waitForLog(server, containing: "mail delivery failed")
        let metrics = String(decoding: try await HTTP.send("GET", server.url + "/metrics").body, as: UTF8.self)
        let failures = metrics.split(separator: "\n").first { $0.hasPrefix("coffer_mail_delivery_failures_total ") }
        #expect((failures?.split(separator: " ").last).flatMap { Int($0) } ?? 0 >= 1, "\(metrics)")
        server.kill()

        var databaseBytes = Data()
        for suffix in ["", "-wal"] {
            databaseBytes.append(FileManager.default.contents(atPath: server.databasePath + suffix) ?? Data())
        }
        #expect(databaseBytes.range(of: Data("one-time code".utf8)) == nil, "a waiting message is in clear")

        // The message is due again when the killed server's last failure said (5 s after the first,
        // longer if it failed again before the kill): wait for that, then for the delivery.
        let retry = try await DatabaseQueue(path: server.databasePath).read {
            try String.fetchOne($0, sql: "SELECT next_attempt_at FROM mail_outbox").flatMap(StoredTimestamp.date)
        }
        let due = try #require(retry, "the message is not waiting in the outbox").timeIntervalSinceNow
        server.environment = [:]
        try server.start()
        let code = try server.emailCode(to: account.email, timeout: max(due, 0) + 20)
        let reset = try await HTTP.send(
            "POST", server.url + "/api/v1/account/reset",
            body: try CodeAndTokenTests.resetRequest(account, code: code))
        #expect(reset.status == 201, "the code mailed after the crash is the one the server stored")

        // Delivered means gone from the outbox: another restart sends nothing again.
        server.stop()
        try server.start()
        let sent = try Self.codeMails(server, to: account.email)
        #expect(sent.count == 1, "\(sent)")
    }

    @Test("a sealed message opens only with its server secret and its own id; the file transport writes it once")
    func sealing() async throws {
        let secret = ServerSecret(key: SymmetricKey(size: .bits256))
        let (outbox, _) = MailOutbox.make(secret: secret)
        let canary = "canary-code-7f3e91"
        let message = MailMessage(to: "alice@example.org", subject: "Your code", body: "Your one-time code: \(canary)")
        let letter = try outbox.seal(message, discardAfter: Date().addingTimeInterval(3600))
        #expect(letter.sealed.range(of: Data(canary.utf8)) == nil)
        #expect(letter.sealed.range(of: Data("alice@example.org".utf8)) == nil)
        let opened = try outbox.open(letter)
        #expect(opened.body == message.body && opened.to == message.to && opened.subject == message.subject)
        #expect(opened.id == letter.id)

        let (stranger, _) = MailOutbox.make(secret: ServerSecret(key: SymmetricKey(size: .bits256)))
        #expect(throws: (any Error).self) { try stranger.open(letter) }
        var moved = letter
        moved.id = UUID()
        #expect(throws: (any Error).self, "a body moved to another row") { try outbox.open(moved) }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        let files = FileMailTransport(directory: directory, sender: "Coffer <no-reply@example.org>")
        try await files.send(opened)
        try await files.send(opened)
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(written.count == 1, "a message delivered twice is one file: \(written)")
        let text = try String(contentsOf: directory.appendingPathComponent(written[0]), encoding: .utf8)
        #expect(text.contains("Message-ID: <\(letter.id.uuidString.lowercased())@coffer>\r\n"))
    }

    @Test("failed deliveries are retried sooner first, then at most every 30 minutes")
    func retrySchedule() {
        let delays = (1...8).map(MailDispatcher.retryDelay(afterAttempt:))
        #expect(delays.prefix(4) == [5, 20, 80, 320])
        #expect(delays.allSatisfy { $0 <= 1800 } && delays.last == 1800)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    }

    /// Waits until the server's log has a line containing `text`.
    static func waitForLog(_ server: ServerProcess, containing text: String, timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let log = try? String(contentsOf: server.logFile, encoding: .utf8), log.contains(text) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no \"\(text)\" in the server's log"])
    }

    /// The files of code mails to `email`.
    static func codeMails(_ server: ServerProcess, to email: String) throws -> [String] {
        let directory = server.dataDirectory.appendingPathComponent("mail")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { name in
            let text = (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return text.lowercased().contains(email.lowercased()) && text.contains("one-time code")
        }
    }
}
