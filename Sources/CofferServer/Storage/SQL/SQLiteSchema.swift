import GRDB

/// The SQLite database's schema as named, append-only migrations (GRDB's migrator). PostgreSQL has
/// the same migrations under the same names in its own types (``PostgreSQLSchema``).
enum SQLiteSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: accounts, devices, tokens, records, events") { db in
            for statement in v1 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v2: account lifecycle (reset, quarantine, e-mail codes)") { db in
            for statement in v2 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v3: backups stored for new devices") { db in
            try db.execute(
                sql: """
                    CREATE TABLE backups (
                      account_id TEXT NOT NULL, id TEXT NOT NULL, created_at TIMESTAMP NOT NULL, size BIGINT NOT NULL,
                      blob BLOB NOT NULL, PRIMARY KEY (account_id, id))
                    """)
        }
        migrator.registerMigration("v4: sync protocol 2 (manifest sequence, sequences in quarantine)") { db in
            for statement in v4 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5: refresh tokens confirmed by use; token clean-up by index") { db in
            for statement in v5 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v6: backups stored in chunks") { db in
            for statement in v6 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v7: quarantine released only to proof of an old secret") { db in
            for statement in v7 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v8: delayed deletions of quarantines and server backups") { db in
            for statement in v8 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v9: server backups know their key epoch") { db in
            for statement in v9 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v10: restores of the server recorded for devices") { db in
            // When the operator last restored the server from a backup; pulls carry it to devices.
            try db.execute(sql: "ALTER TABLE accounts ADD COLUMN restored_at TIMESTAMP")
        }
        migrator.registerMigration("v11: several server processes (secret, attempts, janitor)") { db in
            for statement in v11 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v12: mail outbox") { db in
            for statement in v12 { try db.execute(sql: statement) }
        }
        return migrator
    }()

    /// Sync protocol 2: a manifest says which write sequence it covers, and quarantined records keep
    /// their sequence so an old epoch's manifest can still be checked. Protocol-1 manifests stay as
    /// they are until an upgraded device verifies and replaces them.
    /// A refresh hands out a *pending* token and the presented one stays valid until the pending one is
    /// used, so a device that never received its new token (killed, or the answer lost) is not signed
    /// out. Readiness probes write a one-row table. Expired access tokens are deleted by the janitor
    /// through an index, not inside requests.
    static let v5 = [
        "CREATE TABLE readiness_probe (id INTEGER PRIMARY KEY, checked_at TIMESTAMP NOT NULL)",
        "ALTER TABLE devices ADD COLUMN pending_refresh_hash BLOB",
        "CREATE INDEX devices_pending_refresh ON devices(pending_refresh_hash)",
        "CREATE INDEX access_tokens_expiry ON access_tokens(expires_at)",
    ]

    /// Backups arrive and leave a chunk at a time, so a large upload never sits whole in memory. A
    /// backup is listed once its last chunk is in (`complete`); older backups keep their bytes in
    /// `blob` and are read from there.
    static let v6 = [
        "ALTER TABLE backups ADD COLUMN complete INTEGER NOT NULL DEFAULT 1",
        """
        CREATE TABLE backup_chunks (
          account_id TEXT NOT NULL, backup_id TEXT NOT NULL, chunk INTEGER NOT NULL, bytes BLOB NOT NULL,
          PRIMARY KEY (account_id, backup_id, chunk))
        """,
    ]

    /// A quarantine keeps the old epoch's verifiers, so its keys and records go only to a request that
    /// proves the old password or recovery code; failed proofs are counted per account. Quarantines
    /// made before this migration have no verifiers (the reset had already replaced them): those
    /// stay releasable as before until they expire.
    static let v7 = [
        "ALTER TABLE quarantined_epochs ADD COLUMN auth_verifier BLOB",
        "ALTER TABLE quarantined_epochs ADD COLUMN recovery_verifier BLOB",
        "CREATE TABLE quarantine_guesses (account_id TEXT NOT NULL, at TIMESTAMP NOT NULL)",
        "CREATE INDEX quarantine_guesses_account ON quarantine_guesses(account_id, at)",
    ]

    /// Deleting a safety net (the quarantine, a server backup) is a request that waits for a mailed
    /// link and then for a waiting period, cancellable throughout; `outcome` is `done`, `cancelled`
    /// or `lapsed` (the link was never used) once `ended_at` is set.
    static let v8 = [
        """
        CREATE TABLE pending_deletions (
          id TEXT PRIMARY KEY, account_id TEXT NOT NULL, what TEXT NOT NULL, backup_id TEXT,
          requested_at TIMESTAMP NOT NULL, requested_from TEXT, token_hash BLOB NOT NULL, confirm_by TIMESTAMP NOT NULL,
          confirmed_at TIMESTAMP, executes_at TIMESTAMP, ended_at TIMESTAMP, outcome TEXT)
        """,
        "CREATE INDEX pending_deletions_account ON pending_deletions(account_id, ended_at)",
        "CREATE INDEX pending_deletions_due ON pending_deletions(ended_at, executes_at)",
    ]

    /// A server backup from before a reset carries the old password's wrap: it goes only to proof of
    /// an old secret. Backups stored earlier get the epoch they were made in: the first reset after
    /// their upload closed it, or the account's current epoch when none did.
    static let v9 = [
        "ALTER TABLE backups ADD COLUMN epoch BIGINT",
        """
        UPDATE backups SET epoch = COALESCE(
          (SELECT min(q.epoch) FROM quarantined_epochs q WHERE q.account_id = backups.account_id
             AND q.reset_at > backups.created_at),
          (SELECT a.epoch FROM accounts a WHERE a.id = backups.account_id), 1)
        """,
    ]

    /// What several server processes on one database share: a fingerprint of the server secret (the
    /// secret itself never enters the database; a process with another one refuses to start),
    /// attempt windows of the abuse limits (keyed by a hash of the address counted), and the lease
    /// that lets one process at a time do the janitor's work.
    static let v11 = [
        "CREATE TABLE server_identity (id INTEGER PRIMARY KEY, secret_fingerprint BLOB NOT NULL)",
        "CREATE TABLE attempt_windows (key BLOB PRIMARY KEY, window_start TIMESTAMP NOT NULL, count BIGINT NOT NULL)",
        "CREATE INDEX attempt_windows_start ON attempt_windows(window_start)",
        "CREATE TABLE janitor_lease (id INTEGER PRIMARY KEY, holder TEXT NOT NULL, until TIMESTAMP NOT NULL)",
    ]

    /// Mail waits here, sealed, from the transaction that issued its code until it is delivered:
    /// `next_attempt_at` is both the retry schedule and the lease of the process sending it.
    static let v12 = [
        """
        CREATE TABLE mail_outbox (
          id TEXT PRIMARY KEY, sealed BLOB NOT NULL, created_at TIMESTAMP NOT NULL,
          discard_after TIMESTAMP NOT NULL, next_attempt_at TIMESTAMP NOT NULL, attempts INTEGER NOT NULL,
          deliver INTEGER NOT NULL)
        """,
        "CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at)",
    ]

    static let v4 = [
        "ALTER TABLE accounts ADD COLUMN manifest_sequence BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE quarantined_epochs ADD COLUMN manifest_sequence BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE quarantined_records ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0",
    ]

    /// Password change, recovery and reset: a reset account waits for new keys, its old epoch's keys
    /// and records move to the quarantine tables, and signed-out devices remember why.
    static let v2 = [
        "ALTER TABLE accounts ADD COLUMN awaiting_keys INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts ADD COLUMN reset_at TIMESTAMP",
        "ALTER TABLE accounts ADD COLUMN reset_from TEXT",
        "ALTER TABLE devices ADD COLUMN revoked_reason TEXT",
        """
        CREATE TABLE email_codes (
          code_hash BLOB NOT NULL, account_id TEXT NOT NULL, purpose TEXT NOT NULL, expires_at TIMESTAMP NOT NULL,
          used INTEGER NOT NULL, failed_attempts INTEGER NOT NULL, PRIMARY KEY (account_id, purpose, code_hash))
        """,
        """
        CREATE TABLE quarantined_epochs (
          account_id TEXT NOT NULL, epoch BIGINT NOT NULL, kdf_memory_kib BIGINT, kdf_iterations BIGINT,
          kdf_parallelism BIGINT, salt BLOB, password_wrapped_key BLOB, recovery_wrapped_key BLOB,
          manifest_counter BIGINT, manifest_blob BLOB, record_count BIGINT NOT NULL, reset_at TIMESTAMP NOT NULL,
          reset_from TEXT, expires_at TIMESTAMP NOT NULL, purged_at TIMESTAMP, PRIMARY KEY (account_id, epoch))
        """,
        """
        CREATE TABLE quarantined_records (
          account_id TEXT NOT NULL, epoch BIGINT NOT NULL, item_id TEXT NOT NULL, revision BIGINT NOT NULL,
          is_deleted INTEGER NOT NULL, wrapped_key BLOB, content BLOB, PRIMARY KEY (account_id, epoch, item_id))
        """,
    ]

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
