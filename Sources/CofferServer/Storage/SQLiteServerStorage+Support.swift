public import CofferAPI
public import Foundation
import GRDB

extension SQLiteServerStorage: SupportStorage {
    /// Implements ``SupportStorage/deviceHistory(accountID:)``.
    public func deviceHistory(accountID: UUID) async throws -> [AccountDossier.Device] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT name, created_at, last_seen_at, revoked, revoked_reason FROM devices
                    WHERE account_id = ? ORDER BY last_seen_at DESC
                    """,
                arguments: [accountID.uuidString.lowercased()]
            ).map { row in
                let signedOut: AccountDossier.SignOut? =
                    (row["revoked"] as Int64) == 0
                    ? nil
                    : (row["revoked_reason"] as String?).flatMap(AccountDossier.SignOut.init(rawValue:)) ?? .signedOut
                return AccountDossier.Device(
                    name: row["name"], firstSeenAt: row["created_at"], lastSeenAt: row["last_seen_at"],
                    signedOut: signedOut)
            }
        }
    }

    /// Implements ``SupportStorage/storedItems(accountID:)``: `length()` only, no ciphertext is read out.
    public func storedItems(accountID: UUID) async throws -> (
        epochs: [AccountDossier.EpochStorage], lastChangeAt: Date?
    ) {
        let account = accountID.uuidString.lowercased()
        return try await read { db in
            let size = "coalesce(sum(coalesce(length(content), 0) + coalesce(length(wrapped_key), 0)), 0)"
            let current = try Row.fetchOne(
                db,
                sql: """
                    SELECT a.epoch AS epoch, count(r.item_id) AS total, coalesce(sum(r.is_deleted), 0) AS deleted,
                      coalesce(sum(coalesce(length(r.content), 0) + coalesce(length(r.wrapped_key), 0)), 0) AS bytes,
                      max(r.updated_at) AS last_change
                    FROM accounts a LEFT JOIN records r ON r.account_id = a.id WHERE a.id = ? GROUP BY a.epoch
                    """,
                arguments: [account])
            let quarantined = try Row.fetchAll(
                db,
                sql: """
                    SELECT epoch, count(*) AS total, coalesce(sum(is_deleted), 0) AS deleted, \(size) AS bytes
                    FROM quarantined_records WHERE account_id = ? GROUP BY epoch ORDER BY epoch DESC
                    """,
                arguments: [account])
            func storage(_ row: Row, _ place: AccountDossier.Place) -> AccountDossier.EpochStorage {
                let (total, deleted) = (Int(row["total"] as Int64), Int(row["deleted"] as Int64))
                return AccountDossier.EpochStorage(
                    epoch: UInt32(clamping: row["epoch"] as Int64), place: place, items: total - deleted,
                    deletions: deleted, ciphertextBytes: row["bytes"])
            }
            return (
                (current.map { [storage($0, .current)] } ?? []) + quarantined.map { storage($0, .quarantine) },
                current?["last_change"]
            )
        }
    }

    /// Implements ``SupportStorage/quarantinesNeedingOldSecret(accountID:)``.
    public func quarantinesNeedingOldSecret(accountID: UUID) async throws -> Set<UInt32> {
        try await read { db in
            Set(
                try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT epoch FROM quarantined_epochs
                        WHERE account_id = ? AND (auth_verifier IS NOT NULL OR recovery_verifier IS NOT NULL)
                        """,
                    arguments: [accountID.uuidString.lowercased()]
                ).map { UInt32(clamping: $0) })
        }
    }

    /// Implements ``SupportStorage/guessing(accountID:since:now:)``.
    public func guessing(accountID: UUID, since: Date, now: Date) async throws -> (
        wrongOldSecrets: Int, liveEmailCodes: Int, wrongEmailCodes: Int
    ) {
        let account = accountID.uuidString.lowercased()
        return try await read { db in
            let guesses =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM quarantine_guesses WHERE account_id = ? AND at > ?",
                    arguments: [account, since]) ?? 0
            let codes = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS live, coalesce(sum(failed_attempts), 0) AS wrong FROM email_codes
                    WHERE account_id = ? AND used = 0 AND expires_at > ?
                    """,
                arguments: [account, now])
            return (guesses, Int(codes?["live"] as Int64? ?? 0), Int(codes?["wrong"] as Int64? ?? 0))
        }
    }

    /// Implements ``SupportStorage/accounts(containing:offset:limit:)``; `%`, `_` and `\` in the
    /// fragment are matched as themselves.
    public func accounts(containing fragment: String, offset: Int, limit: Int) async throws -> [AccountListing] {
        let escaped =
            fragment.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.email, a.created_at, a.email_verified,
                      (SELECT count(*) FROM devices d WHERE d.account_id = a.id AND d.revoked = 0) AS devices,
                      (SELECT max(d.last_seen_at) FROM devices d WHERE d.account_id = a.id) AS last_seen
                    FROM accounts a WHERE a.email LIKE ? ESCAPE '\\' ORDER BY a.created_at, a.email LIMIT ? OFFSET ?
                    """,
                arguments: ["%\(escaped)%", limit, offset]
            ).map { row in
                AccountListing(
                    email: row["email"], createdAt: row["created_at"], emailConfirmed: row["email_verified"],
                    devices: Int(row["devices"] as Int64), lastSeenAt: row["last_seen"])
            }
        }
    }

    /// Implements ``SupportStorage/statistics(since:)``.
    public func statistics(since: Date) async throws -> ServerStatistics {
        try await read { db in
            func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
                try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            }
            func events(_ kind: AccountEventKind) throws -> Int {
                try count(
                    "SELECT count(*) FROM account_events WHERE kind = ? AND at > ?", [kind.rawValue, since])
            }
            let size = "coalesce(sum(coalesce(length(content), 0) + coalesce(length(wrapped_key), 0)), 0)"
            let stored =
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT \(size) FROM records) + (SELECT \(size) FROM quarantined_records)
                          + (SELECT coalesce(sum(size), 0) FROM backups WHERE complete = 1)
                        """) ?? 0
            return ServerStatistics(
                accounts: try count("SELECT count(*) FROM accounts"),
                confirmedAccounts: try count("SELECT count(*) FROM accounts WHERE email_verified = 1"),
                devices: try count("SELECT count(*) FROM devices WHERE revoked = 0"), storedBytes: stored,
                since: since, registrations: try count("SELECT count(*) FROM accounts WHERE created_at > ?", [since]),
                resets: try events(.reset), recoveries: try events(.recovery),
                quarantineRecoveries: try events(.quarantineRecovery), passwordChanges: try events(.passwordChanged))
        }
    }

    /// Implements ``SupportStorage/extendQuarantines(accountID:days:event:)``.
    public func extendQuarantines(accountID: UUID, days: Int, event: AccountEvent) async throws -> [Date] {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            let expiries = try Row.fetchAll(
                db,
                sql: "SELECT epoch, expires_at FROM quarantined_epochs WHERE account_id = ? AND purged_at IS NULL",
                arguments: [account]
            ).map { row in (epoch: row["epoch"] as Int64, expiry: (row["expires_at"] as Date)) }
            // Extending one that has already run out starts from now: the janitor had simply not run yet.
            let extended = expiries.map {
                ($0.epoch, max($0.expiry, event.at).addingTimeInterval(Double(days) * 86_400))
            }
            for (epoch, expiry) in extended {
                try db.execute(
                    sql: "UPDATE quarantined_epochs SET expires_at = ? WHERE account_id = ? AND epoch = ?",
                    arguments: [expiry, account, epoch])
            }
            if !extended.isEmpty { try Self.insert(event, accountID: account, db) }
            return extended.map(\.1)
        }
    }
}
