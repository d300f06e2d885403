public import CofferAPI
public import Foundation

/// Everything the server stores, written once in SQL that SQLite and PostgreSQL both run
/// (``SQLTransaction``), on the database a ``SQLDriver`` provides. Each method is one transaction,
/// so a crash leaves the state before or after it, never between.
public final class RelationalServerStorage: ServerStorage {
    let driver: any SQLDriver

    /// Storage on `driver`'s database.
    public init(driver: any SQLDriver) {
        self.driver = driver
    }

    /// The embedded default: `coffer.sqlite` in `directory`.
    public static func sqlite(directory: URL) throws -> RelationalServerStorage {
        RelationalServerStorage(driver: try SQLiteDriver(directory: directory))
    }

    /// Implements ``ServerStorage/migrate()``.
    public func migrate() async throws {
        try await driver.migrate()
    }

    /// Implements ``ServerStorage/withConnections(_:)``.
    public func withConnections<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await driver.withConnections(body)
    }

    /// Implements ``ServerStorage/checkReadiness()``: the database is still the one opened, and a
    /// write commits — so a full disk or a read-only database takes the server out of rotation.
    public func checkReadiness() async throws {
        try driver.checkIdentity()
        try await write { db in
            try db.execute(
                """
                INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                """, [Date()])
        }
    }

    /// Implements ``ServerStorage/runMaintenance()``.
    public func runMaintenance() async {
        await driver.runMaintenance()
    }

    /// A write transaction.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await driver.write(body)
    }

    /// A write transaction that changes `account`'s sequence, manifest or keys; see
    /// ``SQLDriver/write(serializingAccount:_:)``.
    @discardableResult
    func write<T: Sendable>(
        account: UUID, _ body: @Sendable @escaping (any SQLTransaction) throws -> T
    ) async throws -> T {
        try await driver.write(serializingAccount: account, body)
    }

    /// A read transaction.
    func read<T: Sendable>(_ body: @Sendable @escaping (any SQLTransaction) throws -> T) async throws -> T {
        try await driver.read(body)
    }

    /// Implements ``ServerStorage/createAccount(_:)``.
    public func createAccount(_ account: StoredAccount) async throws -> Bool {
        try await write { db in
            if try db.exists("SELECT 1 FROM accounts WHERE email = ?", [account.email]) { return false }
            try db.execute(
                """
                INSERT INTO accounts (id, email, email_verified, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                  salt, auth_verifier, recovery_verifier, password_wrapped_key, recovery_wrapped_key,
                  last_sequence, manifest_counter, manifest_blob, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, NULL, ?)
                """,
                [
                    account.id, account.email, account.emailVerified, account.epoch, account.kdf.memoryKiB,
                    account.kdf.iterations, account.kdf.parallelism, account.salt, account.authVerifier,
                    account.recoveryVerifier, account.passwordWrappedKey, account.recoveryWrappedKey, account.createdAt,
                ])
            return true
        }
    }

    /// Implements ``ServerStorage/account(email:)``.
    public func account(email: String) async throws -> StoredAccount? {
        try await read { db in try db.row("SELECT * FROM accounts WHERE email = ?", [email]).map(Self.account) }
    }

    /// Implements ``ServerStorage/account(id:)``.
    public func account(id: UUID) async throws -> StoredAccount? {
        try await read { db in try db.row("SELECT * FROM accounts WHERE id = ?", [id]).map(Self.account) }
    }

    private static func account(_ row: SQLRow) throws -> StoredAccount {
        var account = StoredAccount(
            id: try row.uuid("id"), email: try row.text("email"), emailVerified: try row.bool("email_verified"),
            epoch: try row.uint32("epoch"),
            kdf: WireKDF(
                memoryKiB: try row.uint32("kdf_memory_kib"), iterations: try row.uint32("kdf_iterations"),
                parallelism: try row.uint32("kdf_parallelism")),
            salt: try row.bytes("salt"), authVerifier: try row.bytes("auth_verifier"),
            recoveryVerifier: try row.bytes("recovery_verifier"),
            passwordWrappedKey: try row.bytes("password_wrapped_key"),
            recoveryWrappedKey: try row.bytes("recovery_wrapped_key"), createdAt: try row.date("created_at"))
        account.awaitingKeys = try row.bool("awaiting_keys")
        account.resetAt = try row.optionalDate("reset_at")
        account.resetFrom = try row.optionalText("reset_from")
        return account
    }

    /// Implements ``ServerStorage/addVerificationToken(hash:accountID:expiresAt:mail:)``.
    public func addVerificationToken(hash: Data, accountID: UUID, expiresAt: Date, mail: OutboxMail) async throws {
        try await write { db in
            try db.execute(
                "INSERT INTO verification_tokens (token_hash, account_id, expires_at, used) VALUES (?, ?, ?, FALSE)",
                [hash, accountID, expiresAt])
            try Self.post(mail, db)
        }
    }

    /// Implements ``ServerStorage/verificationToken(hash:now:consume:)``.
    public func verificationToken(hash: Data, now: Date, consume: Bool) async throws -> UUID? {
        try await write { db in
            guard
                let row = try db.row(
                    "SELECT account_id, expires_at, used FROM verification_tokens WHERE token_hash = ?", [hash]),
                try !row.bool("used"), try row.date("expires_at") > now
            else { return nil }
            let accountID = try row.uuid("account_id")
            guard consume else { return accountID }
            try db.execute("UPDATE verification_tokens SET used = TRUE WHERE token_hash = ?", [hash])
            try db.execute("UPDATE accounts SET email_verified = TRUE WHERE id = ?", [accountID])
            return accountID
        }
    }

    /// Implements ``ServerStorage/signIn(accountID:device:refreshHash:now:)``.
    public func signIn(accountID: UUID, device: DeviceInfo, refreshHash: Data, now: Date) async throws -> Bool {
        try await write { db in
            let exists = try db.exists(
                "SELECT 1 FROM devices WHERE account_id = ? AND id = ?", [accountID, device.id])
            if exists {
                try db.execute(
                    """
                    UPDATE devices SET name = ?, refresh_hash = ?, previous_refresh_hash = NULL,
                      pending_refresh_hash = NULL, revoked = FALSE, revoked_reason = NULL, last_seen_at = ?
                    WHERE account_id = ? AND id = ?
                    """,
                    [device.name, refreshHash, now, accountID, device.id])
            } else {
                try db.execute(
                    """
                    INSERT INTO devices (account_id, id, name, refresh_hash, previous_refresh_hash, revoked, created_at,
                      last_seen_at)
                    VALUES (?, ?, ?, ?, NULL, FALSE, ?, ?)
                    """,
                    [accountID, device.id, device.name, refreshHash, now, now])
            }
            return !exists
        }
    }

    /// Implements ``ServerStorage/addAccessToken(hash:accountID:deviceID:expiresAt:)``.
    public func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                "INSERT INTO access_tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)",
                [hash, accountID, deviceID, expiresAt])
        }
    }

    /// Implements ``ServerStorage/deleteExpiredAccessTokens(before:)``.
    public func deleteExpiredAccessTokens(before cutoff: Date) async throws -> Int {
        try await write { db in try db.execute("DELETE FROM access_tokens WHERE expires_at < ?", [cutoff]) }
    }

    /// Implements ``ServerStorage/session(accessHash:now:)``.
    public func session(accessHash: Data, now: Date) async throws -> AuthenticatedSession? {
        try await read { db in
            guard
                let row = try db.row(
                    """
                    SELECT t.account_id, t.device_id, d.name FROM access_tokens t
                    JOIN devices d ON d.account_id = t.account_id AND d.id = t.device_id
                    WHERE t.token_hash = ? AND t.expires_at > ? AND d.revoked = FALSE
                    """, [accessHash, now])
            else { return nil }
            return AuthenticatedSession(
                accountID: try row.uuid("account_id"), deviceID: try row.uuid("device_id"),
                deviceName: try row.text("name"))
        }
    }

    /// Implements ``ServerStorage/refresh(presentedHash:successorHash:access:now:unusedSince:)``.
    public func refresh(
        presentedHash: Data, successorHash: Data, access: NewAccessToken, now: Date, unusedSince cutoff: Date
    ) async throws -> RefreshOutcome {
        try await write { db in
            if let row = try db.row(
                """
                SELECT account_id, id, COALESCE(refresh_hash = ?, FALSE) AS is_current, last_seen_at FROM devices
                WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = FALSE
                """, [presentedHash, presentedHash, presentedHash])
            {
                let (account, device) = (try row.uuid("account_id"), try row.uuid("id"))
                if try row.date("last_seen_at") < cutoff {
                    try Self.revoke(db, account: account, device: device)
                    return .expiredUnused
                }
                if try row.bool("is_current") {
                    // The successor handed out last time never arrived (or was never used): it is
                    // replaced, and kept as "previous" so a copy of it that turns up later is a replay.
                    try db.execute(
                        """
                        UPDATE devices SET previous_refresh_hash = COALESCE(pending_refresh_hash, previous_refresh_hash),
                          pending_refresh_hash = ?, last_seen_at = ?
                        WHERE account_id = ? AND id = ?
                        """, [successorHash, now, account, device])
                } else {
                    // The successor is in use: the token before it is retired.
                    try db.execute(
                        """
                        UPDATE devices SET previous_refresh_hash = refresh_hash, refresh_hash = pending_refresh_hash,
                          pending_refresh_hash = ?, last_seen_at = ?
                        WHERE account_id = ? AND id = ?
                        """, [successorHash, now, account, device])
                }
                try db.execute(
                    "INSERT INTO access_tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)",
                    [access.hash, account, device, access.expiresAt])
                return .rotated(accountID: account, deviceID: device)
            }
            if let row = try db.row(
                "SELECT account_id, id FROM devices WHERE previous_refresh_hash = ? AND revoked = FALSE",
                [presentedHash])
            {
                let (account, device) = (try row.uuid("account_id"), try row.uuid("id"))
                try Self.revoke(db, account: account, device: device)
                return .replayed(accountID: account, deviceID: device)
            }
            if let row = try db.row(
                """
                SELECT account_id, revoked_reason FROM devices
                WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = TRUE AND revoked_reason IS NOT NULL
                """, [presentedHash, presentedHash]),
                let reason = RevocationReason(rawValue: try row.text("revoked_reason"))
            {
                return .revoked(accountID: try row.uuid("account_id"), reason: reason)
            }
            return .unknown
        }
    }

    /// Implements ``ServerStorage/signOut(refreshHash:)``.
    public func signOut(refreshHash: Data) async throws -> (accountID: UUID, deviceID: UUID)? {
        try await write { db in
            guard
                let row = try db.row(
                    """
                    SELECT account_id, id FROM devices
                    WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = FALSE
                    """, [refreshHash, refreshHash])
            else { return nil }
            let (account, device) = (try row.uuid("account_id"), try row.uuid("id"))
            try Self.revoke(db, account: account, device: device)
            return (account, device)
        }
    }

    /// Implements ``ServerStorage/revokeDevice(accountID:deviceID:)``.
    public func revokeDevice(accountID: UUID, deviceID: UUID) async throws -> Bool {
        try await write { db in
            guard
                try db.exists(
                    "SELECT 1 FROM devices WHERE account_id = ? AND id = ? AND revoked = FALSE", [accountID, deviceID])
            else { return false }
            try Self.revoke(db, account: accountID, device: deviceID)
            return true
        }
    }

    /// Signs devices out because of an account change: their refresh hash stays, so a later refresh
    /// can be told why it no longer works.
    static func revokeAll(_ db: any SQLTransaction, account: UUID, except device: UUID?, reason: RevocationReason)
        throws
    {
        // The nil UUID is no device's id: with no device to keep, every device goes.
        let keep = device ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        try db.execute(
            """
            UPDATE devices SET revoked = TRUE, previous_refresh_hash = NULL, revoked_reason = ?
            WHERE account_id = ? AND id <> ? AND revoked = FALSE
            """, [reason.rawValue, account, keep])
        try db.execute("DELETE FROM access_tokens WHERE account_id = ? AND device_id <> ?", [account, keep])
    }

    private static func revoke(_ db: any SQLTransaction, account: UUID, device: UUID) throws {
        try db.execute(
            """
            UPDATE devices SET revoked = TRUE, refresh_hash = NULL, previous_refresh_hash = NULL,
              pending_refresh_hash = NULL, revoked_reason = NULL
            WHERE account_id = ? AND id = ?
            """, [account, device])
        try db.execute("DELETE FROM access_tokens WHERE account_id = ? AND device_id = ?", [account, device])
    }

    /// Implements ``ServerStorage/devices(accountID:)``.
    public func devices(accountID: UUID) async throws -> [StoredDevice] {
        try await read { db in
            try db.rows(
                """
                SELECT id, name, created_at, last_seen_at FROM devices WHERE account_id = ? AND revoked = FALSE
                ORDER BY created_at
                """, [accountID]
            ).map { row in
                StoredDevice(
                    id: try row.uuid("id"), name: try row.text("name"), createdAt: try row.date("created_at"),
                    lastSeenAt: try row.date("last_seen_at"))
            }
        }
    }

    /// Implements `ServerStorage.pull`: at most `limit` records and about 32 MiB of ciphertext a
    /// page (always at least one record), so items with attachments page instead of ballooning.
    public func pull(accessHash: Data, now: Date, after cursor: Int64, limit: Int) async throws -> SyncPage? {
        // A device that is up to date is answered from the pull head alone, by the driver's quickest
        // path; records, when there are writes after the cursor, are read with the head again in one
        // transaction, so records and manifest are of one state.
        guard let head = try await driver.pullHead(accessHash: accessHash, now: now) else { return nil }
        if head.lastSequence <= cursor {
            return SyncPage(
                records: [], cursor: cursor, hasMore: false, manifest: head.manifest, restoredAt: head.restoredAt)
        }
        return try await read { db in
            guard let head = try PullHead.read(db, accessHash: accessHash, now: now) else { return nil }
            let rows = try db.rows(
                """
                SELECT item_id, revision, sequence, is_deleted, wrapped_key, content FROM records
                WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?
                """, [head.accountID, cursor, limit + 1])
            var taken = 0
            var bytes = 0
            for row in rows.prefix(limit) {
                bytes += try row.optionalBytes("content")?.count ?? 0
                if taken > 0, bytes > Self.pullPageBytes { break }
                taken += 1
            }
            let records = try rows.prefix(taken).map(Self.record)
            return SyncPage(
                records: records, cursor: records.last?.sequence ?? cursor, hasMore: rows.count > taken,
                manifest: head.manifest, restoredAt: head.restoredAt)
        }
    }

    /// The ciphertext one pull page carries at most (a single larger record still goes alone).
    static let pullPageBytes = 32 * 1_048_576

    static func record(_ row: SQLRow) throws -> WireRecord {
        WireRecord(
            id: try row.uuid("item_id"), revision: try row.int64("revision"), sequence: try row.int64("sequence"),
            isDeleted: try row.bool("is_deleted"), wrappedKey: try row.optionalBytes("wrapped_key"),
            content: try row.optionalBytes("content"))
    }

    /// Implements ``ServerStorage/push(accountID:changes:rule:now:)``. The account's last sequence is
    /// read and written in the same transaction; on PostgreSQL that transaction is serializable, so
    /// two pushes on different server processes never hand out one number twice.
    public func push(accountID: UUID, changes: [PushChange], rule: PushRule, now: Date) async throws -> PushResult {
        try await write(account: accountID) { db in
            var accepted: [AcceptedChange] = []
            var conflicts: [UUID] = []
            var sequence = try db.int64("SELECT last_sequence FROM accounts WHERE id = ?", [accountID]) ?? 0
            for change in changes {
                let revision =
                    try db.int64(
                        "SELECT revision FROM records WHERE account_id = ? AND item_id = ?", [accountID, change.id])
                    ?? 0
                let isAccepted =
                    switch rule {
                    case .onTopOfBase: revision == change.baseRevision
                    case .aboveCurrent: revision < change.revision
                    }
                guard isAccepted else {
                    conflicts.append(change.id)
                    continue
                }
                sequence += 1
                try db.execute(
                    """
                    INSERT INTO records (account_id, item_id, revision, sequence, is_deleted, wrapped_key, content, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, item_id) DO UPDATE SET revision = excluded.revision,
                      sequence = excluded.sequence, is_deleted = excluded.is_deleted,
                      wrapped_key = excluded.wrapped_key, content = excluded.content, updated_at = excluded.updated_at
                    """,
                    [
                        accountID, change.id, change.revision, sequence, change.isDeleted,
                        change.isDeleted ? nil : change.wrappedKey, change.content, now,
                    ])
                accepted.append(AcceptedChange(id: change.id, revision: change.revision, sequence: sequence))
            }
            try db.execute("UPDATE accounts SET last_sequence = ? WHERE id = ?", [sequence, accountID])
            return PushResult(accepted: accepted, conflicts: conflicts)
        }
    }

    /// Implements ``ServerStorage/updateManifest(accountID:expectedCounter:manifest:)``.
    public func updateManifest(accountID: UUID, expectedCounter: Int64, manifest: WireManifest) async throws
        -> ManifestUpdateOutcome
    {
        try await write(account: accountID) { db in
            guard
                let row = try db.row(
                    "SELECT manifest_counter, manifest_sequence, last_sequence FROM accounts WHERE id = ?", [accountID])
            else { throw StorageError.missingAccount }
            let counter = try row.int64("manifest_counter")
            let lastSequence = try row.int64("last_sequence")
            guard counter == expectedCounter, manifest.counter > expectedCounter else {
                return .counterMoved(current: counter)
            }
            guard manifest.sequence <= lastSequence, manifest.sequence >= (try row.int64("manifest_sequence")) else {
                return .sequenceOutOfRange(lastSequence: lastSequence, publishedSequence: manifest.sequence)
            }
            try db.execute(
                "UPDATE accounts SET manifest_counter = ?, manifest_sequence = ?, manifest_blob = ? WHERE id = ?",
                [manifest.counter, manifest.sequence, manifest.blob, accountID])
            return .updated
        }
    }

    /// Implements ``ServerStorage/recordEvent(accountID:event:)``.
    public func recordEvent(accountID: UUID, event: AccountEvent) async throws {
        try await write { db in try Self.insert(event, accountID: accountID, db) }
    }

    /// Implements ``ServerStorage/recordRestore(at:)``.
    public func recordRestore(at now: Date) async throws -> Int {
        try await write { db in
            try db.execute("UPDATE accounts SET restored_at = ?", [now])
            return try db.execute(
                "INSERT INTO account_events (account_id, kind, at) SELECT id, ?, ? FROM accounts",
                [AccountEventKind.serverRestored.rawValue, now])
        }
    }

    /// Implements ``ServerStorage/lastRestore()``.
    public func lastRestore() async throws -> Date? {
        try await read { db in try db.row("SELECT max(restored_at) AS restored FROM accounts")?.optionalDate("restored")
        }
    }

    static func insert(_ event: AccountEvent, accountID: UUID, _ db: any SQLTransaction) throws {
        try db.execute(
            "INSERT INTO account_events (account_id, kind, at, device_name, client_address) VALUES (?, ?, ?, ?, ?)",
            [accountID, event.kind.rawValue, event.at, event.deviceName, event.clientAddress])
    }

    /// Implements ``ServerStorage/events(accountID:limit:)``.
    public func events(accountID: UUID, limit: Int) async throws -> [AccountEvent] {
        try await read { db in
            try db.rows(
                """
                SELECT kind, at, device_name, client_address FROM account_events WHERE account_id = ?
                ORDER BY id DESC LIMIT ?
                """, [accountID, limit]
            ).compactMap { row in
                guard let kind = AccountEventKind(rawValue: try row.text("kind")) else { return nil }
                return AccountEvent(
                    kind: kind, at: try row.date("at"), deviceName: try row.optionalText("device_name"),
                    clientAddress: try row.optionalText("client_address"))
            }
        }
    }
}
