import CofferCrypto
import CofferModel
import CofferVault
import Foundation
import GRDB

/// The vault file's schema, as named, append-only migrations.
enum Schema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: account and sealed items") { db in
            try db.create(table: "account") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("accountID", .text).notNull()
                table.column("epoch", .integer).notNull()
                table.column("kdfMemoryKiB", .integer).notNull()
                table.column("kdfIterations", .integer).notNull()
                table.column("kdfParallelism", .integer).notNull()
                table.column("salt", .blob).notNull()
                table.column("passwordWrappedKey", .blob).notNull()
                table.column("recoveryWrappedKey", .blob).notNull()
                table.column("manifestCounter", .integer).notNull()
                table.column("manifestMAC", .blob).notNull()
            }
            try db.create(table: "item") { table in
                table.column("id", .text).primaryKey()
                table.column("revision", .integer).notNull()
                table.column("wrappedKey", .blob).notNull()
                table.column("content", .blob).notNull()
            }
        }
        migrator.registerMigration("v2: sync state and per-item sync metadata") { db in
            try db.create(table: "syncState") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("serverURL", .text).notNull()
                table.column("email", .text).notNull()
                table.column("deviceID", .text).notNull()
                table.column("deviceName", .text).notNull()
                table.column("sealedRefreshToken", .blob)
                table.column("cursor", .integer).notNull()
                table.column("serverManifestCounter", .integer).notNull()
            }
            try db.create(table: "itemSync") { table in
                table.column("id", .text).primaryKey()
                table.column("syncedRevision", .integer).notNull()
                table.column("baseWrappedKey", .blob)
                table.column("baseContent", .blob)
                table.column("isDirty", .integer).notNull()
            }
        }
        migrator.registerMigration("v3: pending key change and reset notice") { db in
            // A password change or recovery-kit rotation in flight: the new header waits here until the
            // server has it, so a crash between the two leaves the old or the new password working.
            // Same columns as `account`, so one row type reads both.
            try db.execute(sql: "CREATE TABLE pendingHeader AS SELECT * FROM account WHERE 0")
            try db.create(table: "resetNotice") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("resetAt", .text)
                table.column("resetFrom", .text)
                table.column("epoch", .integer).notNull()
            }
        }
        migrator.registerMigration("v4: incremental integrity and sync protocol 2") { db in
            for statement in v4 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5: when the last sync succeeded, and why the last one failed") { db in
            try db.execute(sql: "ALTER TABLE syncState ADD COLUMN lastSyncedAt REAL")
            try db.execute(sql: "ALTER TABLE syncState ADD COLUMN lastSyncProblem TEXT")
        }
        migrator.registerMigration("v6: the server's last restore from a backup, as this device saw it") { db in
            try db.execute(sql: "ALTER TABLE syncState ADD COLUMN serverRestoredAt REAL")
        }
        migrator.registerMigration("v7: what kind of problem stopped the last sync") { db in
            try db.execute(sql: "ALTER TABLE syncState ADD COLUMN lastSyncProblemKind TEXT")
        }
        migrator.registerMigration(oneCopy) { db in
            for statement in v8 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v9: the format this vault writes item content in") { db in
            // Vaults from before format 2 wrote JSON, and keep writing it (`ItemContentFormat`).
            try db.execute(sql: "ALTER TABLE account ADD COLUMN contentFormat INTEGER NOT NULL DEFAULT 1")
        }
        migrator.registerMigration(smallKeys) { db in
            db.add(function: textIDToKey)
            db.add(function: sha256)
            db.add(function: detachedKey)
            // A row whose id is not an id was damaged outside Coffer: say so, and change nothing.
            let damaged = """
                SELECT EXISTS (SELECT 1 FROM item WHERE cofferItemKey(id) IS NULL)
                  OR EXISTS (SELECT 1 FROM itemSync WHERE cofferItemKey(id) IS NULL)
                  OR EXISTS (SELECT 1 FROM removedItem WHERE cofferItemKey(id) IS NULL)
                """
            if try Bool.fetchOne(db, sql: damaged) == true { throw CofferStoreError.corruptDatabase(path: "") }
            for statement in v10 { try db.execute(sql: statement) }
            // A test kills the process here: the transaction then never commits, and the vault
            // opens as it was and migrates again.
            CrashPoint.reached("store.v10")
        }
        return migrator
    }()

    /// The migration after which a vault file has its smaller layout.
    static let smallKeys = "v10: a smaller file: 16-byte item keys, no stored hashes, one account-key commitment"

    /// The text of an item id (`9f0c…-…`) as its 16-byte key (``UUID/storeKey``); NULL for anything
    /// else (the migration checks for those first).
    static let textIDToKey = DatabaseFunction("cofferItemKey", argumentCount: 1, pure: true) { values in
        (String.fromDatabaseValue(values[0])).flatMap(UUID.init(text:))?.storeKey
    }

    /// SHA-256 of a blob, as ``SealedItem/contentHash(of:)`` computes it; NULL for NULL.
    static let sha256 = DatabaseFunction("sha256", argumentCount: 1, pure: true) { values in
        (Data.fromDatabaseValue(values[0])).map { Data(SealedItem.contentHash(of: $0)) }
    }

    /// A wrapped key as ``StoredKeys`` stores it against the commitment given; anything that is not
    /// a sealed box is returned as it is.
    static let detachedKey = DatabaseFunction("cofferDetachedKey", argumentCount: 2, pure: true) { values in
        guard let bytes = Data.fromDatabaseValue(values[0]) else { return nil }
        guard let box = try? SealedBox(bytes: bytes) else { return bytes }
        return StoredKeys(commitment: Data.fromDatabaseValue(values[1])).stored(box)
    }

    /// A smaller file for the same records (issue 15, "one copy on disk"): items are keyed by their
    /// 16 bytes instead of 36 characters, in the row, the id index and `itemSync`; `item` no longer
    /// keeps each content's SHA-256 (a change hashes the few rows it replaces; unlocking hashes every
    /// record anyway), nor does `itemSync` for a synced record that is the local record byte for byte
    /// (`baseIsLocal`); `itemSync`, small rows looked up by id, is a `WITHOUT ROWID` table, so its key
    /// is not stored a second time in an index; and the account key's commitment, the same in every
    /// wrapped item key, is kept once (``StoredKeys``), taken from the keys themselves (the most
    /// common one: a stray foreign record is kept whole). Rows are copied in id order, so the new tables and
    /// indexes are built by appending.
    static let v10 = [
        """
        CREATE TABLE itemSync_v10 (
          id BLOB PRIMARY KEY NOT NULL, syncedRevision INTEGER NOT NULL, baseWrappedKey BLOB, baseContent BLOB,
          isDirty INTEGER NOT NULL, syncedDeleted INTEGER NOT NULL DEFAULT 0, syncedContentHash BLOB,
          baseIsLocal INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID
        """,
        """
        INSERT INTO itemSync_v10
        SELECT cofferItemKey(s.id), s.syncedRevision, s.baseWrappedKey, s.baseContent, s.isDirty, s.syncedDeleted,
          CASE WHEN s.baseIsLocal = 1 AND s.syncedContentHash = sha256(i.content) THEN NULL
            ELSE s.syncedContentHash END,
          s.baseIsLocal
        FROM itemSync s LEFT JOIN item i ON i.id = s.id ORDER BY s.id
        """,
        "DROP TABLE itemSync",
        "ALTER TABLE itemSync_v10 RENAME TO itemSync",
        "CREATE INDEX itemSync_dirty ON itemSync(isDirty) WHERE isDirty = 1",
        "ALTER TABLE account ADD COLUMN accountKeyCommitment BLOB",
        """
        UPDATE account SET accountKeyCommitment = (
          SELECT substr(wrappedKey, 2, 32) AS commitment FROM item
          WHERE length(wrappedKey) > 33 AND substr(wrappedKey, 1, 1) = x'01'
          GROUP BY commitment ORDER BY count(*) DESC LIMIT 1)
        """,
        """
        CREATE TABLE item_v10 (
          id BLOB PRIMARY KEY NOT NULL, revision INTEGER NOT NULL, wrappedKey BLOB NOT NULL, content BLOB NOT NULL,
          changeSequence INTEGER NOT NULL DEFAULT 0)
        """,
        """
        INSERT INTO item_v10
        SELECT cofferItemKey(id), revision,
          cofferDetachedKey(wrappedKey, (SELECT accountKeyCommitment FROM account)), content, changeSequence
        FROM item ORDER BY id
        """,
        "DROP TABLE item",
        "ALTER TABLE item_v10 RENAME TO item",
        "CREATE INDEX item_changeSequence ON item(changeSequence)",
        "CREATE TABLE removedItem_v10 (id BLOB PRIMARY KEY NOT NULL, changeSequence INTEGER NOT NULL)",
        "INSERT INTO removedItem_v10 SELECT cofferItemKey(id), changeSequence FROM removedItem ORDER BY id",
        "DROP TABLE removedItem",
        "ALTER TABLE removedItem_v10 RENAME TO removedItem",
        "CREATE INDEX removedItem_changeSequence ON removedItem(changeSequence)",
    ]

    /// The migration after which a vault keeps each sealed record once.
    static let oneCopy = "v8: a synced item's base is its local record, not a second copy"

    /// One copy on disk: an item that has not changed since it was synced had its sealed record twice,
    /// in `item` and as the merge base in `itemSync`. Now `baseIsLocal` says "the base is the local
    /// record" and the copy is dropped; the store copies the record into the base columns just before
    /// the local record changes (``RecordWrites``), so a merge always finds the synced version.
    static let v8 = [
        "ALTER TABLE itemSync ADD COLUMN baseIsLocal INTEGER NOT NULL DEFAULT 0",
        """
        UPDATE itemSync SET baseWrappedKey = NULL, baseContent = NULL, baseIsLocal = 1
        WHERE baseContent IS NOT NULL AND EXISTS (
          SELECT 1 FROM item i WHERE i.id = itemSync.id AND i.content = itemSync.baseContent
            AND i.wrappedKey = itemSync.baseWrappedKey)
        """,
    ]

    /// Work in proportion to a change, not to the vault: every write stamps the rows it touches with
    /// a change sequence (so an open session reads only what changed), the vault's integrity becomes a
    /// sealed set digest updated per record (`integrityFormat` 2, set at the first unlock), and the sync
    /// state remembers the server view's digest, tombstones included. A vault synced by protocol 1
    /// rebuilds its view once (`protocol` 1 → the next sync starts from cursor 0).
    static let v4 = [
        "ALTER TABLE account ADD COLUMN integrityFormat INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE account ADD COLUMN lastChangeSequence INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE item ADD COLUMN changeSequence INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE item ADD COLUMN contentHash BLOB",
        "CREATE INDEX item_changeSequence ON item(changeSequence)",
        "CREATE TABLE removedItem (id TEXT PRIMARY KEY, changeSequence INTEGER NOT NULL)",
        "CREATE INDEX removedItem_changeSequence ON removedItem(changeSequence)",
        "ALTER TABLE itemSync ADD COLUMN syncedDeleted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE itemSync ADD COLUMN syncedContentHash BLOB",
        "CREATE INDEX itemSync_dirty ON itemSync(isDirty) WHERE isDirty = 1",
        "ALTER TABLE syncState ADD COLUMN protocol INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE syncState ADD COLUMN viewDigest BLOB",
        "ALTER TABLE syncState ADD COLUMN lastManifest BLOB",
        "ALTER TABLE syncState ADD COLUMN sealedAccessToken BLOB",
        "ALTER TABLE syncState ADD COLUMN accessTokenExpiresAt DOUBLE",
        "ALTER TABLE syncState ADD COLUMN unpublishedSince DOUBLE",
        """
        CREATE TABLE serverWatermark (
          serverURL TEXT NOT NULL, accountID TEXT NOT NULL, epoch INTEGER NOT NULL, counter INTEGER NOT NULL,
          mac BLOB NOT NULL, PRIMARY KEY (serverURL, accountID, epoch))
        """,
        """
        CREATE TABLE kdfPin (
          serverURL TEXT NOT NULL, email TEXT NOT NULL, memoryKiB INTEGER NOT NULL, iterations INTEGER NOT NULL,
          parallelism INTEGER NOT NULL, PRIMARY KEY (serverURL, email))
        """,
    ]
}
