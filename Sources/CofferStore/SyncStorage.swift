public import CofferCrypto
public import CofferVault
public import Foundation
import GRDB

/// Where this device syncs to, and how far it got.
public struct SyncState: Sendable, Equatable {
    /// The server's base URL.
    public var serverURL: String
    /// The account's e-mail address.
    public var email: String
    /// This device's id on the server.
    public var deviceID: UUID
    /// This device's name.
    public var deviceName: String
    /// The refresh token, sealed by the account key (nothing usable in clear on disk).
    public var sealedRefreshToken: SealedBox?
    /// The last sequence pulled.
    public var cursor: Int64
    /// The highest manifest counter seen from the server; a lower one is a rollback.
    public var serverManifestCounter: Int64

    /// Creates a state.
    public init(
        serverURL: String, email: String, deviceID: UUID, deviceName: String, sealedRefreshToken: SealedBox?,
        cursor: Int64,
        serverManifestCounter: Int64
    ) {
        self.serverURL = serverURL
        self.email = email
        self.deviceID = deviceID
        self.deviceName = deviceName
        self.sealedRefreshToken = sealedRefreshToken
        self.cursor = cursor
        self.serverManifestCounter = serverManifestCounter
    }
}

/// What this device knows of an item's state on the server.
public struct ItemSyncMetadata: Sendable, Equatable {
    /// The server revision the local record is based on; 0 when never synced.
    public var syncedRevision: Int64
    /// The record at `syncedRevision`, for three-way merges; `nil` when never synced or purged.
    public var base: SealedItem?
    /// Changed locally since the last sync.
    public var isDirty: Bool

    /// Creates metadata.
    public init(syncedRevision: Int64, base: SealedItem?, isDirty: Bool) {
        self.syncedRevision = syncedRevision
        self.base = base
        self.isDirty = isDirty
    }
}

/// One item's outcome of a sync, written atomically with the others.
public struct SyncedItem: Sendable {
    /// The local record after the sync; `nil` removes it.
    public var record: SealedItem?
    /// Its id.
    public var id: UUID
    /// The new sync metadata; `nil` forgets the item.
    public var metadata: ItemSyncMetadata?

    /// Creates an outcome.
    public init(id: UUID, record: SealedItem?, metadata: ItemSyncMetadata?) {
        self.id = id
        self.record = record
        self.metadata = metadata
    }
}

extension VaultStore {
    /// The sync state, `nil` for a local-only vault.
    public func syncState() throws(CofferStoreError) -> SyncState? {
        try readDatabase { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM syncState WHERE id = 1"),
                let deviceID = UUID(uuidString: row["deviceID"])
            else { return nil }
            let sealed = (row["sealedRefreshToken"] as Data?).flatMap { try? SealedBox(bytes: $0) }
            return SyncState(
                serverURL: row["serverURL"], email: row["email"], deviceID: deviceID, deviceName: row["deviceName"],
                sealedRefreshToken: sealed, cursor: row["cursor"], serverManifestCounter: row["serverManifestCounter"])
        }
    }

    /// Replaces the sync state (or removes it with `nil`, making the vault local-only again).
    public func saveSyncState(_ state: SyncState?) throws(CofferStoreError) {
        try writeDatabase { db in try SyncSchema.save(db, state) }
    }

