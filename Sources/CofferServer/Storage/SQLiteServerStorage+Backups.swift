public import CofferAPI
public import Foundation
import GRDB

extension SQLiteServerStorage {
    /// Implements ``ServerStorage/storeBackup(accountID:id:epoch:now:quota:chunks:)``: one write per chunk,
    /// so memory holds one chunk, and an interrupted upload leaves nothing listed (its chunks go).
    public func storeBackup(
        accountID: UUID, id: UUID, epoch: UInt32, now: Date, quota: Int,
        chunks: AsyncThrowingStream<Data, any Error>
    ) async throws -> BackupStoreOutcome {
        let (account, backup) = (accountID.uuidString.lowercased(), id.uuidString.lowercased())
        let start = try await write { db -> BackupStoreOutcome? in
            if try Bool.fetchOne(
                db, sql: "SELECT complete FROM backups WHERE account_id = ? AND id = ?", arguments: [account, backup])
                == true
            {
                return .alreadyStored
            }
            try Self.deleteBackup(db, account: account, backup: backup)
            // Uploads in progress count too, so parallel uploads cannot slip past the quota together;
            // one abandoned for an hour no longer does (the janitor deletes it).
            let kept = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM backups WHERE account_id = ? AND (complete = 1 OR created_at > ?)",
                arguments: [account, now.addingTimeInterval(-Self.abandonedUploadAge)])
            if (kept ?? 0) >= quota { return .overQuota(quota: quota) }
            try db.execute(
                sql:
                    """
                    INSERT INTO backups (account_id, id, created_at, size, blob, complete, epoch)
                    VALUES (?, ?, ?, 0, X'', 0, ?)
                    """,
                arguments: [account, backup, now, Int64(epoch)])
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
                        sql: "INSERT INTO backup_chunks (account_id, backup_id, chunk, bytes) VALUES (?, ?, ?, ?)",
                        arguments: [account, backup, position, chunk])
                }
                index += 1
                size += chunk.count
            }
            let total = size
            try await write { db in
                try db.execute(
                    sql: "UPDATE backups SET size = ?, complete = 1 WHERE account_id = ? AND id = ?",
                    arguments: [Int64(total), account, backup])
            }
            return .stored
        } catch {
            try? await write { db in try Self.deleteBackup(db, account: account, backup: backup) }
            throw error
        }
    }

    /// How long an upload may stay unfinished before it counts as abandoned.
    static let abandonedUploadAge: TimeInterval = 3600

    static func deleteBackup(_ db: Database, account: String, backup: String) throws {
        try db.execute(
            sql: "DELETE FROM backup_chunks WHERE account_id = ? AND backup_id = ?", arguments: [account, backup])
        try db.execute(sql: "DELETE FROM backups WHERE account_id = ? AND id = ?", arguments: [account, backup])
    }

    /// Implements ``ServerStorage/backups(accountID:)``.
    public func backups(accountID: UUID) async throws -> [ServerBackup] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, created_at, size, epoch FROM backups WHERE account_id = ? AND complete = 1
                    ORDER BY created_at DESC
                    """,
                arguments: [accountID.uuidString.lowercased()]
            ).compactMap { row in
                UUID(uuidString: row["id"]).map {
                    ServerBackup(
                        id: $0, storedAt: row["created_at"], size: Int(row["size"] as Int64),
                        epoch: (row["epoch"] as Int64?).map { UInt32(clamping: $0) })
                }
            }
        }
    }

    /// Implements ``ServerStorage/backupChunkCount(accountID:id:)``; a backup stored whole by an
    /// earlier release counts as one chunk.
    public func backupChunkCount(accountID: UUID, id: UUID) async throws -> Int? {
        let (account, backup) = (accountID.uuidString.lowercased(), id.uuidString.lowercased())
        return try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT length(blob) AS legacy FROM backups WHERE account_id = ? AND id = ? AND complete = 1",
                    arguments: [account, backup])
            else { return nil }
            if (row["legacy"] as Int64? ?? 0) > 0 { return 1 }
            return try Int.fetchOne(
                db, sql: "SELECT count(*) FROM backup_chunks WHERE account_id = ? AND backup_id = ?",
                arguments: [account, backup]) ?? 0
        }
    }

    /// Implements ``ServerStorage/backupChunk(accountID:id:index:)``.
    public func backupChunk(accountID: UUID, id: UUID, index: Int) async throws -> Data? {
        let (account, backup) = (accountID.uuidString.lowercased(), id.uuidString.lowercased())
        return try await read { db in
            if let legacy = try Data.fetchOne(
                db, sql: "SELECT blob FROM backups WHERE account_id = ? AND id = ? AND length(blob) > 0",
                arguments: [account, backup])
            {
                return index == 0 ? legacy : nil
            }
            return try Data.fetchOne(
                db, sql: "SELECT bytes FROM backup_chunks WHERE account_id = ? AND backup_id = ? AND chunk = ?",
                arguments: [account, backup, index])
        }
    }
}
