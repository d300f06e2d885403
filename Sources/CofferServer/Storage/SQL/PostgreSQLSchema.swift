/// The PostgreSQL database's schema: the same named migrations as SQLite's (``SQLiteSchema``), in
/// PostgreSQL's own types — `uuid` ids, `bytea` ciphertext, `timestamptz` times, `boolean` flags
/// and an identity column for events. The shared SQL binds typed values, so it runs on both.
/// Append-only: a released migration never changes; a new one is added to both dialects under one
/// name (a test compares the names).
enum PostgreSQLSchema {
    /// One named migration.
    struct Migration {
        var name: String
        var statements: [String]
    }

    /// The key of the advisory lock migrations hold, so server processes starting together migrate
    /// one after the other ("coffer" in ASCII).
    static let migrationLock: Int64 = 0x636F_6666_6572

    static let migrations: [Migration] = [
        Migration(name: "v1: accounts, devices, tokens, records, events", statements: v1),
        Migration(name: "v2: account lifecycle (reset, quarantine, e-mail codes)", statements: v2),
        Migration(
            name: "v3: backups stored for new devices",
            statements: [
                """
                CREATE TABLE backups (
                  account_id uuid NOT NULL, id uuid NOT NULL, created_at timestamptz NOT NULL, size bigint NOT NULL,
                  blob bytea NOT NULL, PRIMARY KEY (account_id, id))
                """
            ]),
        Migration(
            name: "v4: sync protocol 2 (manifest sequence, sequences in quarantine)",
            statements: [
                "ALTER TABLE accounts ADD COLUMN manifest_sequence bigint NOT NULL DEFAULT 0",
                "ALTER TABLE quarantined_epochs ADD COLUMN manifest_sequence bigint NOT NULL DEFAULT 0",
                "ALTER TABLE quarantined_records ADD COLUMN sequence bigint NOT NULL DEFAULT 0",
            ]),
        Migration(
            name: "v5: refresh tokens confirmed by use; token clean-up by index",
            statements: [
                "CREATE TABLE readiness_probe (id bigint PRIMARY KEY, checked_at timestamptz NOT NULL)",
                "ALTER TABLE devices ADD COLUMN pending_refresh_hash bytea",
                "CREATE INDEX devices_pending_refresh ON devices(pending_refresh_hash)",
                "CREATE INDEX access_tokens_expiry ON access_tokens(expires_at)",
            ]),
        Migration(
            name: "v6: backups stored in chunks",
            statements: [
                "ALTER TABLE backups ADD COLUMN complete boolean NOT NULL DEFAULT TRUE",
                """
                CREATE TABLE backup_chunks (
                  account_id uuid NOT NULL, backup_id uuid NOT NULL, chunk bigint NOT NULL, bytes bytea NOT NULL,
                  PRIMARY KEY (account_id, backup_id, chunk))
                """,
            ]),
        Migration(
            name: "v7: quarantine released only to proof of an old secret",
            statements: [
                "ALTER TABLE quarantined_epochs ADD COLUMN auth_verifier bytea",
                "ALTER TABLE quarantined_epochs ADD COLUMN recovery_verifier bytea",
                "CREATE TABLE quarantine_guesses (account_id uuid NOT NULL, at timestamptz NOT NULL)",
                "CREATE INDEX quarantine_guesses_account ON quarantine_guesses(account_id, at)",
            ]),
        Migration(
            name: "v8: delayed deletions of quarantines and server backups",
            statements: [
                """
                CREATE TABLE pending_deletions (
                  id uuid PRIMARY KEY, account_id uuid NOT NULL, what text NOT NULL, backup_id uuid,
                  requested_at timestamptz NOT NULL, requested_from text, token_hash bytea NOT NULL,
                  confirm_by timestamptz NOT NULL, confirmed_at timestamptz, executes_at timestamptz,
                  ended_at timestamptz, outcome text)
                """,
                "CREATE INDEX pending_deletions_account ON pending_deletions(account_id, ended_at)",
                "CREATE INDEX pending_deletions_due ON pending_deletions(ended_at, executes_at)",
            ]),
        Migration(
            name: "v9: server backups know their key epoch",
            statements: [
                "ALTER TABLE backups ADD COLUMN epoch bigint",
                """
                UPDATE backups SET epoch = COALESCE(
                  (SELECT min(q.epoch) FROM quarantined_epochs q WHERE q.account_id = backups.account_id
                     AND q.reset_at > backups.created_at),
                  (SELECT a.epoch FROM accounts a WHERE a.id = backups.account_id), 1)
                """,
            ]),
        Migration(
            name: "v10: restores of the server recorded for devices",
            statements: ["ALTER TABLE accounts ADD COLUMN restored_at timestamptz"]),
        Migration(
            name: "v11: several server processes (secret, attempts, janitor)",
            statements: [
                "CREATE TABLE server_identity (id bigint PRIMARY KEY, secret_fingerprint bytea NOT NULL)",
                """
                CREATE TABLE attempt_windows (key bytea PRIMARY KEY, window_start timestamptz NOT NULL,
                  count bigint NOT NULL)
                """,
                "CREATE INDEX attempt_windows_start ON attempt_windows(window_start)",
                "CREATE TABLE janitor_lease (id bigint PRIMARY KEY, holder text NOT NULL, until timestamptz NOT NULL)",
            ]),
        Migration(
            name: "v12: mail outbox",
            statements: [
                """
                CREATE TABLE mail_outbox (
                  id uuid PRIMARY KEY, sealed bytea NOT NULL, created_at timestamptz NOT NULL,
                  discard_after timestamptz NOT NULL, next_attempt_at timestamptz NOT NULL, attempts bigint NOT NULL,
                  deliver boolean NOT NULL)
                """,
                "CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at)",
            ]),
    ]

