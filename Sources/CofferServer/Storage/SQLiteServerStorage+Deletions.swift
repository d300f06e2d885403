public import CofferAPI
public import Foundation
import GRDB

extension SQLiteServerStorage {
    /// Implements ``ServerStorage/requestDeletion(_:accountID:tokenHash:event:)``.
    public func requestDeletion(_ deletion: PendingDeletion, accountID: UUID, tokenHash: Data, event: AccountEvent)
        async throws
    {
        let account = accountID.uuidString.lowercased()
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO pending_deletions (id, account_id, what, backup_id, requested_at, requested_from,
                      token_hash, confirm_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    deletion.id.uuidString.lowercased(), account, deletion.what.rawValue,
                    deletion.backupID?.uuidString.lowercased(), deletion.requestedAt, deletion.requestedFrom, tokenHash,
                    deletion.confirmBy,
                ])
            try Self.insert(event, accountID: account, db)
        }
    }

    /// Implements ``ServerStorage/pendingDeletions(accountID:now:)``.
    public func pendingDeletions(accountID: UUID, now: Date) async throws -> [PendingDeletion] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM pending_deletions
                    WHERE account_id = ? AND ended_at IS NULL AND (confirmed_at IS NOT NULL OR confirm_by > ?)
                    ORDER BY requested_at
                    """,
                arguments: [accountID.uuidString.lowercased(), now]
            ).compactMap(Self.pendingDeletion)
        }
    }

    /// Implements ``ServerStorage/deletion(id:tokenHash:now:)``.
    public func deletion(id: UUID, tokenHash: Data, now: Date) async throws -> (
        deletion: PendingDeletion, accountID: UUID
    )? {
        try await read { db in try Self.linkedDeletion(db, id: id, tokenHash: tokenHash, now: now) }
    }

    /// Implements ``ServerStorage/confirmDeletion(id:tokenHash:now:executesAt:event:)``.
    public func confirmDeletion(id: UUID, tokenHash: Data, now: Date, executesAt: Date, event: AccountEvent)
        async throws -> PendingDeletion?
    {
        try await write { db in
            guard let (deletion, accountID) = try Self.linkedDeletion(db, id: id, tokenHash: tokenHash, now: now),
                deletion.confirmedAt == nil
            else { return nil }
            try db.execute(
                sql: "UPDATE pending_deletions SET confirmed_at = ?, executes_at = ? WHERE id = ?",
                arguments: [now, executesAt, id.uuidString.lowercased()])
            try Self.insert(event, accountID: accountID.uuidString.lowercased(), db)
            var confirmed = deletion
            confirmed.confirmedAt = now
            confirmed.executesAt = executesAt
            return confirmed
        }
    }

    /// Implements ``ServerStorage/cancelDeletion(accountID:id:now:event:)``.
    public func cancelDeletion(accountID: UUID, id: UUID, now: Date, event: AccountEvent) async throws -> Bool {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE pending_deletions SET ended_at = ?, outcome = 'cancelled'
                    WHERE id = ? AND account_id = ? AND ended_at IS NULL
                    """,
                arguments: [now, id.uuidString.lowercased(), account])
            guard db.changesCount == 1 else { return false }
            try Self.insert(event, accountID: account, db)
            return true
        }
    }

    /// Implements ``ServerStorage/executeDueDeletions(now:)``. Also deletes backup uploads abandoned
    /// half-way (the server was stopped during one).
    public func executeDueDeletions(now: Date) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE pending_deletions SET ended_at = ?, outcome = 'lapsed'
                    WHERE ended_at IS NULL AND confirmed_at IS NULL AND confirm_by <= ?
                    """,
                arguments: [now, now])
            let abandoned = try Row.fetchAll(
                db, sql: "SELECT account_id, id FROM backups WHERE complete = 0 AND created_at <= ?",
                arguments: [now.addingTimeInterval(-Self.abandonedUploadAge)])
            for row in abandoned { try Self.deleteBackup(db, account: row["account_id"], backup: row["id"]) }
            let due = try Row.fetchAll(
                db,
                sql: "SELECT * FROM pending_deletions WHERE ended_at IS NULL AND executes_at <= ? ORDER BY executes_at",
                arguments: [now])
            for row in due {
                let account: String = row["account_id"]
                guard let deletion = Self.pendingDeletion(row) else { continue }
                let kind: AccountEventKind
                switch deletion.what {
                case .quarantine:
                    let epochs = try Int64.fetchAll(
                        db, sql: "SELECT epoch FROM quarantined_epochs WHERE account_id = ? AND purged_at IS NULL",
                        arguments: [account])
                    for epoch in epochs { try Self.purge(db, account: account, epoch: epoch, now: now) }
                    kind = .quarantinePurged
                case .backup:
                    try Self.deleteBackup(db, account: account, backup: row["backup_id"] ?? "")
                    kind = .backupDeleted
                }
                try db.execute(
                    sql: "UPDATE pending_deletions SET ended_at = ?, outcome = 'done' WHERE id = ?",
                    arguments: [now, row["id"] as String])
                try Self.insert(
                    AccountEvent(kind: kind, at: now, deviceName: nil, clientAddress: nil), accountID: account, db)
            }
            return due.count
        }
    }

    private static func linkedDeletion(_ db: Database, id: UUID, tokenHash: Data, now: Date) throws -> (
        deletion: PendingDeletion, accountID: UUID
    )? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM pending_deletions WHERE id = ? AND ended_at IS NULL",
                arguments: [id.uuidString.lowercased()]),
            Tokens.constantTimeEquals(row["token_hash"] ?? Data(), tokenHash),
            let deletion = pendingDeletion(row), let accountID = UUID(uuidString: row["account_id"])
        else { return nil }
        // An unconfirmed request lapses with its link; a confirmed one stays cancellable by the link.
        guard deletion.confirmedAt != nil || deletion.confirmBy > now else { return nil }
        return (deletion, accountID)
    }

    private static func pendingDeletion(_ row: Row) -> PendingDeletion? {
        guard let id = UUID(uuidString: row["id"]), let what = DeletionKind(rawValue: row["what"]) else { return nil }
        return PendingDeletion(
            id: id, what: what, backupID: (row["backup_id"] as String?).flatMap(UUID.init(uuidString:)),
            requestedAt: row["requested_at"], requestedFrom: row["requested_from"], confirmBy: row["confirm_by"],
            confirmedAt: row["confirmed_at"], executesAt: row["executes_at"])
    }
}
