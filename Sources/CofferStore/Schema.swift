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
        return migrator
    }()

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
