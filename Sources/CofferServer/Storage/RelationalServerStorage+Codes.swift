public import Foundation

// One-time codes sent by e-mail (``CodeRepository``).
extension RelationalServerStorage {
    /// Implements ``CodeRepository/addEmailCode(hash:accountID:purpose:expiresAt:mail:)``.
    public func addEmailCode(hash: Data, accountID: UUID, purpose: String, expiresAt: Date, mail: OutboxMail?)
        async throws
    {
        try await write { db in
            try db.execute(
                """
                INSERT INTO email_codes (code_hash, account_id, purpose, expires_at, used, failed_attempts)
                VALUES (?, ?, ?, ?, FALSE, 0)
                """, [hash, accountID, purpose, expiresAt])
            if let mail { try Self.post(mail, db) }
        }
    }

    /// Uses up `code` inside the caller's transaction, or throws ``CodeNoLongerValid`` (rolling the
    /// whole transaction back) when it is not live any more.
    static func take(_ code: CodeUse?, account: UUID, _ db: any SQLTransaction) throws {
        guard let code else { return }
        let taken = try db.execute(
            """
            UPDATE email_codes SET used = TRUE
            WHERE account_id = ? AND purpose = ? AND code_hash = ? AND used = FALSE AND expires_at > ?
              AND failed_attempts < ?
            """, [account, code.purpose, code.hash, code.now, code.allowedFailures])
        guard taken == 1 else { throw CodeNoLongerValid() }
    }

    /// Implements ``CodeRepository/deleteExpiredEmailCodes(before:)``.
    public func deleteExpiredEmailCodes(before cutoff: Date) async throws -> Int {
        try await write { db in try db.execute("DELETE FROM email_codes WHERE expires_at < ?", [cutoff]) }
    }

    /// Implements ``CodeRepository/checkEmailCode(hash:accountID:purpose:now:consume:allowedFailures:)``.
    public func checkEmailCode(
        hash: Data, accountID: UUID, purpose: String, now: Date, consume: Bool, allowedFailures: Int
    ) async throws -> EmailCodeCheck {
        try await write { db in
            let live = "account_id = ? AND purpose = ? AND used = FALSE AND expires_at > ?"
            let found = try db.int64(
                "SELECT failed_attempts FROM email_codes WHERE \(live) AND code_hash = ?",
                [accountID, purpose, now, hash])
            if let found, found < allowedFailures {
                if consume {
                    try db.execute(
                        "UPDATE email_codes SET used = TRUE WHERE account_id = ? AND purpose = ? AND code_hash = ?",
                        [accountID, purpose, hash])
                }
                return .valid
            }
            try db.execute(
                "UPDATE email_codes SET failed_attempts = failed_attempts + 1 WHERE \(live)", [accountID, purpose, now])
            let exhausted = try db.exists(
                "SELECT 1 FROM email_codes WHERE \(live) AND failed_attempts >= ?",
                [accountID, purpose, now, allowedFailures])
            if exhausted {
                try db.execute("UPDATE email_codes SET used = TRUE WHERE \(live)", [accountID, purpose, now])
            }
            return exhausted ? .exhausted : .invalid
        }
    }
}