    static let v1 = [
        """
        CREATE TABLE accounts (
          id uuid PRIMARY KEY, email text NOT NULL UNIQUE, email_verified boolean NOT NULL, epoch bigint NOT NULL,
          kdf_memory_kib bigint NOT NULL, kdf_iterations bigint NOT NULL, kdf_parallelism bigint NOT NULL,
          salt bytea NOT NULL, auth_verifier bytea NOT NULL, recovery_verifier bytea NOT NULL,
          password_wrapped_key bytea NOT NULL, recovery_wrapped_key bytea NOT NULL,
          last_sequence bigint NOT NULL, manifest_counter bigint NOT NULL, manifest_blob bytea,
          created_at timestamptz NOT NULL)
        """,
        """
        CREATE TABLE devices (
          account_id uuid NOT NULL REFERENCES accounts(id), id uuid NOT NULL, name text NOT NULL,
          refresh_hash bytea, previous_refresh_hash bytea, revoked boolean NOT NULL,
          created_at timestamptz NOT NULL, last_seen_at timestamptz NOT NULL, PRIMARY KEY (account_id, id))
        """,
        "CREATE INDEX devices_refresh ON devices(refresh_hash)",
        "CREATE INDEX devices_previous_refresh ON devices(previous_refresh_hash)",
        """
        CREATE TABLE access_tokens (
          token_hash bytea PRIMARY KEY, account_id uuid NOT NULL, device_id uuid NOT NULL,
          expires_at timestamptz NOT NULL)
        """,
        """
        CREATE TABLE verification_tokens (
          token_hash bytea PRIMARY KEY, account_id uuid NOT NULL, expires_at timestamptz NOT NULL,
          used boolean NOT NULL)
        """,
        """
        CREATE TABLE records (
          account_id uuid NOT NULL REFERENCES accounts(id), item_id uuid NOT NULL, revision bigint NOT NULL,
          sequence bigint NOT NULL, is_deleted boolean NOT NULL, wrapped_key bytea, content bytea,
          updated_at timestamptz NOT NULL, PRIMARY KEY (account_id, item_id))
        """,
        "CREATE INDEX records_sequence ON records(account_id, sequence)",
        """
        CREATE TABLE account_events (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id uuid NOT NULL, kind text NOT NULL,
          at timestamptz NOT NULL, device_name text, client_address text)
        """,
    ]

    static let v2 = [
        "ALTER TABLE accounts ADD COLUMN awaiting_keys boolean NOT NULL DEFAULT FALSE",
        "ALTER TABLE accounts ADD COLUMN reset_at timestamptz",
        "ALTER TABLE accounts ADD COLUMN reset_from text",
        "ALTER TABLE devices ADD COLUMN revoked_reason text",
        """
        CREATE TABLE email_codes (
          code_hash bytea NOT NULL, account_id uuid NOT NULL, purpose text NOT NULL, expires_at timestamptz NOT NULL,
          used boolean NOT NULL, failed_attempts bigint NOT NULL, PRIMARY KEY (account_id, purpose, code_hash))
        """,
        """
        CREATE TABLE quarantined_epochs (
          account_id uuid NOT NULL, epoch bigint NOT NULL, kdf_memory_kib bigint, kdf_iterations bigint,
          kdf_parallelism bigint, salt bytea, password_wrapped_key bytea, recovery_wrapped_key bytea,
          manifest_counter bigint, manifest_blob bytea, record_count bigint NOT NULL, reset_at timestamptz NOT NULL,
          reset_from text, expires_at timestamptz NOT NULL, purged_at timestamptz, PRIMARY KEY (account_id, epoch))
        """,
        """
        CREATE TABLE quarantined_records (
          account_id uuid NOT NULL, epoch bigint NOT NULL, item_id uuid NOT NULL, revision bigint NOT NULL,
          is_deleted boolean NOT NULL, wrapped_key bytea, content bytea, PRIMARY KEY (account_id, epoch, item_id))
        """,
    ]
}
