public import CofferAPI
public import Foundation
import GRDB

extension SQLiteServerStorage {
    /// Implements ``ServerStorage/replacePasswordKeys(accountID:epoch:keys:keepDevice:reason:using:event:)``.
    public func replacePasswordKeys(
        accountID: UUID, epoch: UInt32, keys: StoredPasswordKeys, keepDevice: UUID?, reason: RevocationReason,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            try Self.take(code, account: account, db)
            try db.execute(
                sql: """
                    UPDATE accounts SET kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?, salt = ?,
                      auth_verifier = ?, password_wrapped_key = ?
                    WHERE id = ? AND epoch = ? AND awaiting_keys = 0
                    """,
                arguments: [
                    Int64(keys.kdf.memoryKiB), Int64(keys.kdf.iterations), Int64(keys.kdf.parallelism), keys.salt,
                    keys.authVerifier, keys.passwordWrappedKey, account, Int64(epoch),
                ])
            guard db.changesCount == 1 else { return false }
            try Self.revokeAll(db, account: account, except: keepDevice, reason: reason)
            try Self.insert(event, accountID: account, db)
            return true
        }
    }

    /// Implements ``ServerStorage/replaceRecoveryKeys(accountID:epoch:keys:event:)``.
    public func replaceRecoveryKeys(accountID: UUID, epoch: UInt32, keys: StoredRecoveryKeys, event: AccountEvent)
        async throws -> Bool
    {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE accounts SET recovery_verifier = ?, recovery_wrapped_key = ?
                    WHERE id = ? AND epoch = ? AND awaiting_keys = 0
                    """,
                arguments: [keys.recoveryVerifier, keys.recoveryWrappedKey, account, Int64(epoch)])
            guard db.changesCount == 1 else { return false }
            try Self.insert(event, accountID: account, db)
            return true
        }
    }

    /// Implements ``ServerStorage/addEmailCode(hash:accountID:purpose:expiresAt:)``.
    public func addEmailCode(hash: Data, accountID: UUID, purpose: String, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_codes (code_hash, account_id, purpose, expires_at, used, failed_attempts)
                    VALUES (?, ?, ?, ?, 0, 0)
                    """,
                arguments: [hash, accountID.uuidString.lowercased(), purpose, expiresAt])
        }
    }

    /// Uses up `code` inside the caller's transaction, or throws ``CodeNoLongerValid`` (rolling the
    /// whole transaction back) when it is not live any more.
    static func take(_ code: CodeUse?, account: String, _ db: Database) throws {
        guard let code else { return }
        try db.execute(
            sql: """
                UPDATE email_codes SET used = 1
                WHERE account_id = ? AND purpose = ? AND code_hash = ? AND used = 0 AND expires_at > ?
                  AND failed_attempts < ?
                """,
            arguments: [account, code.purpose, code.hash, code.now, EmailCodes.maximumFailures])
        guard db.changesCount == 1 else { throw CodeNoLongerValid() }
    }

    /// Implements ``ServerStorage/deleteExpiredEmailCodes(before:)``.
    public func deleteExpiredEmailCodes(before cutoff: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM email_codes WHERE expires_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Implements ``ServerStorage/checkEmailCode(hash:accountID:purpose:now:consume:)``.
    public func checkEmailCode(hash: Data, accountID: UUID, purpose: String, now: Date, consume: Bool) async throws
        -> EmailCodeCheck
    {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            let live = "account_id = ? AND purpose = ? AND used = 0 AND expires_at > ?"
            let found = try Row.fetchOne(
                db, sql: "SELECT failed_attempts FROM email_codes WHERE \(live) AND code_hash = ?",
                arguments: [account, purpose, now, hash])
            if let found, (found["failed_attempts"] as Int64) < EmailCodes.maximumFailures {
                if consume {
                    try db.execute(
                        sql: "UPDATE email_codes SET used = 1 WHERE account_id = ? AND purpose = ? AND code_hash = ?",
                        arguments: [account, purpose, hash])
                }
                return .valid
            }
            try db.execute(
                sql: "UPDATE email_codes SET failed_attempts = failed_attempts + 1 WHERE \(live)",
                arguments: [account, purpose, now])
            let exhausted =
                try Int.fetchOne(
                    db, sql: "SELECT 1 FROM email_codes WHERE \(live) AND failed_attempts >= ?",
                    arguments: [account, purpose, now, EmailCodes.maximumFailures]) != nil
            if exhausted {
                try db.execute(
                    sql: "UPDATE email_codes SET used = 1 WHERE \(live)", arguments: [account, purpose, now])
            }
            return exhausted ? .exhausted : .invalid
        }
    }

    /// Implements ``ServerStorage/resetAccount(accountID:now:from:quarantineUntil:using:event:)``.
    public func resetAccount(
        accountID: UUID, now: Date, from address: String?, quarantineUntil: Date, using code: CodeUse?,
        event: AccountEvent
    ) async throws -> UInt32 {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            try Self.take(code, account: account, db)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [account])
            else { throw StorageError.missingAccount }
            let epoch: Int64 = row["epoch"]
            if (row["awaiting_keys"] as Int64) != 0 { return UInt32(clamping: epoch) }
            let count =
                try Int64.fetchOne(db, sql: "SELECT count(*) FROM records WHERE account_id = ?", arguments: [account])
                ?? 0
            try db.execute(
                sql: """
                    INSERT INTO quarantined_epochs (account_id, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                      salt, password_wrapped_key, recovery_wrapped_key, manifest_counter, manifest_sequence, manifest_blob,
                      record_count, reset_at, reset_from, expires_at, purged_at, auth_verifier, recovery_verifier)
                    SELECT id, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism, salt, password_wrapped_key,
                      recovery_wrapped_key, manifest_counter, manifest_sequence, manifest_blob, ?, ?, ?, ?, NULL,
                      auth_verifier, recovery_verifier
                    FROM accounts WHERE id = ?
                    """,
                arguments: [count, now, address, quarantineUntil, account])
            try db.execute(
                sql: """
                    INSERT INTO quarantined_records (account_id, epoch, item_id, revision, sequence, is_deleted, wrapped_key,
                      content)
                    SELECT account_id, ?, item_id, revision, sequence, is_deleted, wrapped_key, content FROM records
                    WHERE account_id = ?
                    """,
                arguments: [epoch, account])
            try db.execute(sql: "DELETE FROM records WHERE account_id = ?", arguments: [account])
            // Verifiers no key can match until the client installs the new epoch's keys.
            try db.execute(
                sql: """
                    UPDATE accounts SET epoch = ?, awaiting_keys = 1, reset_at = ?, reset_from = ?,
                      auth_verifier = ?, recovery_verifier = ?, password_wrapped_key = ?, recovery_wrapped_key = ?,
                      manifest_counter = 0, manifest_sequence = 0, manifest_blob = NULL
                    WHERE id = ?
                    """,
                arguments: [
                    epoch + 1, now, address, Tokens.unmatchableVerifier(), Tokens.unmatchableVerifier(), Data(), Data(),
                    account,
                ])
            try Self.revokeAll(db, account: account, except: nil, reason: .accountReset)
            try Self.insert(event, accountID: account, db)
            return UInt32(clamping: epoch + 1)
        }
    }

    /// Implements ``ServerStorage/installKeysAfterReset(accountID:epoch:password:recovery:using:event:)``.
    public func installKeysAfterReset(
        accountID: UUID, epoch: UInt32, password: StoredPasswordKeys, recovery: StoredRecoveryKeys,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            try Self.take(code, account: account, db)
            try db.execute(
                sql: """
                    UPDATE accounts SET awaiting_keys = 0, kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?,
                      salt = ?, auth_verifier = ?, password_wrapped_key = ?, recovery_verifier = ?, recovery_wrapped_key = ?
                    WHERE id = ? AND epoch = ? AND awaiting_keys = 1
                    """,
                arguments: [
                    Int64(password.kdf.memoryKiB), Int64(password.kdf.iterations), Int64(password.kdf.parallelism),
                    password.salt, password.authVerifier, password.passwordWrappedKey, recovery.recoveryVerifier,
                    recovery.recoveryWrappedKey, account, Int64(epoch),
                ])
            guard db.changesCount == 1 else { return false }
            try Self.insert(event, accountID: account, db)
            return true
        }
    }

    /// Implements ``ServerStorage/quarantines(accountID:)``.
    public func quarantines(accountID: UUID) async throws -> [QuarantineSummary] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM quarantined_epochs WHERE account_id = ? ORDER BY epoch DESC",
                arguments: [accountID.uuidString.lowercased()]
            ).map(Self.summary)
        }
    }

    private static func summary(_ row: Row) -> QuarantineSummary {
        let kdf: WireKDF? = (row["kdf_memory_kib"] as Int64?).map {
            WireKDF(
                memoryKiB: UInt32(clamping: $0), iterations: UInt32(clamping: row["kdf_iterations"] as Int64),
                parallelism: UInt32(clamping: row["kdf_parallelism"] as Int64))
        }
        return QuarantineSummary(
            epoch: UInt32(clamping: row["epoch"] as Int64), resetAt: row["reset_at"], resetFrom: row["reset_from"],
            expiresAt: row["expires_at"], purgedAt: row["purged_at"], recordCount: Int(row["record_count"] as Int64),
            kdf: kdf, salt: row["salt"])
    }

    /// Implements ``ServerStorage/openQuarantine(accountID:epoch:proof:budget:now:released:refused:)``.
    public func openQuarantine(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        released: AccountEvent, refused: AccountEvent
    ) async throws -> QuarantineOpening {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM quarantined_epochs WHERE account_id = ? AND epoch = ?",
                    arguments: [account, Int64(epoch)])
            else { return .missing }
            guard row["purged_at"] as Date? == nil else { return .purged(Self.summary(row)) }
            switch try Self.checkOldSecret(
                db, row: row, account: account, proof: proof, budget: budget, now: now, refused: refused)
            {
            case .proven: break
            case .wrongSecret(let remaining): return .wrongSecret(remaining: remaining)
            case .tooManyGuesses(let wait): return .tooManyGuesses(retryAfter: wait)
            case .unknownEpoch: return .missing
            }
            let keyColumn =
                switch proof {
                case .password: "password_wrapped_key"
                case .recoveryCode: "recovery_wrapped_key"
                }
            let manifest = (row["manifest_blob"] as Data?).map {
                WireManifest(counter: row["manifest_counter"] ?? 0, sequence: row["manifest_sequence"] ?? 0, blob: $0)
            }
            let records = try Row.fetchAll(
                db,
                sql: """
                    SELECT item_id, revision, sequence, is_deleted, wrapped_key, content FROM quarantined_records
                    WHERE account_id = ? AND epoch = ? ORDER BY item_id
                    """,
                arguments: [account, Int64(epoch)]
            ).compactMap { row in
                UUID(uuidString: row["item_id"]).map {
                    WireRecord(
                        id: $0, revision: row["revision"], sequence: row["sequence"],
                        isDeleted: (row["is_deleted"] as Int64) != 0,
                        wrappedKey: row["wrapped_key"], content: row["content"])
                }
            }
            try Self.insert(released, accountID: account, db)
            return .released(
                QuarantineRelease(
                    epoch: epoch, wrappedKey: row[keyColumn] ?? Data(), manifest: manifest, records: records))
        }
    }

    /// Implements ``ServerStorage/proveOldSecret(accountID:epoch:proof:budget:now:proven:refused:)``.
    public func proveOldSecret(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        proven: AccountEvent, refused: AccountEvent
    ) async throws -> OldSecretCheck {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM quarantined_epochs WHERE account_id = ? AND epoch = ?",
                    arguments: [account, Int64(epoch)])
            else { return .unknownEpoch }
            let check = try Self.checkOldSecret(
                db, row: row, account: account, proof: proof, budget: budget, now: now, refused: refused)
            if check == .proven { try Self.insert(proven, accountID: account, db) }
            return check
        }
    }

    /// The guess budget and the constant-time comparison shared by everything that releases an old
    /// epoch's material, inside the caller's transaction (so a wrong guess is counted even when the
    /// caller answers with a refusal).
    static func checkOldSecret(
        _ db: Database, row: Row, account: String, proof: QuarantineProof, budget: GuessBudget, now: Date,
        refused: AccountEvent
    ) throws -> OldSecretCheck {
        let windowStart = now.addingTimeInterval(-budget.window)
        try db.execute(
            sql: "DELETE FROM quarantine_guesses WHERE account_id = ? AND at <= ?", arguments: [account, windowStart])
        let recent = try Date.fetchAll(
            db, sql: "SELECT at FROM quarantine_guesses WHERE account_id = ? ORDER BY at", arguments: [account])
        if recent.count >= budget.limit, let oldest = recent.first {
            let wait = oldest.addingTimeInterval(budget.window).timeIntervalSince(now)
            return .tooManyGuesses(retryAfter: max(1, Int(wait.rounded(.up))))
        }
        let (presented, verifierColumn) =
            switch proof {
            case .password(let key): (key, "auth_verifier")
            case .recoveryCode(let key): (key, "recovery_verifier")
            }
        // A quarantine from before verifiers were kept cannot be checked; see ServerSchema.v7.
        if let verifier = row[verifierColumn] as Data?,
            !Tokens.constantTimeEquals(Tokens.verifier(of: presented), verifier)
        {
            try db.execute(
                sql: "INSERT INTO quarantine_guesses (account_id, at) VALUES (?, ?)", arguments: [account, now])
            try insert(refused, accountID: account, db)
            return .wrongSecret(remaining: budget.limit - recent.count - 1)
        }
        return .proven
    }

    /// Implements ``ServerStorage/purgeExpiredQuarantines(now:)``.
    public func purgeExpiredQuarantines(now: Date) async throws -> Int {
        try await write { db in
            let expired = try Row.fetchAll(
                db, sql: "SELECT account_id, epoch FROM quarantined_epochs WHERE purged_at IS NULL AND expires_at <= ?",
                arguments: [now])
            for row in expired {
                let account: String = row["account_id"]
                try Self.purge(db, account: account, epoch: row["epoch"], now: now)
                try Self.insert(
                    AccountEvent(kind: .quarantineExpired, at: now, deviceName: nil, clientAddress: nil),
                    accountID: account, db)
            }
            return expired.count
        }
    }

    /// Deletes one epoch's records, wrapped keys and manifest, keeping the row that says when it went,
    /// with the epoch's verifiers, parameters and salt: that epoch's server backups still open to
    /// proof of its secrets.
    static func purge(_ db: Database, account: String, epoch: Int64, now: Date) throws {
        try db.execute(
            sql: "DELETE FROM quarantined_records WHERE account_id = ? AND epoch = ?", arguments: [account, epoch])
        try db.execute(
            sql: """
                UPDATE quarantined_epochs SET purged_at = ?, password_wrapped_key = NULL, recovery_wrapped_key = NULL,
                  manifest_blob = NULL
                WHERE account_id = ? AND epoch = ?
                """,
            arguments: [now, account, epoch])
    }
}

/// Storage failures that are the server's fault, not the request's.
enum StorageError: Error {
    case missingAccount
}

/// One-time codes sent by e-mail.
enum EmailCodes {
    /// Wrong attempts after which every live code of that purpose is cancelled.
    static let maximumFailures: Int64 = 5
}
