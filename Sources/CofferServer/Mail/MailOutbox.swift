import Crypto
public import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Where requests post mail: they seal it here and store it in the same transaction as the code or
/// link it carries, so a crash after that commit never loses the message, and the code is never
/// usable without its mail being on its way. The ``MailDispatcher`` delivers it afterwards — no
/// request waits for a mail server, and a request that mails takes as long as one that does not.
struct MailOutbox: Sendable {
    private let key: SymmetricKey
    private let doorbell: AsyncStream<Void>.Continuation

    /// An outbox sealing under a key derived from `secret`, and the stream that rings each time mail
    /// is posted (for the dispatcher).
    static func make(secret: ServerSecret) -> (MailOutbox, AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        return (MailOutbox(key: secret.derivedKey(for: "mail outbox v1"), doorbell: continuation), stream)
    }

    /// `message`, sealed for the outbox; `deliver: false` makes the stand-in of a message that must not go.
    func seal(_ message: MailMessage, discardAfter: Date, deliver: Bool = true) throws -> OutboxMail {
        let id = UUID()
        let plain = try JSONEncoder().encode(
            SealedMessage(to: message.to, subject: message.subject, body: message.body))
        let box = try AES.GCM.seal(plain, using: key, authenticating: Self.associatedData(id))
        guard let combined = box.combined else { throw OutboxSealFailure() }
        return OutboxMail(
            id: id, sealed: combined, createdAt: Date(), discardAfter: discardAfter, deliver: deliver)
    }

    /// The message `mail` holds, with its id and date; throws when it was sealed with another secret.
    func open(_ mail: OutboxMail) throws -> MailMessage {
        let box = try AES.GCM.SealedBox(combined: mail.sealed)
        let plain = try AES.GCM.open(box, using: key, authenticating: Self.associatedData(mail.id))
        let message = try JSONDecoder().decode(SealedMessage.self, from: plain)
        return MailMessage(
            to: message.to, subject: message.subject, body: message.body, id: mail.id, date: mail.createdAt)
    }

    /// Wakes the dispatcher after a transaction that posted mail committed.
    func posted() {
        doorbell.yield()
    }

    /// The row's id is authenticated with its message, so sealed bodies cannot be swapped between rows.
    private static func associatedData(_ id: UUID) -> Data {
        Data(id.uuidString.lowercased().utf8)
    }

    private struct SealedMessage: Codable {
        var to: String
        var subject: String
        var body: String
    }
}

/// Sealing a message failed (AES-GCM with a 12-byte nonce always gives a combined form; never seen).
struct OutboxSealFailure: Error {}

/// Delivers the outbox while the server runs: at once when this process posted mail, and every few
/// seconds for what other processes (or this one before a crash) left behind.
///
/// Delivery is at least once. A claim leases a message for ``lease``; a process that dies while
/// sending leaves it to be claimed again when the lease runs out, and the message goes out again
/// with the same `Message-ID` (mail systems drop such a duplicate; the file transport overwrites
/// its file). A failed delivery is retried after 5 s, 20 s, 80 s and so on, up to every 30 minutes,
/// until the code it carries lapses; then it is dropped and logged, and the user asks again.
struct MailDispatcher: Service {
    let storage: any MailOutboxRepository
    let outbox: MailOutbox
    let doorbell: AsyncStream<Void>
    let transport: any MailTransport
    let logger: Logger

    /// How long a claimed message is left to its sender before another process may send it.
    static let lease: TimeInterval = 120
    /// How often the outbox is looked at without a doorbell.
    static let pollInterval: Duration = .seconds(5)
    /// Messages claimed at once.
    static let batch = 20

    func run() async throws {
        let ticker = Task {
            while !Task.isCancelled {
                outbox.posted()
                try? await Task.sleep(for: Self.pollInterval)
            }
        }
        defer { ticker.cancel() }
        await cancelWhenGracefulShutdown {
            for await _ in doorbell {
                await deliverDue()
            }
        }
    }

    /// Delivers every message that is due, a batch at a time.
    func deliverDue() async {
        do {
            while !Task.isCancelled {
                let claim = try await storage.claimMail(now: Date(), lease: Self.lease, limit: Self.batch)
                if claim.dropped > 0 {
                    Counter(label: ServerMetrics.mailDropped).increment(by: claim.dropped)
                    logger.error(
                        "undelivered mail dropped: its code or link lapsed", metadata: ["count": "\(claim.dropped)"])
                }
                for mail in claim.due { try await deliver(mail) }
                if claim.due.count < Self.batch { return }
            }
        } catch {
            logger.error("mail outbox unavailable", metadata: ["error.type": "\(type(of: error))"])
        }
    }

    private func deliver(_ mail: OutboxMail) async throws {
        let message: MailMessage
        do {
            message = try outbox.open(mail)
        } catch {
            // Sealed under another server secret: no process here can ever open it.
            logger.error("mail sealed under another server secret dropped", metadata: ["mail.id": "\(mail.id)"])
            try await storage.finishMail(id: mail.id)
            return
        }
        do {
            try await transport.send(message)
        } catch {
            Counter(label: ServerMetrics.mailFailures).increment()
            // The id, attempt and error type only: the message holds codes and links.
            let retry = min(Date().addingTimeInterval(Self.retryDelay(afterAttempt: mail.attempts)), mail.discardAfter)
            logger.error(
                "mail delivery failed",
                metadata: ["mail.id": "\(mail.id)", "attempt": "\(mail.attempts)", "error.type": "\(type(of: error))"])
            try await storage.retryMail(id: mail.id, at: retry)
            return
        }
        Counter(label: ServerMetrics.mailDelivered).increment()
        try await storage.finishMail(id: mail.id)
    }

    /// 5 s after the first failure, four times longer after each next one, at most 30 minutes.
    static func retryDelay(afterAttempt attempt: Int) -> TimeInterval {
        min(5 * pow(4, Double(max(attempt, 1) - 1)), 1800)
    }
}
