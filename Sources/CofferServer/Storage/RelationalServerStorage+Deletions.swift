public import CofferAPI
public import Foundation

extension RelationalServerStorage {
    /// Implements ``DeletionRepository/requestDeletion(_:accountID:tokenHash:event:mail:)``.
    public func requestDeletion(
        _ deletion: PendingDeletion, accountID: UUID, tokenHash: Data, event: AccountEvent, mail: OutboxMail
    ) async throws {
        try await write { db in
            try db.execute(
                """
                INSERT INTO pending_deletions (id, account_id, what, backup_id, requested_at, requested_from,
                  token_hash, confirm_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    deletion.id, accountID, deletion.what.rawValue, deletion.backupID, deletion.requestedAt,
                    deletion.requestedFrom, tokenHash, deletion.confirmBy,
                ])
            try Self.insert(event, accountID: accountID, db)
            try Self.post(mail, db)
        }
    }

    /// Implements ``DeletionRepository/pendingDeletions(accountID:now:)``.
    public func pendingDeletions(accountID: UUID, now: Date) async throws -> [PendingDeletion] {
        try await read { db in
            try db.rows(
                """
                SELECT * FROM pending_deletions
                WHERE account_id = ? AND ended_at IS NULL AND (confirmed_at IS NOT NULL OR confirm_by > ?)
                ORDER BY requested_at
                """, [accountID, now]
            ).compactMap(Self.pendingDeletion)
        }
    }

    /// Implements ``DeletionRepository/deletion(id:tokenHash:now:)``.
    public func deletion(id: UUID, tokenHash: Data, now: Date) async throws -> (
        deletion: PendingDeletion, accountID: UUID
    )? {
        try await read { db in try Self.linkedDeletion(db, id: id, tokenHash: tokenHash, now: now) }
    }

    /// Implements ``DeletionRepository/confirmDeletion(id:tokenHash:now:executesAt:event:)``.
    public func confirmDeletion(id: UUID, tokenHash: Data, now: Date, executesAt: Date, event: AccountEvent)
        async throws -> PendingDeletion?
    {
        try await write { db in
            guard let (deletion, accountID) = try Self.linkedDeletion(db, id: id, tokenHash: tokenHash, now: now),
                deletion.confirmedAt == nil
            else { return nil }
            try db.execute(
                "UPDATE pending_deletions SET confirmed_at = ?, executes_at = ? WHERE id = ?", [now, executesAt, id])
            try Self.insert(event, accountID: accountID, db)
            var confirmed = deletion
            confirmed.confirmedAt = now
            confirmed.executesAt = executesAt
            return confirmed
        }
    }

    /// Implements ``DeletionRepository/cancelDeletion(accountID:id:now:event:)``.
    public func cancelDeletion(accountID: UUID, id: UUID, now: Date, event: AccountEvent) async throws -> Bool {
        try await write { db in
            let cancelled = try db.execute(
                """
                UPDATE pending_deletions SET ended_at = ?, outcome = 'cancelled'
                WHERE id = ? AND account_id = ? AND ended_at IS NULL
                """, [now, id, accountID])
            guard cancelled == 1 else { return false }
            try Self.insert(event, accountID: accountID, db)
            return true
        }
    }

    /// Implements ``DeletionRepository/executeDueDeletions(now:)``. Also deletes backup uploads abandoned
    /// half-way (the server was stopped during one).
    public func executeDueDeletions(now: Date) async throws -> Int {
        try await write { db in
            try db.execute(
                """
                UPDATE pending_deletions SET ended_at = ?, outcome = 'lapsed'
                WHERE ended_at IS NULL AND confirmed_at IS NULL AND confirm_by <= ?
                """, [now, now])
            let abandoned = try db.rows(
                "SELECT account_id, id FROM backups WHERE complete = FALSE AND created_at <= ?",
                [now.addingTimeInterval(-Self.abandonedUploadAge)])
            for row in abandoned {
                try Self.deleteBackup(db, account: try row.uuid("account_id"), backup: try row.uuid("id"))
            }
            let due = try db.rows(
                "SELECT * FROM pending_deletions WHERE ended_at IS NULL AND executes_at <= ? ORDER BY executes_at",
                [now])
            for row in due {
                let account = try row.uuid("account_id")
                guard let deletion = try Self.pendingDeletion(row) else { continue }
                let kind: AccountEventKind
                switch deletion.what {
                case .quarantine:
                    let epochs = try db.rows(
                        "SELECT epoch FROM quarantined_epochs WHERE account_id = ? AND purged_at IS NULL", [account])
                    for epoch in epochs {
                        try Self.purge(db, account: account, epoch: try epoch.int64("epoch"), now: now)
                    }
                    kind = .quarantinePurged
                case .backup:
                    if let backup = deletion.backupID { try Self.deleteBackup(db, account: account, backup: backup) }
                    kind = .backupDeleted
                }
                try db.execute(
                    "UPDATE pending_deletions SET ended_at = ?, outcome = 'done' WHERE id = ?", [now, deletion.id])
                try Self.insert(
                    AccountEvent(kind: kind, at: now, deviceName: nil, clientAddress: nil), accountID: account, db)
            }
            return due.count
        }
    }

    private static func linkedDeletion(_ db: any SQLTransaction, id: UUID, tokenHash: Data, now: Date) throws -> (
        deletion: PendingDeletion, accountID: UUID
    )? {
        guard let row = try db.row("SELECT * FROM pending_deletions WHERE id = ? AND ended_at IS NULL", [id]),
            Tokens.constantTimeEquals(try row.optionalBytes("token_hash") ?? Data(), tokenHash),
            let deletion = try pendingDeletion(row)
        else { return nil }
        // An unconfirmed request lapses with its link; a confirmed one stays cancellable by the link.
        guard deletion.confirmedAt != nil || deletion.confirmBy > now else { return nil }
        return (deletion, try row.uuid("account_id"))
    }

    /// A deletion from its row; `nil` for a kind this version does not know.
    private static func pendingDeletion(_ row: SQLRow) throws -> PendingDeletion? {
        guard let what = DeletionKind(rawValue: try row.text("what")) else { return nil }
        return PendingDeletion(
            id: try row.uuid("id"), what: what, backupID: try row.optionalUUID("backup_id"),
            requestedAt: try row.date("requested_at"),
            requestedFrom: try row.optionalText("requested_from"), confirmBy: try row.date("confirm_by"),
            confirmedAt: try row.optionalDate("confirmed_at"), executesAt: try row.optionalDate("executes_at"))
    }
}
