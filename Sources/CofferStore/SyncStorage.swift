public import CofferCrypto
import CofferModel
public import CofferVault
public import Foundation
import GRDB

/// Why syncing stopped until the user acts.
public enum SyncProblem: String, Sendable, Equatable {
    /// The server ended this device's sign-in (password changed elsewhere, revoked, unused too long).
    case signedOut = "signed-out"
    /// The account was reset on the server.
    case accountReset = "account-reset"
    /// The server lacks writes this device has seen (restored from a backup, or rolled back).
    case serverLostData = "server-lost-data"
}

/// Where this device syncs to, and the server state it last verified.
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
    /// The sequence the last verified manifest covers; the next pull starts after it.
    public var cursor: Int64
    /// The counter of the last verified manifest; a lower one from the server is a rollback.
    public var serverManifestCounter: Int64
    /// That manifest, encoded: another manifest under the same counter is a server equivocating.
    public var lastManifest: Data?
    /// The digest of the server state at `cursor` (tombstones included), sealed.
    public var viewDigest: SealedBox?
    /// 2 once the view was built by sync protocol 2; 1 means the next sync rebuilds it from the start.
    public var protocolVersion: Int
    /// When a sync last completed; `nil` before the first (read only: set by `markSynced(at:)`).
    public var lastSyncedAt: Date?
    /// Why the last sync could not run, until one completes (read only: set by `markSyncProblem(_:kind:)`).
    public var lastSyncProblem: String?
    /// What kind of problem that was; `nil` for one recorded before kinds were (read only, like the text).
    public var lastSyncProblemKind: SyncProblem?
    /// An access token still valid for a while, sealed, so a sync does not refresh every time.
    public var sealedAccessToken: SealedBox?
    /// When that access token expires.
    public var accessTokenExpiresAt: Date?
    /// Since when this device has seen another device's writes that no manifest covers yet.
    public var unpublishedSince: Date?
    /// The server's last recorded restore from a backup, as this device last saw it: a newer one means
    /// the server may have lost writes this device holds. Kept across sign-ins.
    public var serverRestoredAt: Date?

    /// Creates the state of a device that has just signed in: nothing verified yet.
    public init(
        serverURL: String, email: String, deviceID: UUID, deviceName: String, sealedRefreshToken: SealedBox?,
        serverManifestCounter: Int64 = 0
    ) {
        self.serverURL = serverURL
        self.email = email
        self.deviceID = deviceID
        self.deviceName = deviceName
        self.sealedRefreshToken = sealedRefreshToken
        cursor = 0
        self.serverManifestCounter = serverManifestCounter
        protocolVersion = 2
    }
}

/// What this device knows of one item on the server, and whether it changed here since.
public struct ItemSyncEntry: Sendable, Equatable {
    /// The server revision the local record is based on; 0 when the server never had it.
    public var syncedRevision: Int64
    /// The server holds a tombstone at `syncedRevision`.
    public var syncedDeleted: Bool
    /// SHA-256 of the server's sealed content (or tombstone) at `syncedRevision`; `nil` until known.
    public var syncedContentHash: [UInt8]?
    /// The live record at `syncedRevision`, for three-way merges; `nil` for tombstones and new items.
    public var base: SealedItem?
    /// Changed locally since the last sync.
    public var isDirty: Bool

    /// Creates an entry.
    public init(
        syncedRevision: Int64, syncedDeleted: Bool = false, syncedContentHash: [UInt8]?, base: SealedItem?,
        isDirty: Bool
    ) {
        self.syncedRevision = syncedRevision
        self.syncedDeleted = syncedDeleted
        self.syncedContentHash = syncedContentHash
        self.base = base
        self.isDirty = isDirty
    }

    /// The server version for `id`, when this entry knows it.
    public func serverVersion(of id: UUID) -> RecordVersion? {
        guard syncedRevision > 0, let hash = syncedContentHash ?? base?.contentHash else { return nil }
        return RecordVersion(itemID: id, revision: syncedRevision, isDeleted: syncedDeleted, contentHash: hash)
    }
}

