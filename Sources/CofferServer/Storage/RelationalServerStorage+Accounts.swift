import CofferAPI
public import Foundation

// Accounts and the confirmation of their address (``AccountRepository``).
extension RelationalServerStorage {
    /// Implements ``AccountRepository/createAccount(_:)``.
    public func createAccount(_ account: StoredAccount) async throws -> Bool {
        try await write { db in
            if try db.exists("SELECT 1 FROM accounts WHERE email = ?", [account.email]) { return false }
            try db.execute(
                """
                INSERT INTO accounts (id, email, email_verified, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                  salt, auth_verifier, recovery_verifier, password_wrapped_key, recovery_wrapped_key,
                  last_sequence, manifest_counter, manifest_blob, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, NULL, ?)
                """,
                [
                    account.id, account.email, account.emailVerified, account.epoch, account.kdf.memoryKiB,
                    account.kdf.iterations, account.kdf.parallelism, account.salt, account.authVerifier,
                    account.recoveryVerifier, account.passwordWrappedKey, account.recoveryWrappedKey, account.createdAt,
                ])
            return true
        }
    }

    /// Implements ``AccountRepository/account(email:)``.
    public func account(email: String) async throws -> StoredAccount? {
        try await read { db in try db.row("SELECT * FROM accounts WHERE email = ?", [email]).map(Self.account) }
    }

    /// Implements ``AccountRepository/account(id:)``.
    public func account(id: UUID) async throws -> StoredAccount? {
        try await read { db in try db.row("SELECT * FROM accounts WHERE id = ?", [id]).map(Self.account) }
    }

    private static func account(_ row: SQLRow) throws -> StoredAccount {
        var account = StoredAccount(
            id: try row.uuid("id"), email: try row.text("email"), emailVerified: try row.bool("email_verified"),
            epoch: try row.uint32("epoch"),
            kdf: WireKDF(
                memoryKiB: try row.uint32("kdf_memory_kib"), iterations: try row.uint32("kdf_iterations"),
                parallelism: try row.uint32("kdf_parallelism")),
            salt: try row.bytes("salt"), authVerifier: try row.bytes("auth_verifier"),
            recoveryVerifier: try row.bytes("recovery_verifier"),
            passwordWrappedKey: try row.bytes("password_wrapped_key"),
            recoveryWrappedKey: try row.bytes("recovery_wrapped_key"), createdAt: try row.date("created_at"))
        account.awaitingKeys = try row.bool("awaiting_keys")
        account.resetAt = try row.optionalDate("reset_at")
        account.resetFrom = try row.optionalText("reset_from")
        return account
    }

    /// Implements ``AccountRepository/addVerificationToken(hash:accountID:expiresAt:mail:)``.
    public func addVerificationToken(hash: Data, accountID: UUID, expiresAt: Date, mail: OutboxMail) async throws {
        try await write { db in
            try db.execute(
                "INSERT INTO verification_tokens (token_hash, account_id, expires_at, used) VALUES (?, ?, ?, FALSE)",
                [hash, accountID, expiresAt])
            try Self.post(mail, db)
        }
    }

    /// Implements ``AccountRepository/verificationToken(hash:now:consume:)``.
    public func verificationToken(hash: Data, now: Date, consume: Bool) async throws -> UUID? {
        try await write { db in
            guard
                let row = try db.row(
                    "SELECT account_id, expires_at, used FROM verification_tokens WHERE token_hash = ?", [hash]),
                try !row.bool("used"), try row.date("expires_at") > now
            else { return nil }
            let accountID = try row.uuid("account_id")
            guard consume else { return accountID }
            try db.execute("UPDATE verification_tokens SET used = TRUE WHERE token_hash = ?", [hash])
            try db.execute("UPDATE accounts SET email_verified = TRUE WHERE id = ?", [accountID])
            return accountID
        }
    }
}
