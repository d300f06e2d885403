public import CofferAPI
public import Foundation

extension RelationalServerStorage {
    /// Implements ``BackupRepository/storeBackup(accountID:id:epoch:now:quota:chunks:)``: one write per chunk,
    /// so memory holds one chunk, and an interrupted upload leaves nothing listed (its chunks go).
    public func storeBackup(
        accountID: UUID, id: UUID, epoch: UInt32, now: Date, quota: Int,
        chunks: AsyncThrowingStream<Data, any Error>
    ) async throws -> BackupStoreOutcome {
        let start = try await write { db -> BackupStoreOutcome? in
            if try db.row("SELECT complete FROM backups WHERE account_id = ? AND id = ?", [accountID, id])?
                .bool("complete") == true
            {
                return .alreadyStored
            }
            try Self.deleteBackup(db, account: accountID, backup: id)
            // Uploads in progress count too, so parallel uploads cannot slip past the quota together;
            // one abandoned for an hour no longer does (the janitor deletes it).
            let kept = try db.int64(
                "SELECT count(*) FROM backups WHERE account_id = ? AND (complete = TRUE OR created_at > ?)",
                [accountID, now.addingTimeInterval(-Self.abandonedUploadAge)])
            if (kept ?? 0) >= quota { return .overQuota(quota: quota) }
            try db.execute(
                """
                INSERT INTO backups (account_id, id, created_at, size, blob, complete, epoch)
                VALUES (?, ?, ?, 0, ?, FALSE, ?)
                """, [accountID, id, now, Data(), epoch])
            return nil
        }
        if let start { return start }
        do {
            var index = 0
            var size = 0
            for try await chunk in chunks {
                let position = index
                try await write { db in
                    try db.execute(
                        "INSERT INTO backup_chunks (account_id, backup_id, chunk, bytes) VALUES (?, ?, ?, ?)",
                        [accountID, id, position, chunk])
                }
                index += 1
                size += chunk.count
            }
            let total = size
            try await write { db in
                try db.execute(
                    "UPDATE backups SET size = ?, complete = TRUE WHERE account_id = ? AND id = ?",
                    [total, accountID, id])
            }
            return .stored
        } catch {
            try? await write { db in try Self.deleteBackup(db, account: accountID, backup: id) }
            throw error
        }
    }

    /// How long an upload may stay unfinished before it counts as abandoned.
    static let abandonedUploadAge: TimeInterval = 3600

    static func deleteBackup(_ db: any SQLTransaction, account: UUID, backup: UUID) throws {
        try db.execute("DELETE FROM backup_chunks WHERE account_id = ? AND backup_id = ?", [account, backup])
        try db.execute("DELETE FROM backups WHERE account_id = ? AND id = ?", [account, backup])
    }

    /// Implements ``BackupRepository/backups(accountID:)``.
    public func backups(accountID: UUID) async throws -> [ServerBackup] {
        try await read { db in
            try db.rows(
                """
                SELECT id, created_at, size, epoch FROM backups WHERE account_id = ? AND complete = TRUE
                ORDER BY created_at DESC
                """, [accountID]
            ).map { row in
                ServerBackup(
                    id: try row.uuid("id"), storedAt: try row.date("created_at"), size: try row.int("size"),
                    epoch: try row.optionalInt64("epoch").map { UInt32(clamping: $0) })
            }
        }
    }

    /// Implements ``BackupRepository/backupChunkCount(accountID:id:)``; a backup stored whole by an
    /// earlier release counts as one chunk.
    public func backupChunkCount(accountID: UUID, id: UUID) async throws -> Int? {
        try await read { db in
            guard
                let row = try db.row(
                    "SELECT length(blob) AS legacy FROM backups WHERE account_id = ? AND id = ? AND complete = TRUE",
                    [accountID, id])
            else { return nil }
            if try row.optionalInt64("legacy") ?? 0 > 0 { return 1 }
            return Int(
                try db.int64(
                    "SELECT count(*) FROM backup_chunks WHERE account_id = ? AND backup_id = ?", [accountID, id])
                    ?? 0)
        }
    }

    /// Implements ``BackupRepository/backupChunk(accountID:id:index:)``.
    public func backupChunk(accountID: UUID, id: UUID, index: Int) async throws -> Data? {
        try await read { db in
            if let legacy = try db.row(
                "SELECT blob FROM backups WHERE account_id = ? AND id = ? AND length(blob) > 0", [accountID, id])
            {
                return index == 0 ? try legacy.bytes("blob") : nil
            }
            return try db.row(
                "SELECT bytes FROM backup_chunks WHERE account_id = ? AND backup_id = ? AND chunk = ?",
                [accountID, id, index]
            )?.bytes("bytes")
        }
    }
}