/// How a sync leaves one item's local record.
public enum LocalWrite: Sendable, Equatable {
    /// The local record stays as it is.
    case keep
    /// The local record becomes this one.
    case put(SealedItem)
    /// The local record is removed (the item was purged everywhere).
    case remove
}

/// One item's outcome of a sync, written atomically with the others.
public struct SyncedItem: Sendable {
    /// The item.
    public var id: UUID
    /// The change sequence the sync based its decision on (`0`: absent); `nil` skips the check.
    public var basedOn: Int64?
    /// What happens to the local record.
    public var write: LocalWrite
    /// The new sync entry; `nil` forgets the item.
    public var entry: ItemSyncEntry?

    /// Creates an outcome.
    public init(id: UUID, basedOn: Int64?, write: LocalWrite, entry: ItemSyncEntry?) {
        self.id = id
        self.basedOn = basedOn
        self.write = write
        self.entry = entry
    }
}

/// Everything a sync writes to the device, in one transaction.
public struct SyncCommit: Sendable {
    /// The items it touched.
    public var items: [SyncedItem]
    /// The new sync state (cursor, counter, view digest, tokens).
    public var state: SyncState
    /// The manifest counter to remember for this server, account and epoch, even after logout.
    public var watermark: Int64?

    /// Creates a commit.
    public init(items: [SyncedItem], state: SyncState, watermark: Int64?) {
        self.items = items
        self.state = state
        self.watermark = watermark
    }
}

