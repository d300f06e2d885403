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
        return migrator
    }()
}