    /// Sync metadata of every item the device has ever synced or changed.
    public func syncMetadata() throws(CofferStoreError) -> [UUID: ItemSyncMetadata] {
        try readDatabase { db in
            var result: [UUID: ItemSyncMetadata] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM itemSync") {
                guard let id = UUID(uuidString: row["id"]) else { continue }
                let revision: Int64 = row["syncedRevision"]
                var base: SealedItem?
                if let key = (row["baseWrappedKey"] as Data?).flatMap({ try? SealedBox(bytes: $0) }),
                    let content = (row["baseContent"] as Data?).flatMap({ try? SealedBox(bytes: $0) })
                {
                    base = SealedItem(id: id, revision: revision, wrappedKey: key, content: content)
                }
                result[id] = ItemSyncMetadata(
                    syncedRevision: revision, base: base, isDirty: (row["isDirty"] as Int64) != 0)
            }
            return result
        }
    }

    /// How many items changed here since the last sync (cheap: no records are read).
    public func pendingChangeCount() throws(CofferStoreError) -> Int {
        try readDatabase { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM itemSync WHERE isDirty = 1") ?? 0 }
    }

    /// Replaces the account header (KDF parameters, salt and wrapped keys), e.g. after rotating the recovery code.
    public func replaceHeader(_ header: AccountHeader) throws(CofferStoreError) {
        try writeDatabase { db in try VaultStore.updateHeader(db, header) }
    }

    /// Marks every stored item as changed, so the next sync uploads it (a local vault joining a server).
    public func markAllDirty() throws(CofferStoreError) {
        try writeDatabase { db in
            for id in try String.fetchAll(db, sql: "SELECT id FROM item") {
                if let uuid = UUID(uuidString: id) { try SyncSchema.markDirty(db, id: uuid) }
            }
        }
    }

    /// Writes the outcome of a sync in one transaction, guarded by the local manifest counter.
    public func applySync(
        _ items: [SyncedItem], state: SyncState, manifest: ManifestState, expectedCounter: UInt64
    ) throws(CofferStoreError) {
        try writeDatabase { db in
            guard let counter = try Int64.fetchOne(db, sql: "SELECT manifestCounter FROM account WHERE id = 1"),
                UInt64(counter) == expectedCounter
            else { throw CofferStoreError.concurrentChange }
            for item in items {
                let key = item.id.uuidString.lowercased()
                if let record = item.record {
                    try ItemRow(record).save(db)
                } else {
                    _ = try ItemRow.deleteOne(db, key: key)
                }
                if let metadata = item.metadata {
                    try db.execute(
                        sql: """
                            INSERT INTO itemSync (id, syncedRevision, baseWrappedKey, baseContent, isDirty) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT(id) DO UPDATE SET syncedRevision = excluded.syncedRevision,
                              baseWrappedKey = excluded.baseWrappedKey, baseContent = excluded.baseContent, isDirty = excluded.isDirty
                            """,
                        arguments: [
                            key, metadata.syncedRevision, metadata.base?.wrappedKey.bytes, metadata.base?.content.bytes,
                            metadata.isDirty ? 1 : 0,
                        ])
                } else {
                    try db.execute(sql: "DELETE FROM itemSync WHERE id = ?", arguments: [key])
                }
            }
            try SyncSchema.save(db, state)
            try db.execute(
                sql: "UPDATE account SET manifestCounter = ?, manifestMAC = ? WHERE id = 1",
                arguments: [Int64(manifest.counter), Data(manifest.mac)])
        }
    }
}

/// SQL shared by local commits and sync writes.
enum SyncSchema {
    static func markDirty(_ db: Database, id: UUID) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO itemSync (id, syncedRevision, isDirty) VALUES (?, 0, 1)
                ON CONFLICT(id) DO UPDATE SET isDirty = 1
                """
        ).execute(arguments: [id.uuidString.lowercased()])
    }

    /// A purged item the server knows becomes a pending tombstone; one it never saw is forgotten.
    static func markPurged(_ db: Database, id: UUID) throws {
        let key = id.uuidString.lowercased()
        try db.execute(sql: "DELETE FROM itemSync WHERE id = ? AND syncedRevision = 0", arguments: [key])
        try db.execute(sql: "UPDATE itemSync SET isDirty = 1 WHERE id = ?", arguments: [key])
    }

    static func save(_ db: Database, _ state: SyncState?) throws {
        guard let state else {
            try db.execute(sql: "DELETE FROM syncState")
            return
        }
        try db.execute(
            sql: """
                INSERT INTO syncState (id, serverURL, email, deviceID, deviceName, sealedRefreshToken, cursor, serverManifestCounter)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET serverURL = excluded.serverURL, email = excluded.email,
                  deviceID = excluded.deviceID, deviceName = excluded.deviceName,
                  sealedRefreshToken = excluded.sealedRefreshToken, cursor = excluded.cursor,
                  serverManifestCounter = excluded.serverManifestCounter
                """,
            arguments: [
                state.serverURL, state.email, state.deviceID.uuidString.lowercased(), state.deviceName,
                state.sealedRefreshToken?.bytes, state.cursor, state.serverManifestCounter,
            ])
    }
}