extension VaultStore {
    /// The sync state, `nil` for a local-only vault.
    public func syncState() throws(CofferStoreError) -> SyncState? {
        try readDatabase { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM syncState WHERE id = 1"),
                let deviceID = UUID(uuidString: row["deviceID"])
            else { return nil }
            func box(_ column: String) -> SealedBox? { (row[column] as Data?).flatMap { try? SealedBox(bytes: $0) } }
            var state = SyncState(
                serverURL: row["serverURL"], email: row["email"], deviceID: deviceID, deviceName: row["deviceName"],
                sealedRefreshToken: box("sealedRefreshToken"), serverManifestCounter: row["serverManifestCounter"])
            state.cursor = row["cursor"]
            state.lastManifest = row["lastManifest"]
            state.viewDigest = box("viewDigest")
            state.protocolVersion = Int(row["protocol"] as Int64)
            state.sealedAccessToken = box("sealedAccessToken")
            state.accessTokenExpiresAt = (row["accessTokenExpiresAt"] as Double?).map(Date.init(timeIntervalSince1970:))
            state.unpublishedSince = (row["unpublishedSince"] as Double?).map(Date.init(timeIntervalSince1970:))
            state.lastSyncedAt = (row["lastSyncedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
            state.lastSyncProblem = row["lastSyncProblem"]
            state.lastSyncProblemKind = (row["lastSyncProblemKind"] as String?).flatMap(SyncProblem.init(rawValue:))
            state.serverRestoredAt = (row["serverRestoredAt"] as Double?).map(Date.init(timeIntervalSince1970:))
            return state
        }
    }

    /// Replaces the sync state (or removes it with `nil`, making the vault local-only again; the
    /// high-water marks and KDF pins stay).
    public func saveSyncState(_ state: SyncState?) throws(CofferStoreError) {
        try writeDatabase { db in try SyncSchema.save(db, state) }
    }

    /// Remembers that a sync completed at `date` (and clears the last problem), so `coffer status`
    /// says what it knows and since when instead of claiming to be in sync.
    public func markSynced(at date: Date) throws(CofferStoreError) {
        try writeDatabase { db in
            try db.execute(
                sql:
                    "UPDATE syncState SET lastSyncedAt = ?, lastSyncProblem = NULL, lastSyncProblemKind = NULL WHERE id = 1",
                arguments: [date.timeIntervalSince1970])
        }
    }

    /// Remembers why the last sync could not run, for `coffer status` and `coffer doctor`.
    public func markSyncProblem(_ problem: String, kind: SyncProblem) throws(CofferStoreError) {
        try writeDatabase { db in
            try db.execute(
                sql: "UPDATE syncState SET lastSyncProblem = ?, lastSyncProblemKind = ? WHERE id = 1",
                arguments: [problem, kind.rawValue])
        }
    }

    /// Whether anything changed here since the last sync: one indexed lookup, whatever the vault's size.
    public func hasPendingChanges() throws(CofferStoreError) -> Bool {
        try readDatabase { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM itemSync WHERE isDirty = 1)") ?? false
        }
    }

    /// How many items changed here since the last sync.
    public func pendingChangeCount() throws(CofferStoreError) -> Int {
        try readDatabase { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM itemSync WHERE isDirty = 1") ?? 0 }
    }

    /// The entries of every item changed here since the last sync.
    public func pendingEntries() throws(CofferStoreError) -> [UUID: ItemSyncEntry] {
        try readDatabase { db in
            try SyncSchema.entries(db, sql: SyncSchema.selectEntries + " WHERE s.isDirty = 1", arguments: [])
        }
    }

    /// The entries of `ids` (absent when the device never synced or changed that item).
    public func syncEntries(_ ids: some Collection<UUID>) throws(CofferStoreError) -> [UUID: ItemSyncEntry] {
        guard !ids.isEmpty else { return [:] }
        return try readDatabase { db in
            var result: [UUID: ItemSyncEntry] = [:]
            let keys = try StoredKeys(db)
            let statement = try db.cachedStatement(sql: SyncSchema.selectEntries + " WHERE s.id = ?")
            for id in ids {
                if let row = try Row.fetchOne(statement, arguments: [id.storeKey]),
                    let entry = SyncSchema.entry(row, id: id, keys: keys)
                {
                    result[id] = entry
                }
            }
            return result
        }
    }

    /// Every entry: only for rebuilding the server view from the start (a new protocol, a new sign-in).
    public func allSyncEntries() throws(CofferStoreError) -> [UUID: ItemSyncEntry] {
        try readDatabase { db in try SyncSchema.entries(db, sql: SyncSchema.selectEntries, arguments: []) }
    }

    /// Stores fresh tokens without touching the rest of the state.
    public func saveTokens(refresh: SealedBox?, access: SealedBox?, accessExpiresAt: Date?) throws(CofferStoreError) {
        try writeDatabase { db in
            try db.execute(
                sql: """
                    UPDATE syncState SET sealedRefreshToken = ?, sealedAccessToken = ?, accessTokenExpiresAt = ?
                    WHERE id = 1
                    """,
                arguments: [refresh?.bytes, access?.bytes, accessExpiresAt?.timeIntervalSince1970])
        }
    }

    /// Replaces the account header (KDF parameters, salt and wrapped keys), e.g. after rotating the recovery code.
    public func replaceHeader(_ header: AccountHeader) throws(CofferStoreError) {
        try writeDatabase { db in try VaultStore.updateHeader(db, header) }
    }

    /// Marks every stored item as changed, so the next sync uploads it (a local vault joining a server).
    public func markAllDirty() throws(CofferStoreError) {
        try writeDatabase { db in
            try SyncSchema.markDirty(db, keys: try Data.fetchAll(db, sql: "SELECT id FROM item ORDER BY id"))
        }
    }

    /// Writes the outcome of a sync in one transaction. When an item it touches changed locally since
    /// the sync read it, nothing is written and ``SyncCommitConflict`` names those items, so the
    /// caller merges them again instead of overwriting a newer local change.
    public func applySync(_ commit: SyncCommit, keyring: Keyring) throws {
        var conflicting: [UUID] = []
        try writeDatabase { db in
            let check = try db.cachedStatement(sql: "SELECT changeSequence FROM item WHERE id = ?")
            for item in commit.items {
                guard let expected = item.basedOn else { continue }
                let current = try Int64.fetchOne(check, arguments: [item.id.storeKey]) ?? 0
                if current != expected { conflicting.append(item.id) }
            }
            guard conflicting.isEmpty else { return }
            var upserts: [SealedItem] = []
            var removals: [UUID] = []
            for item in commit.items {
                switch item.write {
                case .keep: break
                case .put(let record): upserts.append(record)
                case .remove: removals.append(item.id)
                }
            }
            if !upserts.isEmpty || !removals.isEmpty {
                _ = try RecordWrites.apply(db, upserts: upserts, removals: removals, keyring: keyring)
            }
            let keys = try StoredKeys(db)
            for item in commit.items { try SyncSchema.saveEntry(db, item.id, item.entry, keys: keys) }
            try SyncSchema.save(db, commit.state)
            if let counter = commit.watermark {
                try Watermarks.save(db, server: commit.state.serverURL, counter: counter, keyring: keyring)
            }
        }
        if !conflicting.isEmpty { throw SyncCommitConflict(items: conflicting) }
    }
}

/// Items a user changed on this device while a sync was working on them.
public struct SyncCommitConflict: Error, Sendable {
    /// Their ids.
    public var items: [UUID]
}

/// SQL shared by local commits and sync writes.
enum SyncSchema {
    static func markDirty(_ db: Database, id: UUID) throws { try markDirty(db, keys: [id.storeKey]) }

    /// Marks many items (ids as the database keeps them, best in index order) as changed, a batch of
    /// rows per statement.
    static func markDirty(_ db: Database, keys: [Data]) throws {
        try RecordWrites.inBatches(keys) { batch in
            try db.execute(
                sql: """
                    INSERT INTO itemSync (id, syncedRevision, isDirty)
                    VALUES \(Array(repeating: "(?, 0, 1)", count: batch.count).joined(separator: ", "))
                    ON CONFLICT(id) DO UPDATE SET isDirty = 1
                    """,
                arguments: StatementArguments(Array(batch)))
        }
    }

    /// A purged item the server knows becomes a pending tombstone; one it never saw is forgotten.
    static func markPurged(_ db: Database, id: UUID) throws {
        let key = id.storeKey
        try db.execute(sql: "DELETE FROM itemSync WHERE id = ? AND syncedRevision = 0", arguments: [key])
        try db.execute(sql: "UPDATE itemSync SET isDirty = 1 WHERE id = ?", arguments: [key])
    }

    static func entries(_ db: Database, sql: String, arguments: StatementArguments) throws -> [UUID: ItemSyncEntry] {
        var result: [UUID: ItemSyncEntry] = [:]
        let keys = try StoredKeys(db)
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            guard let id = UUID(storeKey: row["id"]), let entry = entry(row, id: id, keys: keys) else { continue }
            result[id] = entry
        }
        return result
    }

    /// Entries with their base: the stored copy, or the local record when `baseIsLocal` says the
    /// base is that record (``Schema/v8``). The synced hash of such a base is not stored either
    /// (``Schema/v10``): ``ItemSyncEntry/serverVersion(of:)`` hashes the base. Add `WHERE` on `s.`.
    static let selectEntries = """
        SELECT s.id, s.syncedRevision, s.syncedDeleted, s.isDirty,
          s.syncedContentHash,
          CASE WHEN s.baseIsLocal = 1 THEN i.wrappedKey ELSE s.baseWrappedKey END AS baseWrappedKey,
          CASE WHEN s.baseIsLocal = 1 THEN i.content ELSE s.baseContent END AS baseContent
        FROM itemSync s LEFT JOIN item i ON s.baseIsLocal = 1 AND i.id = s.id
        """

    static func entry(_ row: Row, id: UUID, keys: StoredKeys) -> ItemSyncEntry? {
        let revision: Int64 = row["syncedRevision"]
        var base: SealedItem?
        if let key = (row["baseWrappedKey"] as Data?).flatMap(keys.box),
            let content = (row["baseContent"] as Data?).flatMap({ try? SealedBox(bytes: $0) })
        {
            base = SealedItem(id: id, revision: revision, wrappedKey: key, content: content)
        }
        return ItemSyncEntry(
            syncedRevision: revision, syncedDeleted: (row["syncedDeleted"] as Int64) != 0,
            syncedContentHash: (row["syncedContentHash"] as Data?).map(Array.init), base: base,
            isDirty: (row["isDirty"] as Int64) != 0)
    }

    /// Stores `entry` (after the local record was written, in the same transaction): a base that is
    /// the local record byte for byte is not stored again (``Schema/v8``).
    static func saveEntry(_ db: Database, _ id: UUID, _ entry: ItemSyncEntry?, keys: StoredKeys) throws {
        let key = id.storeKey
        guard let entry else {
            try db.cachedStatement(sql: "DELETE FROM itemSync WHERE id = ?").execute(arguments: [key])
            return
        }
        var base = entry.base.map { (wrappedKey: $0.wrappedKey.bytes, content: $0.content.bytes) }
        var baseIsLocal = false
        var syncedHash = entry.syncedContentHash.map { Data($0) }
        if let stored = base,
            let local = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT wrappedKey, content FROM item WHERE id = ?"), arguments: [key]),
            (local["content"] as Data) == stored.content,
            keys.box(local["wrappedKey"] as Data)?.bytes == stored.wrappedKey
        {
            base = nil
            baseIsLocal = true
            // The synced record is the local one, whose hash is worked out when it is needed.
            if let hash = syncedHash, hash == Data(SealedItem.contentHash(of: stored.content)) { syncedHash = nil }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO itemSync (id, syncedRevision, syncedDeleted, syncedContentHash, baseWrappedKey, baseContent,
                  baseIsLocal, isDirty)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET syncedRevision = excluded.syncedRevision,
                  syncedDeleted = excluded.syncedDeleted, syncedContentHash = excluded.syncedContentHash,
                  baseWrappedKey = excluded.baseWrappedKey, baseContent = excluded.baseContent,
                  baseIsLocal = excluded.baseIsLocal, isDirty = excluded.isDirty
                """
        ).execute(arguments: [
            key, entry.syncedRevision, entry.syncedDeleted ? 1 : 0, syncedHash,
            base?.wrappedKey, base?.content, baseIsLocal ? 1 : 0, entry.isDirty ? 1 : 0,
        ])
    }

    /// Copies the local record into the base columns of an entry whose base it is, just before the
    /// local record changes or goes, so the synced version outlives it (and its hash, when not
    /// stored, can still be worked out from it).
    static func detachBase(_ db: Database, key: Data) throws {
        try db.cachedStatement(
            sql: """
                UPDATE itemSync SET baseWrappedKey = (SELECT wrappedKey FROM item WHERE id = ?1),
                  baseContent = (SELECT content FROM item WHERE id = ?1), baseIsLocal = 0
                WHERE id = ?1 AND baseIsLocal = 1
                """
        ).execute(arguments: [key])
    }

    static func save(_ db: Database, _ state: SyncState?) throws {
        guard let state else {
            try db.execute(sql: "DELETE FROM syncState")
            return
        }
        try db.execute(
            sql: """
                INSERT INTO syncState (id, serverURL, email, deviceID, deviceName, sealedRefreshToken, cursor,
                  serverManifestCounter, lastManifest, viewDigest, protocol, sealedAccessToken, accessTokenExpiresAt,
                  unpublishedSince, serverRestoredAt)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET serverURL = excluded.serverURL, email = excluded.email,
                  deviceID = excluded.deviceID, deviceName = excluded.deviceName,
                  sealedRefreshToken = excluded.sealedRefreshToken, cursor = excluded.cursor,
                  serverManifestCounter = excluded.serverManifestCounter, lastManifest = excluded.lastManifest,
                  viewDigest = excluded.viewDigest, protocol = excluded.protocol,
                  sealedAccessToken = excluded.sealedAccessToken, accessTokenExpiresAt = excluded.accessTokenExpiresAt,
                  unpublishedSince = excluded.unpublishedSince,
                  serverRestoredAt = coalesce(excluded.serverRestoredAt, syncState.serverRestoredAt)
                """,
            arguments: [
                state.serverURL, state.email, state.deviceID.lowercasedText, state.deviceName,
                state.sealedRefreshToken?.bytes, state.cursor, state.serverManifestCounter, state.lastManifest,
                state.viewDigest?.bytes, state.protocolVersion, state.sealedAccessToken?.bytes,
                state.accessTokenExpiresAt?.timeIntervalSince1970, state.unpublishedSince?.timeIntervalSince1970,
                state.serverRestoredAt?.timeIntervalSince1970,
            ])
    }
}
