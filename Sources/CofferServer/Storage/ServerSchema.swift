import GRDB

/// The server database's schema as named, append-only migrations, in SQL PostgreSQL also accepts.
enum ServerSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: accounts, devices, tokens, records, events") { db in
            for statement in v1 { try db.execute(sql: statement) }
        }
        return migrator
    }()

    static let v1 = [
        """
        CREATE TABLE accounts (
          id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, email_verified BOOLEAN NOT NULL, epoch BIGINT NOT NULL,
          kdf_memory_kib BIGINT NOT NULL, kdf_iterations BIGINT NOT NULL, kdf_parallelism BIGINT NOT NULL,
          salt BLOB NOT NULL, auth_verifier BLOB NOT NULL, recovery_verifier BLOB NOT NULL,
          password_wrapped_key BLOB NOT NULL, recovery_wrapped_key BLOB NOT NULL,
          last_sequence BIGINT NOT NULL, manifest_counter BIGINT NOT NULL, manifest_blob BLOB,
          created_at TIMESTAMP NOT NULL)
        """,
        """
        CREATE TABLE devices (
          account_id TEXT NOT NULL REFERENCES accounts(id), id TEXT NOT NULL, name TEXT NOT NULL,
          refresh_hash BLOB, previous_refresh_hash BLOB, revoked INTEGER NOT NULL,
          created_at TIMESTAMP NOT NULL, last_seen_at TIMESTAMP NOT NULL, PRIMARY KEY (account_id, id))
        """,
        "CREATE INDEX devices_refresh ON devices(refresh_hash)",
        "CREATE INDEX devices_previous_refresh ON devices(previous_refresh_hash)",
        """
        CREATE TABLE access_tokens (
          token_hash BLOB PRIMARY KEY, account_id TEXT NOT NULL, device_id TEXT NOT NULL, expires_at TIMESTAMP NOT NULL)
        """,
        """
        CREATE TABLE verification_tokens (
          token_hash BLOB PRIMARY KEY, account_id TEXT NOT NULL, expires_at TIMESTAMP NOT NULL, used INTEGER NOT NULL)
        """,
        """
        CREATE TABLE records (
          account_id TEXT NOT NULL REFERENCES accounts(id), item_id TEXT NOT NULL, revision BIGINT NOT NULL,
          sequence BIGINT NOT NULL, is_deleted INTEGER NOT NULL, wrapped_key BLOB, content BLOB,
          updated_at TIMESTAMP NOT NULL, PRIMARY KEY (account_id, item_id))
        """,
        "CREATE INDEX records_sequence ON records(account_id, sequence)",
        """
        CREATE TABLE account_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL, kind TEXT NOT NULL, at TIMESTAMP NOT NULL,
          device_name TEXT, client_address TEXT)
        """,
    ]
}
