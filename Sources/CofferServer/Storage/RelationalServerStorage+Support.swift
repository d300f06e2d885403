public import CofferAPI
public import Foundation

extension RelationalServerStorage: SupportStorage {
    /// Implements ``SupportStorage/deviceHistory(accountID:)``.
    public func deviceHistory(accountID: UUID) async throws -> [AccountDossier.Device] {
        try await read { db in
            try db.rows(
                """
                SELECT name, created_at, last_seen_at, revoked, revoked_reason FROM devices
                WHERE account_id = ? ORDER BY last_seen_at DESC
                """, [accountID]
            ).map { row in
                let signedOut: AccountDossier.SignOut? =
                    try !row.bool("revoked")
                    ? nil
                    : try row.optionalText("revoked_reason").flatMap(AccountDossier.SignOut.init(rawValue:))
                        ?? .signedOut
                return AccountDossier.Device(
                    name: try row.text("name"), firstSeenAt: try row.date("created_at"),
                    lastSeenAt: try row.date("last_seen_at"), signedOut: signedOut)
            }
        }
    }

    /// The ciphertext bytes of a set of records, in SQL both databases run.
    private static let ciphertextBytes =
        "CAST(coalesce(sum(coalesce(length(content), 0) + coalesce(length(wrapped_key), 0)), 0) AS BIGINT)"
    /// How many of a set of records are deletions (flags are booleans in PostgreSQL).
    private static let deletions = "coalesce(sum(CASE WHEN is_deleted THEN 1 ELSE 0 END), 0)"

    /// Implements ``SupportStorage/storedItems(accountID:)``: `length()` only, no ciphertext is read out.
    public func storedItems(accountID: UUID) async throws -> (
        epochs: [AccountDossier.EpochStorage], lastChangeAt: Date?
    ) {
        try await read { db in
            let current = try db.row(
                """
                SELECT a.epoch AS epoch, count(r.item_id) AS total,
                  coalesce(sum(CASE WHEN r.is_deleted THEN 1 ELSE 0 END), 0) AS deleted,
                  CAST(coalesce(sum(coalesce(length(r.content), 0) + coalesce(length(r.wrapped_key), 0)), 0) AS BIGINT)
                    AS bytes,
                  max(r.updated_at) AS last_change
                FROM accounts a LEFT JOIN records r ON r.account_id = a.id WHERE a.id = ? GROUP BY a.epoch
                """, [accountID])
            let quarantined = try db.rows(
                """
                SELECT epoch, count(*) AS total, \(Self.deletions) AS deleted, \(Self.ciphertextBytes) AS bytes
                FROM quarantined_records WHERE account_id = ? GROUP BY epoch ORDER BY epoch DESC
                """, [accountID])
            func storage(_ row: SQLRow, _ place: AccountDossier.Place) throws -> AccountDossier.EpochStorage {
                let (total, deleted) = (try row.int("total"), try row.int("deleted"))
                return AccountDossier.EpochStorage(
                    epoch: try row.uint32("epoch"), place: place, items: total - deleted, deletions: deleted,
                    ciphertextBytes: try row.int64("bytes"))
            }
            return (
                try (current.map { [try storage($0, .current)] } ?? [])
                    + quarantined.map { try storage($0, .quarantine) },
                try current?.optionalDate("last_change")
            )
        }
    }

    /// Implements ``SupportStorage/quarantinesNeedingOldSecret(accountID:)``.
    public func quarantinesNeedingOldSecret(accountID: UUID) async throws -> Set<UInt32> {
        try await read { db in
            Set(
                try db.rows(
                    """
                    SELECT epoch FROM quarantined_epochs
                    WHERE account_id = ? AND (auth_verifier IS NOT NULL OR recovery_verifier IS NOT NULL)
                    """, [accountID]
                ).map { try $0.uint32("epoch") })
        }
    }

