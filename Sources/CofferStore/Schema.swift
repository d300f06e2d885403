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
        return migrator
    }()
}
