public import Foundation

extension RelationalServerStorage {
    /// Adds `mail` to the outbox inside the caller's transaction, due at once.
    static func post(_ mail: OutboxMail, _ db: any SQLTransaction) throws {
        try db.execute(
            """
            INSERT INTO mail_outbox (id, sealed, created_at, discard_after, next_attempt_at, attempts, deliver)
            VALUES (?, ?, ?, ?, ?, 0, ?)
            """, [mail.id, mail.sealed, mail.createdAt, mail.discardAfter, mail.createdAt, mail.deliver])
    }

    /// Implements ``MailOutboxRepository/postMail(_:)``.
    public func postMail(_ mail: OutboxMail) async throws {
        try await write { db in try Self.post(mail, db) }
    }

    /// Implements ``MailOutboxRepository/claimMail(now:lease:limit:)``. Looks first in a read, so an idle
    /// outbox costs no write; the claim itself is one transaction, so two processes never lease one
    /// message at once.
    public func claimMail(now: Date, lease: TimeInterval, limit: Int) async throws -> OutboxClaim {
        let due = "next_attempt_at <= ? OR deliver = FALSE OR discard_after <= ?"
        guard try await read({ db in try db.exists("SELECT 1 FROM mail_outbox WHERE \(due) LIMIT 1", [now, now]) })
        else { return OutboxClaim(due: [], dropped: 0) }
        return try await write { db in
            let dropped = try db.execute(
                "DELETE FROM mail_outbox WHERE deliver = TRUE AND discard_after <= ?", [now])
            try db.execute("DELETE FROM mail_outbox WHERE deliver = FALSE")
            let rows = try db.rows(
                """
                SELECT id, sealed, created_at, discard_after, attempts FROM mail_outbox
                WHERE next_attempt_at <= ? ORDER BY created_at, id LIMIT ?
                """, [now, limit])
            let leasedUntil = now.addingTimeInterval(lease)
            let claimed = try rows.map { row in
                let mail = OutboxMail(
                    id: try row.uuid("id"), sealed: try row.bytes("sealed"), createdAt: try row.date("created_at"),
                    discardAfter: try row.date("discard_after"), deliver: true, attempts: try row.int("attempts") + 1)
                try db.execute(
                    "UPDATE mail_outbox SET next_attempt_at = ?, attempts = ? WHERE id = ?",
                    [leasedUntil, mail.attempts, mail.id])
                return mail
            }
            return OutboxClaim(due: claimed, dropped: dropped)
        }
    }

    /// Implements ``MailOutboxRepository/finishMail(id:)``.
    public func finishMail(id: UUID) async throws {
        try await write { db in try db.execute("DELETE FROM mail_outbox WHERE id = ?", [id]) }
    }

    /// Implements ``MailOutboxRepository/retryMail(id:at:)``.
    public func retryMail(id: UUID, at time: Date) async throws {
        try await write { db in try db.execute("UPDATE mail_outbox SET next_attempt_at = ? WHERE id = ?", [time, id]) }
    }
}
