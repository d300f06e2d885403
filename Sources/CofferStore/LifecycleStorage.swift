import CofferCrypto
public import CofferVault
import Foundation
import GRDB

/// What a device learned when the server told it the account had been reset elsewhere.
public struct AccountResetNotice: Sendable, Equatable, Codable {
    /// When, as the server said it (ISO 8601), if it did.
    public var resetAt: String?
    /// From which client address.
    public var resetFrom: String?
    /// The epoch the account moved to.
    public var epoch: UInt32

    /// Creates a notice.
    public init(resetAt: String?, resetFrom: String?, epoch: UInt32) {
        self.resetAt = resetAt
        self.resetFrom = resetFrom
        self.epoch = epoch
    }
}

/// The header as stored in `pendingHeader`, which shares the account table's columns.
private struct PendingHeaderRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "pendingHeader"
    var row: AccountRow

    init(row: AccountRow) { self.row = row }
    init(from decoder: any Decoder) throws { row = try AccountRow(from: decoder) }
    func encode(to encoder: any Encoder) throws { try row.encode(to: encoder) }
}

extension VaultStore {
    /// A key change waiting for the server's answer, if one was interrupted.
    public func pendingHeader() throws(CofferStoreError) -> AccountHeader? {
        let row = try readDatabase { db in try PendingHeaderRow.fetchOne(db) }
        do {
            return try row?.row.header()
        } catch {
            throw .corruptDatabase(path: path)
        }
    }

    /// Keeps `header` as the change in flight; the current header stays in force.
    public func savePendingHeader(_ header: AccountHeader) throws(CofferStoreError) {
        try writeDatabase { db in
            try PendingHeaderRow.deleteAll(db)
            try PendingHeaderRow(row: AccountRow(header: header, manifestCounter: 0, manifestMAC: [])).insert(db)
        }
    }

    /// Makes the pending header the current one, in one transaction; no-op without one.
    public func promotePendingHeader() throws(CofferStoreError) {
        guard let pending = try pendingHeader() else { return }
        try writeDatabase { db in
            try VaultStore.updateHeader(db, pending)
            try PendingHeaderRow.deleteAll(db)
        }
    }

    /// Forgets the pending header (the server never took it).
    public func discardPendingHeader() throws(CofferStoreError) {
        try writeDatabase { db in try PendingHeaderRow.deleteAll(db) }
    }

    /// The last reset this device was told about, until it signs in to the new epoch.
    public func resetNotice() throws(CofferStoreError) -> AccountResetNotice? {
        try readDatabase { db in
            try Row.fetchOne(db, sql: "SELECT * FROM resetNotice WHERE id = 1").map {
                AccountResetNotice(
                    resetAt: $0["resetAt"], resetFrom: $0["resetFrom"], epoch: UInt32(clamping: $0["epoch"] as Int64))
            }
        }
    }

    /// Remembers (or with `nil` forgets) a reset notice.
    public func saveResetNotice(_ notice: AccountResetNotice?) throws(CofferStoreError) {
        try writeDatabase { db in
            try db.execute(sql: "DELETE FROM resetNotice")
            if let notice {
                try db.execute(
                    sql: "INSERT INTO resetNotice (id, resetAt, resetFrom, epoch) VALUES (1, ?, ?, ?)",
                    arguments: [notice.resetAt, notice.resetFrom, Int64(notice.epoch)])
            }
        }
    }

    /// How many records the file holds (live and trashed items), without opening any.
    public func recordCount() throws(CofferStoreError) -> Int {
        try readDatabase { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM item") ?? 0 }
    }

    static func updateHeader(_ db: Database, _ header: AccountHeader) throws {
        try db.execute(
            sql: """
                UPDATE account SET accountID = ?, epoch = ?, kdfMemoryKiB = ?, kdfIterations = ?, kdfParallelism = ?,
                  salt = ?, passwordWrappedKey = ?, recoveryWrappedKey = ? WHERE id = 1
                """,
            arguments: [
                header.accountID.uuidString.lowercased(), Int64(header.epoch), Int64(header.kdfParameters.memoryKiB),
                Int64(header.kdfParameters.iterations), Int64(header.kdfParameters.parallelism), Data(header.salt),
                header.passwordWrappedKey.bytes, header.recoveryWrappedKey.bytes,
            ])
    }
}

/// Vault files of earlier key epochs, set aside when a device moves to a reset account's new epoch.
///
/// Nothing is deleted because of a remote reset (security.md): the old file is renamed into
/// `before-reset/` next to the vault, still opening with the old password, until the user moves its
/// items into the new account (`coffer recover --from-device`) and deletes it themselves.
public enum VaultArchive {
    /// The folder archives live in, next to `vaultFile`.
    public static func directory(besides vaultFile: String) -> String {
        ((vaultFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("before-reset")
    }

    /// Moves `vaultFile` (of key epoch `epoch`) into the archive folder; returns the new path.
    ///
    /// The file is opened first, which rolls back any interrupted transaction, so the rename moves a
    /// consistent database with no journal left behind.
    public static func archive(vaultFile: String) throws(CofferStoreError) -> String {
        let store = try VaultStore.open(at: vaultFile)
        let epoch = try store.header().epoch
        let folder = directory(besides: vaultFile)
        let stamp = Date().formatted(
            Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().dateTimeSeparator(.standard).time(
                includingFractionalSeconds: false)
        ).replacingOccurrences(of: ":", with: "")
        let target = (folder as NSString).appendingPathComponent("vault-epoch\(epoch)-\(stamp).sqlite")
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.moveItem(atPath: vaultFile, toPath: target)
        } catch {
            throw .database("could not move \(vaultFile) to \(target): \(error.localizedDescription)")
        }
        return target
    }

    /// The archived vault files next to `vaultFile`, oldest first.
    public static func archives(besides vaultFile: String) -> [String] {
        let folder = directory(besides: vaultFile)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasPrefix("vault-epoch") && $0.hasSuffix(".sqlite") }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
    }
}