    /// Implements ``SupportStorage/guessing(accountID:since:now:)``.
    public func guessing(accountID: UUID, since: Date, now: Date) async throws -> (
        wrongOldSecrets: Int, liveEmailCodes: Int, wrongEmailCodes: Int
    ) {
        try await read { db in
            let guesses =
                try db.int64(
                    "SELECT count(*) FROM quarantine_guesses WHERE account_id = ? AND at > ?", [accountID, since])
                ?? 0
            let codes = try db.row(
                """
                SELECT count(*) AS live, CAST(coalesce(sum(failed_attempts), 0) AS BIGINT) AS wrong FROM email_codes
                WHERE account_id = ? AND used = FALSE AND expires_at > ?
                """, [accountID, now])
            return (Int(guesses), try codes?.int("live") ?? 0, try codes?.int("wrong") ?? 0)
        }
    }

    /// Implements ``SupportStorage/accounts(containing:offset:limit:)``; `%`, `_` and `\` in the
    /// fragment are matched as themselves.
    public func accounts(containing fragment: String, offset: Int, limit: Int) async throws -> [AccountListing] {
        let escaped =
            fragment.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return try await read { db in
            try db.rows(
                """
                SELECT a.email, a.created_at, a.email_verified,
                  (SELECT count(*) FROM devices d WHERE d.account_id = a.id AND d.revoked = FALSE) AS devices,
                  (SELECT max(d.last_seen_at) FROM devices d WHERE d.account_id = a.id) AS last_seen
                FROM accounts a WHERE a.email LIKE ? ESCAPE '\\' ORDER BY a.created_at, a.email LIMIT ? OFFSET ?
                """, ["%\(escaped)%", limit, offset]
            ).map { row in
                AccountListing(
                    email: try row.text("email"), createdAt: try row.date("created_at"),
                    emailConfirmed: try row.bool("email_verified"), devices: try row.int("devices"),
                    lastSeenAt: try row.optionalDate("last_seen"))
            }
        }
    }

    /// Implements ``SupportStorage/statistics(since:)``.
    public func statistics(since: Date) async throws -> ServerStatistics {
        try await read { db in
            func count(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Int {
                Int(try db.int64(sql, arguments) ?? 0)
            }
            func events(_ kind: AccountEventKind) throws -> Int {
                try count("SELECT count(*) FROM account_events WHERE kind = ? AND at > ?", [kind.rawValue, since])
            }
            let stored =
                try db.int64(
                    """
                    SELECT (SELECT \(Self.ciphertextBytes) FROM records)
                      + (SELECT \(Self.ciphertextBytes) FROM quarantined_records)
                      + (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM backups WHERE complete = TRUE)
                    """) ?? 0
            return ServerStatistics(
                accounts: try count("SELECT count(*) FROM accounts"),
                confirmedAccounts: try count("SELECT count(*) FROM accounts WHERE email_verified = TRUE"),
                devices: try count("SELECT count(*) FROM devices WHERE revoked = FALSE"), storedBytes: stored,
                since: since, registrations: try count("SELECT count(*) FROM accounts WHERE created_at > ?", [since]),
                resets: try events(.reset), recoveries: try events(.recovery),
                quarantineRecoveries: try events(.quarantineRecovery), passwordChanges: try events(.passwordChanged))
        }
    }

    /// Implements ``SupportStorage/extendQuarantines(accountID:days:event:)``.
    public func extendQuarantines(accountID: UUID, days: Int, event: AccountEvent) async throws -> [Date] {
        try await write { db in
            let expiries = try db.rows(
                "SELECT epoch, expires_at FROM quarantined_epochs WHERE account_id = ? AND purged_at IS NULL",
                [accountID]
            ).map { row in (epoch: try row.int64("epoch"), expiry: try row.date("expires_at")) }
            // Extending one that has already run out starts from now: the janitor had simply not run yet.
            let extended = expiries.map {
                ($0.epoch, max($0.expiry, event.at).addingTimeInterval(Double(days) * 86_400))
            }
            for (epoch, expiry) in extended {
                try db.execute(
                    "UPDATE quarantined_epochs SET expires_at = ? WHERE account_id = ? AND epoch = ?",
                    [expiry, accountID, epoch])
            }
            if !extended.isEmpty { try Self.insert(event, accountID: accountID, db) }
            return extended.map(\.1)
        }
    }
}
