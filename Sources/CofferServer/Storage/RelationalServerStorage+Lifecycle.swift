public import CofferAPI
public import Foundation

extension RelationalServerStorage {
    /// Implements ``KeyLifecycleRepository/replacePasswordKeys(accountID:epoch:keys:keepDevice:reason:using:event:)``.
    public func replacePasswordKeys(
        accountID: UUID, epoch: UInt32, keys: StoredPasswordKeys, keepDevice: UUID?, reason: RevocationReason,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool {
        try await write(account: accountID) { db in
            try Self.take(code, account: accountID, db)
            let changed = try db.execute(
                """
                UPDATE accounts SET kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?, salt = ?,
                  auth_verifier = ?, password_wrapped_key = ?
                WHERE id = ? AND epoch = ? AND awaiting_keys = FALSE
                """,
                [
                    keys.kdf.memoryKiB, keys.kdf.iterations, keys.kdf.parallelism, keys.salt, keys.authVerifier,
                    keys.passwordWrappedKey, accountID, epoch,
                ])
            guard changed == 1 else { return false }
            try Self.revokeAll(db, account: accountID, except: keepDevice, reason: reason)
            try Self.insert(event, accountID: accountID, db)
            return true
        }
    }

    /// Implements ``KeyLifecycleRepository/replaceRecoveryKeys(accountID:epoch:keys:event:)``.
    public func replaceRecoveryKeys(accountID: UUID, epoch: UInt32, keys: StoredRecoveryKeys, event: AccountEvent)
        async throws -> Bool
    {
        try await write(account: accountID) { db in
            let changed = try db.execute(
                """
                UPDATE accounts SET recovery_verifier = ?, recovery_wrapped_key = ?
                WHERE id = ? AND epoch = ? AND awaiting_keys = FALSE
                """, [keys.recoveryVerifier, keys.recoveryWrappedKey, accountID, epoch])
            guard changed == 1 else { return false }
            try Self.insert(event, accountID: accountID, db)
            return true
        }
    }

    /// Implements ``KeyLifecycleRepository/resetAccount(accountID:now:from:quarantineUntil:using:event:)``.
    public func resetAccount(
        accountID: UUID, now: Date, from address: String?, quarantineUntil: Date, using code: CodeUse?,
        event: AccountEvent
    ) async throws -> UInt32 {
        try await write(account: accountID) { db in
            try Self.take(code, account: accountID, db)
            guard let row = try db.row("SELECT epoch, awaiting_keys FROM accounts WHERE id = ?", [accountID])
            else { throw StorageError.missingAccount }
            let epoch = try row.int64("epoch")
            if try row.bool("awaiting_keys") { return UInt32(clamping: epoch) }
            let count = try db.int64("SELECT count(*) FROM records WHERE account_id = ?", [accountID]) ?? 0
            try db.execute(
                """
                INSERT INTO quarantined_epochs (account_id, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                  salt, password_wrapped_key, recovery_wrapped_key, manifest_counter, manifest_sequence, manifest_blob,
                  record_count, reset_at, reset_from, expires_at, purged_at, auth_verifier, recovery_verifier)
                SELECT id, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism, salt, password_wrapped_key,
                  recovery_wrapped_key, manifest_counter, manifest_sequence, manifest_blob, ?, ?, ?, ?, NULL,
                  auth_verifier, recovery_verifier
                FROM accounts WHERE id = ?
                """, [count, now, address, quarantineUntil, accountID])
            try db.execute(
                """
                INSERT INTO quarantined_records (account_id, epoch, item_id, revision, sequence, is_deleted, wrapped_key,
                  content)
                SELECT account_id, ?, item_id, revision, sequence, is_deleted, wrapped_key, content FROM records
                WHERE account_id = ?
                """, [epoch, accountID])
            try db.execute("DELETE FROM records WHERE account_id = ?", [accountID])
            // Verifiers no key can match until the client installs the new epoch's keys.
            try db.execute(
                """
                UPDATE accounts SET epoch = ?, awaiting_keys = TRUE, reset_at = ?, reset_from = ?,
                  auth_verifier = ?, recovery_verifier = ?, password_wrapped_key = ?, recovery_wrapped_key = ?,
                  manifest_counter = 0, manifest_sequence = 0, manifest_blob = NULL
                WHERE id = ?
                """,
                [
                    epoch + 1, now, address, Tokens.unmatchableVerifier(), Tokens.unmatchableVerifier(), Data(), Data(),
                    accountID,
                ])
            try Self.revokeAll(db, account: accountID, except: nil, reason: .accountReset)
            try Self.insert(event, accountID: accountID, db)
            return UInt32(clamping: epoch + 1)
        }
    }

    /// Implements ``KeyLifecycleRepository/installKeysAfterReset(accountID:epoch:password:recovery:using:event:)``.
    public func installKeysAfterReset(
        accountID: UUID, epoch: UInt32, password: StoredPasswordKeys, recovery: StoredRecoveryKeys,
        using code: CodeUse?, event: AccountEvent
    ) async throws -> Bool {
        try await write(account: accountID) { db in
            try Self.take(code, account: accountID, db)
            let changed = try db.execute(
                """
                UPDATE accounts SET awaiting_keys = FALSE, kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?,
                  salt = ?, auth_verifier = ?, password_wrapped_key = ?, recovery_verifier = ?, recovery_wrapped_key = ?
                WHERE id = ? AND epoch = ? AND awaiting_keys = TRUE
                """,
                [
                    password.kdf.memoryKiB, password.kdf.iterations, password.kdf.parallelism, password.salt,
                    password.authVerifier, password.passwordWrappedKey, recovery.recoveryVerifier,
                    recovery.recoveryWrappedKey, accountID, epoch,
                ])
            guard changed == 1 else { return false }
            try Self.insert(event, accountID: accountID, db)
            return true
        }
    }

    /// Implements ``KeyLifecycleRepository/quarantines(accountID:)``.
    public func quarantines(accountID: UUID) async throws -> [QuarantineSummary] {
        try await read { db in
            try db.rows("SELECT * FROM quarantined_epochs WHERE account_id = ? ORDER BY epoch DESC", [accountID])
                .map(Self.summary)
        }
    }

    private static func summary(_ row: SQLRow) throws -> QuarantineSummary {
        let kdf: WireKDF? = try row.optionalInt64("kdf_memory_kib").map {
            WireKDF(
                memoryKiB: UInt32(clamping: $0), iterations: try row.uint32("kdf_iterations"),
                parallelism: try row.uint32("kdf_parallelism"))
        }
        return QuarantineSummary(
            epoch: try row.uint32("epoch"), resetAt: try row.date("reset_at"),
            resetFrom: try row.optionalText("reset_from"), expiresAt: try row.date("expires_at"),
            purgedAt: try row.optionalDate("purged_at"), recordCount: try row.int("record_count"), kdf: kdf,
            salt: try row.optionalBytes("salt"))
    }

    /// Implements ``KeyLifecycleRepository/openQuarantine(accountID:epoch:proof:budget:now:released:refused:)``.
    public func openQuarantine(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        released: AccountEvent, refused: AccountEvent
    ) async throws -> QuarantineOpening {
        try await write { db in
            guard let row = try Self.quarantinedEpoch(db, account: accountID, epoch: epoch) else { return .missing }
            guard try row.optionalDate("purged_at") == nil else { return .purged(try Self.summary(row)) }
            switch try Self.checkOldSecret(
                db, row: row, account: accountID, proof: proof, budget: budget, now: now, refused: refused)
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
            let manifest = try row.optionalBytes("manifest_blob").map {
                WireManifest(
                    counter: try row.optionalInt64("manifest_counter") ?? 0,
                    sequence: try row.optionalInt64("manifest_sequence") ?? 0, blob: $0)
            }
            let records = try db.rows(
                """
                SELECT item_id, revision, sequence, is_deleted, wrapped_key, content FROM quarantined_records
                WHERE account_id = ? AND epoch = ? ORDER BY item_id
                """, [accountID, epoch]
            ).map(Self.record)
            try Self.insert(released, accountID: accountID, db)
            return .released(
                QuarantineRelease(
                    epoch: epoch, wrappedKey: try row.optionalBytes(keyColumn) ?? Data(), manifest: manifest,
                    records: records))
        }
    }

    /// Implements ``KeyLifecycleRepository/proveOldSecret(accountID:epoch:proof:budget:now:proven:refused:)``.
    public func proveOldSecret(
        accountID: UUID, epoch: UInt32, proof: QuarantineProof, budget: GuessBudget, now: Date,
        proven: AccountEvent, refused: AccountEvent
    ) async throws -> OldSecretCheck {
        try await write { db in
            guard let row = try Self.quarantinedEpoch(db, account: accountID, epoch: epoch) else {
                return .unknownEpoch
            }
            let check = try Self.checkOldSecret(
                db, row: row, account: accountID, proof: proof, budget: budget, now: now, refused: refused)
            if check == .proven { try Self.insert(proven, accountID: accountID, db) }
            return check
        }
    }

    /// The row of one quarantined epoch, purged or not.
    private static func quarantinedEpoch(_ db: any SQLTransaction, account: UUID, epoch: UInt32) throws -> SQLRow? {
        try db.row("SELECT * FROM quarantined_epochs WHERE account_id = ? AND epoch = ?", [account, epoch])
    }

    /// The guess budget and the constant-time comparison shared by everything that releases an old
    /// epoch's material, inside the caller's transaction (so a wrong guess is counted even when the
    /// caller answers with a refusal).
    static func checkOldSecret(
        _ db: any SQLTransaction, row: SQLRow, account: UUID, proof: QuarantineProof, budget: GuessBudget, now: Date,
        refused: AccountEvent
    ) throws -> OldSecretCheck {
        let windowStart = now.addingTimeInterval(-budget.window)
        try db.execute("DELETE FROM quarantine_guesses WHERE account_id = ? AND at <= ?", [account, windowStart])
        let recent = try db.rows("SELECT at FROM quarantine_guesses WHERE account_id = ? ORDER BY at", [account])
            .map { try $0.date("at") }
        if recent.count >= budget.limit, let oldest = recent.first {
            let wait = oldest.addingTimeInterval(budget.window).timeIntervalSince(now)
            return .tooManyGuesses(retryAfter: max(1, Int(wait.rounded(.up))))
        }
        let (presented, verifierColumn) =
            switch proof {
            case .password(let key): (key, "auth_verifier")
            case .recoveryCode(let key): (key, "recovery_verifier")
            }
        // A quarantine from before verifiers were kept cannot be checked; see SQLiteSchema.v7.
        if let verifier = try row.optionalBytes(verifierColumn),
            !Tokens.constantTimeEquals(Tokens.verifier(of: presented), verifier)
        {
            try db.execute("INSERT INTO quarantine_guesses (account_id, at) VALUES (?, ?)", [account, now])
            try insert(refused, accountID: account, db)
            return .wrongSecret(remaining: budget.limit - recent.count - 1)
        }
        return .proven
    }

    /// Implements ``KeyLifecycleRepository/purgeExpiredQuarantines(now:)``.
    public func purgeExpiredQuarantines(now: Date) async throws -> Int {
        try await write { db in
            let expired = try db.rows(
                "SELECT account_id, epoch FROM quarantined_epochs WHERE purged_at IS NULL AND expires_at <= ?", [now])
            for row in expired {
                let account = try row.uuid("account_id")
                try Self.purge(db, account: account, epoch: try row.int64("epoch"), now: now)
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
    static func purge(_ db: any SQLTransaction, account: UUID, epoch: Int64, now: Date) throws {
        try db.execute("DELETE FROM quarantined_records WHERE account_id = ? AND epoch = ?", [account, epoch])
        try db.execute(
            """
            UPDATE quarantined_epochs SET purged_at = ?, password_wrapped_key = NULL, recovery_wrapped_key = NULL,
              manifest_blob = NULL
            WHERE account_id = ? AND epoch = ?
            """, [now, account, epoch])
    }
}

/// Storage failures that are the server's fault, not the request's.
enum StorageError: Error {
    case missingAccount
}
