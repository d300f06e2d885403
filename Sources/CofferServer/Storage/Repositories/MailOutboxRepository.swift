public import CofferAPI
public import Foundation

/// Mail waiting to be delivered, sealed.
public protocol MailOutboxRepository: Sendable {
    /// Posts a message that carries no code (a notice).
    func postMail(_ mail: OutboxMail) async throws
    /// Leases up to `limit` deliverable messages that are due at `now` for `lease` seconds (counting
    /// an attempt for each), oldest first; deletes stand-ins, and messages whose code lapsed.
    func claimMail(now: Date, lease: TimeInterval, limit: Int) async throws -> OutboxClaim
    /// Deletes a delivered (or undeliverable) message.
    func finishMail(id: UUID) async throws
    /// Makes a message whose delivery failed due again at `time`.
    func retryMail(id: UUID, at time: Date) async throws
}

/// A message waiting in the outbox table, sealed: the database (and its backups) never hold a code
/// or a link in clear, only ciphertext that the server secret opens.
public struct OutboxMail: Sendable, Equatable {
    /// Also the message's `Message-ID`, so a message sent again after a crash is recognisably the same.
    public var id: UUID
    /// The message, sealed by ``MailOutbox``.
    public var sealed: Data
    /// When it was posted; also the message's `Date`.
    public var createdAt: Date
    /// When its code or link lapses: after that it is not worth delivering, and is dropped.
    public var discardAfter: Date
    /// `false` for the stand-in posted for an address that gets no mail, so that request does the
    /// same work as one that mails; a stand-in is deleted, never delivered.
    public var deliver: Bool
    /// Delivery attempts so far (claims, counting the current one).
    public var attempts: Int

    /// Creates a value.
    public init(id: UUID, sealed: Data, createdAt: Date, discardAfter: Date, deliver: Bool, attempts: Int = 0) {
        self.id = id
        self.sealed = sealed
        self.createdAt = createdAt
        self.discardAfter = discardAfter
        self.deliver = deliver
        self.attempts = attempts
    }
}

/// What a claim of the outbox found.
public struct OutboxClaim: Sendable {
    /// Messages now leased to the claimer, oldest first.
    public var due: [OutboxMail]
    /// Messages dropped undelivered because their code or link lapsed.
    public var dropped: Int

    /// Creates a value.
    public init(due: [OutboxMail], dropped: Int) {
        self.due = due
        self.dropped = dropped
    }
}
