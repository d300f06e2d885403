public import CofferAPI
public import Foundation

/// Backups kept for new devices: opaque, sealed by the client, stored a chunk at a time.
public protocol BackupRepository: Sendable {
    /// Stores a backup from its bytes as they arrive, a bounded chunk at a time; nothing is listed
    /// until the last chunk is in. Nothing is ever evicted to make room: over `quota` backups, the
    /// upload is refused before a byte is stored.
    func storeBackup(
        accountID: UUID, id: UUID, epoch: UInt32, now: Date, quota: Int, chunks: AsyncThrowingStream<Data, any Error>
    ) async throws -> BackupStoreOutcome
    /// The account's stored backups, newest first.
    func backups(accountID: UUID) async throws -> [ServerBackup]
    /// How many chunks one stored backup has; `nil` when there is no such backup.
    func backupChunkCount(accountID: UUID, id: UUID) async throws -> Int?
    /// One chunk of a stored backup, in order from 0.
    func backupChunk(accountID: UUID, id: UUID, index: Int) async throws -> Data?
}

/// What became of a backup upload.
public enum BackupStoreOutcome: Sendable, Equatable {
    /// It is stored and listed.
    case stored
    /// A backup with that id was already stored; it stays as it was.
    case alreadyStored
    /// The account keeps `quota` backups already; nothing was stored.
    case overQuota(quota: Int)
}
