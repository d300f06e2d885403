public import CofferAPI
public import Foundation
import GRDB

/// The embedded default: one SQLite file in the data directory, through GRDB.
///
/// SQL is kept to what PostgreSQL also accepts (no SQLite-only types or upserts beyond
/// `ON CONFLICT`), so the PostgreSQL implementation can share the statements and migrations.
public final class SQLiteServerStorage: ServerStorage {
    let database: DatabasePool
    private let path: String
    private let pullReader: SQLitePullReader
    /// Checkpoints the write-ahead log off the request path; run by ``runMaintenance()``.
    private let checkpointer: SQLiteCheckpointer
    /// The file's identity when it was opened: a database deleted or swapped underneath the server
    /// would otherwise go on "working" on an unlinked file.
    private let inode: UInt64?

    /// The database's file name inside the data directory.
    public static let databaseFileName = "coffer.sqlite"

    /// Opens (creating if needed) `coffer.sqlite` in `directory`, owner-only.
    public init(directory: URL) throws {
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // Checkpoints happen in the background (SQLiteCheckpointer), not inside a request's commit.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        path = directory.appendingPathComponent(Self.databaseFileName).path
        database = try DatabasePool(path: path, configuration: configuration)
        pullReader = SQLitePullReader(path: path)
        checkpointer = SQLiteCheckpointer(path: path)
        inode = Self.inode(of: path)
    }

    private static func inode(of path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value
    }

    /// Implements ``ServerStorage/migrate()``. A database a newer server has migrated further is
    /// refused rather than used with a schema this version does not know (a rolled-back upgrade).
    public func migrate() async throws {
        let superseded: Bool
        do {
            superseded = try await database.read { try ServerSchema.migrator.hasBeenSuperseded($0) }
        } catch {
            throw Self.failure(error)
        }
        if superseded { throw SchemaTooNew() }
        do {
            try ServerSchema.migrator.migrate(database)
        } catch {
            throw Self.failure(error)
        }
    }

    /// Implements ``ServerStorage/checkReadiness()``: the file is still the one opened, and a write
    /// commits — so a full disk or a read-only file system takes the server out of rotation.
    public func checkReadiness() async throws {
        guard let inode, Self.inode(of: path) == inode else { throw StorageFailure.fileMissing(path: path) }
        try await write { db in
            try db.execute(
                sql:
                    "INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                arguments: [Date()])
        }
    }

    /// Implements ``ServerStorage/runMaintenance()``: background checkpoints for as long as it runs.
    public func runMaintenance() async {
        await checkpointer.run()
    }

    /// A write transaction whose failures are ``StorageFailure``s.
    func write<T: Sendable>(_ updates: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await database.write(updates)
        } catch {
            throw Self.failure(error)
        }
    }

    /// A read whose failures are ``StorageFailure``s.
    func read<T: Sendable>(_ value: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(value)
        } catch {
            throw Self.failure(error)
        }
    }

    /// Maps SQLite's failures to what an operator must know; other errors (the storage's own) pass.
    static func failure(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_FULL: return StorageFailure.full
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: return StorageFailure.readOnly
        case .SQLITE_IOERR
        where error.extendedResultCode == .SQLITE_IOERR_WRITE
            || error.extendedResultCode == .SQLITE_IOERR_FSYNC:
            return StorageFailure.full
        default: return StorageFailure.unavailable("SQLite error \(error.resultCode.rawValue)")
        }
    }

    /// Implements ``ServerStorage/createAccount(_:)``.
    public func createAccount(_ account: StoredAccount) async throws -> Bool {
        try await write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE email = ?", arguments: [account.email]) != nil {
                return false
            }
            try db.execute(
                sql: """
                    INSERT INTO accounts (id, email, email_verified, epoch, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                      salt, auth_verifier, recovery_verifier, password_wrapped_key, recovery_wrapped_key,
                      last_sequence, manifest_counter, manifest_blob, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, NULL, ?)
                    """,
                arguments: [
                    account.id.uuidString.lowercased(), account.email, account.emailVerified, Int64(account.epoch),
                    Int64(account.kdf.memoryKiB), Int64(account.kdf.iterations), Int64(account.kdf.parallelism),
                    account.salt, account.authVerifier, account.recoveryVerifier, account.passwordWrappedKey,
                    account.recoveryWrappedKey, account.createdAt,
                ])
            return true
        }
    }

    /// Implements ``ServerStorage/account(email:)``.
    public func account(email: String) async throws -> StoredAccount? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE email = ?", arguments: [email]).map(Self.account)
        }
    }

    /// Implements ``ServerStorage/account(id:)``.
    public func account(id: UUID) async throws -> StoredAccount? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [id.uuidString.lowercased()])
                .map(Self.account)
        }
    }

    private static func account(_ row: Row) -> StoredAccount {
        var account = StoredAccount(
            id: UUID(uuidString: row["id"]) ?? UUID(), email: row["email"], emailVerified: row["email_verified"],
            epoch: UInt32(clamping: row["epoch"] as Int64),
            kdf: WireKDF(
                memoryKiB: UInt32(clamping: row["kdf_memory_kib"] as Int64),
                iterations: UInt32(clamping: row["kdf_iterations"] as Int64),
                parallelism: UInt32(clamping: row["kdf_parallelism"] as Int64)),
            salt: row["salt"], authVerifier: row["auth_verifier"], recoveryVerifier: row["recovery_verifier"],
            passwordWrappedKey: row["password_wrapped_key"], recoveryWrappedKey: row["recovery_wrapped_key"],
            createdAt: row["created_at"])
        account.awaitingKeys = (row["awaiting_keys"] as Int64? ?? 0) != 0
        account.resetAt = row["reset_at"]
        account.resetFrom = row["reset_from"]
        return account
    }

    /// Implements ``ServerStorage/addVerificationToken(hash:accountID:expiresAt:)``.
    public func addVerificationToken(hash: Data, accountID: UUID, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO verification_tokens (token_hash, account_id, expires_at, used) VALUES (?, ?, ?, 0)",
                arguments: [hash, accountID.uuidString.lowercased(), expiresAt])
        }
    }

    /// Implements ``ServerStorage/verificationToken(hash:now:consume:)``.
    public func verificationToken(hash: Data, now: Date, consume: Bool) async throws -> UUID? {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT account_id, expires_at, used FROM verification_tokens WHERE token_hash = ?",
                    arguments: [hash]),
                (row["used"] as Int64) == 0, (row["expires_at"] as Date) > now
            else { return nil }
            let accountID: String = row["account_id"]
            guard consume else { return UUID(uuidString: accountID) }
            try db.execute(sql: "UPDATE verification_tokens SET used = 1 WHERE token_hash = ?", arguments: [hash])
            try db.execute(sql: "UPDATE accounts SET email_verified = 1 WHERE id = ?", arguments: [accountID])
            return UUID(uuidString: accountID)
        }
    }

    /// Implements ``ServerStorage/signIn(accountID:device:refreshHash:now:)``.
    public func signIn(accountID: UUID, device: DeviceInfo, refreshHash: Data, now: Date) async throws -> Bool {
        let account = accountID.uuidString.lowercased()
        let deviceID = device.id.uuidString.lowercased()
        return try await write { db in
            let exists =
                try Int.fetchOne(
                    db, sql: "SELECT 1 FROM devices WHERE account_id = ? AND id = ?", arguments: [account, deviceID])
                != nil
            if exists {
                try db.execute(
                    sql: """
                        UPDATE devices SET name = ?, refresh_hash = ?, previous_refresh_hash = NULL,
                          pending_refresh_hash = NULL, revoked = 0, revoked_reason = NULL, last_seen_at = ?
                        WHERE account_id = ? AND id = ?
                        """,
                    arguments: [device.name, refreshHash, now, account, deviceID])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO devices (account_id, id, name, refresh_hash, previous_refresh_hash, revoked, created_at, last_seen_at)
                        VALUES (?, ?, ?, ?, NULL, 0, ?, ?)
                        """,
                    arguments: [account, deviceID, device.name, refreshHash, now, now])
            }
            return !exists
        }
    }

    /// Implements ``ServerStorage/addAccessToken(hash:accountID:deviceID:expiresAt:)``.
    public func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO access_tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [hash, accountID.uuidString.lowercased(), deviceID.uuidString.lowercased(), expiresAt])
        }
    }

    /// Implements ``ServerStorage/deleteExpiredAccessTokens(before:)``.
    public func deleteExpiredAccessTokens(before cutoff: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM access_tokens WHERE expires_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Implements ``ServerStorage/session(accessHash:now:)``.
    public func session(accessHash: Data, now: Date) async throws -> AuthenticatedSession? {
        try await read { db in try Self.session(db, accessHash: accessHash, now: now) }
    }

    private static func session(_ db: Database, accessHash: Data, now: Date) throws -> AuthenticatedSession? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT t.account_id, t.device_id, d.name FROM access_tokens t
                        JOIN devices d ON d.account_id = t.account_id AND d.id = t.device_id
                        WHERE t.token_hash = ? AND t.expires_at > ? AND d.revoked = 0
                        """),
                arguments: [accessHash, StoredTimestamp.text(now)]),
            let account = UUID(uuidString: row["account_id"]), let device = UUID(uuidString: row["device_id"])
        else { return nil }
        return AuthenticatedSession(accountID: account, deviceID: device, deviceName: row["name"])
    }

    /// Implements ``ServerStorage/refresh(presentedHash:successorHash:access:now:unusedSince:)``.
    public func refresh(
        presentedHash: Data, successorHash: Data, access: NewAccessToken, now: Date, unusedSince cutoff: Date
    ) async throws -> RefreshOutcome {
        try await write { db in
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT account_id, id, refresh_hash = ? AS is_current, last_seen_at FROM devices
                    WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = 0
                    """,
                arguments: [presentedHash, presentedHash, presentedHash]),
                let account = UUID(uuidString: row["account_id"]), let device = UUID(uuidString: row["id"])
            {
                if (row["last_seen_at"] as Date) < cutoff {
                    try Self.revoke(db, account: row["account_id"], device: row["id"])
                    return .expiredUnused
                }
                if row["is_current"] as Bool {
                    // The successor handed out last time never arrived (or was never used): it is
                    // replaced, and kept as "previous" so a copy of it that turns up later is a replay.
                    try db.execute(
                        sql: """
                            UPDATE devices SET previous_refresh_hash = COALESCE(pending_refresh_hash, previous_refresh_hash),
                              pending_refresh_hash = ?, last_seen_at = ?
                            WHERE account_id = ? AND id = ?
                            """,
                        arguments: [successorHash, now, row["account_id"] as String, row["id"] as String])
                } else {
                    // The successor is in use: the token before it is retired.
                    try db.execute(
                        sql: """
                            UPDATE devices SET previous_refresh_hash = refresh_hash, refresh_hash = pending_refresh_hash,
                              pending_refresh_hash = ?, last_seen_at = ?
                            WHERE account_id = ? AND id = ?
                            """,
                        arguments: [successorHash, now, row["account_id"] as String, row["id"] as String])
                }
                try db.execute(
                    sql:
                        "INSERT INTO access_tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)",
                    arguments: [access.hash, row["account_id"] as String, row["id"] as String, access.expiresAt])
                return .rotated(accountID: account, deviceID: device)
            }
            if let row = try Row.fetchOne(
                db, sql: "SELECT account_id, id FROM devices WHERE previous_refresh_hash = ? AND revoked = 0",
                arguments: [presentedHash]),
                let account = UUID(uuidString: row["account_id"]), let device = UUID(uuidString: row["id"])
            {
                try Self.revoke(db, account: row["account_id"], device: row["id"])
                return .replayed(accountID: account, deviceID: device)
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT account_id, revoked_reason FROM devices
                    WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = 1 AND revoked_reason IS NOT NULL
                    """,
                arguments: [presentedHash, presentedHash]),
                let account = UUID(uuidString: row["account_id"]),
                let reason = RevocationReason(rawValue: row["revoked_reason"])
            {
                return .revoked(accountID: account, reason: reason)
            }
            return .unknown
        }
    }

    /// Implements ``ServerStorage/signOut(refreshHash:)``.
    public func signOut(refreshHash: Data) async throws -> (accountID: UUID, deviceID: UUID)? {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT account_id, id FROM devices WHERE (refresh_hash = ? OR pending_refresh_hash = ?) AND revoked = 0
                        """,
                    arguments: [refreshHash, refreshHash]),
                let account = UUID(uuidString: row["account_id"]), let device = UUID(uuidString: row["id"])
            else { return nil }
            try Self.revoke(db, account: row["account_id"], device: row["id"])
            return (account, device)
        }
    }

    /// Implements ``ServerStorage/revokeDevice(accountID:deviceID:)``.
    public func revokeDevice(accountID: UUID, deviceID: UUID) async throws -> Bool {
        try await write { db in
            let account = accountID.uuidString.lowercased()
            let device = deviceID.uuidString.lowercased()
            guard
                try Int.fetchOne(
                    db, sql: "SELECT 1 FROM devices WHERE account_id = ? AND id = ? AND revoked = 0",
                    arguments: [account, device]) != nil
            else { return false }
            try Self.revoke(db, account: account, device: device)
            return true
        }
    }

    /// Signs devices out because of an account change: their refresh hash stays, so a later refresh
    /// can be told why it no longer works.
    static func revokeAll(_ db: Database, account: String, except device: UUID?, reason: RevocationReason) throws {
        let keep = device?.uuidString.lowercased() ?? ""
        try db.execute(
            sql: """
                UPDATE devices SET revoked = 1, previous_refresh_hash = NULL, revoked_reason = ?
                WHERE account_id = ? AND id <> ? AND revoked = 0
                """,
            arguments: [reason.rawValue, account, keep])
        try db.execute(
            sql: "DELETE FROM access_tokens WHERE account_id = ? AND device_id <> ?", arguments: [account, keep])
    }

    private static func revoke(_ db: Database, account: String, device: String) throws {
        try db.execute(
            sql: """
                UPDATE devices SET revoked = 1, refresh_hash = NULL, previous_refresh_hash = NULL,
                  pending_refresh_hash = NULL, revoked_reason = NULL
                WHERE account_id = ? AND id = ?
                """,
            arguments: [account, device])
        try db.execute(
            sql: "DELETE FROM access_tokens WHERE account_id = ? AND device_id = ?", arguments: [account, device])
    }

    /// Implements ``ServerStorage/devices(accountID:)``.
    public func devices(accountID: UUID) async throws -> [StoredDevice] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, name, created_at, last_seen_at FROM devices WHERE account_id = ? AND revoked = 0 ORDER BY created_at",
                arguments: [accountID.uuidString.lowercased()]
            ).compactMap { row in
                UUID(uuidString: row["id"]).map {
                    StoredDevice(
                        id: $0, name: row["name"], createdAt: row["created_at"], lastSeenAt: row["last_seen_at"])
                }
            }
        }
    }

    /// Implements `ServerStorage.pull`: at most `limit` records and about 32 MiB of ciphertext a
    /// page (always at least one record), so items with attachments page instead of ballooning.
    public func pull(accessHash: Data, now: Date, after cursor: Int64, limit: Int) async throws -> SyncPage? {
        // One statement answers a device that is up to date — its session, the account's manifest and
        // last write — and a single statement needs no transaction to see one state. Records, when
        // there are writes after the cursor, are read with the manifest again in one transaction.
        let found: SQLitePullReader.Found?
        do {
            found = try pullReader.find(accessHash: accessHash, now: StoredTimestamp.text(now))
        } catch {
            throw Self.failure(error)
        }
        guard let found else { return nil }
        if found.lastSequence <= cursor {
            return SyncPage(
                records: [], cursor: cursor, hasMore: false, manifest: found.manifest, restoredAt: found.restoredAt)
        }
        // Never a blocking read here: a cooperative thread waiting for one of GRDB's readers could be the
        // thread another read needs to give its reader back.
        return try await read { db in
            guard let account = try Self.sessionAndManifest(db, accessHash: accessHash, now: now) else { return nil }
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT item_id, revision, sequence, is_deleted, wrapped_key, content FROM records
                        WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?
                        """),
                arguments: [account.id, cursor, limit + 1])
            var taken = 0
            var bytes = 0
            for row in rows.prefix(limit) {
                bytes += (row["content"] as Data?)?.count ?? 0
                if taken > 0, bytes > Self.pullPageBytes { break }
                taken += 1
            }
            let records = rows.prefix(taken).compactMap(Self.record)
            return SyncPage(
                records: records, cursor: records.last?.sequence ?? cursor, hasMore: rows.count > taken,
                manifest: account.manifest, restoredAt: account.restoredAt)
        }
    }

    private static func sessionAndManifest(_ db: Database, accessHash: Data, now: Date) throws
        -> (id: String, lastSequence: Int64, manifest: WireManifest?, restoredAt: Date?)?
    {
        guard
            let account = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT a.id, a.last_sequence, a.manifest_counter, a.manifest_sequence, a.manifest_blob,
                          a.restored_at
                        FROM access_tokens t
                        JOIN devices d ON d.account_id = t.account_id AND d.id = t.device_id AND d.revoked = 0
                        JOIN accounts a ON a.id = t.account_id
                        WHERE t.token_hash = ? AND t.expires_at > ?
                        """),
                arguments: [accessHash, StoredTimestamp.text(now)])
        else { return nil }
        let manifest = (account["manifest_blob"] as Data?).map {
            WireManifest(counter: account["manifest_counter"], sequence: account["manifest_sequence"], blob: $0)
        }
        return (account["id"], account["last_sequence"], manifest, account["restored_at"])
    }

    /// The ciphertext one pull page carries at most (a single larger record still goes alone).
    static let pullPageBytes = 32 * 1_048_576

    private static func record(_ row: Row) -> WireRecord? {
        guard let id = UUID(uuidString: row["item_id"]) else { return nil }
        return WireRecord(
            id: id, revision: row["revision"], sequence: row["sequence"], isDeleted: (row["is_deleted"] as Int64) != 0,
            wrappedKey: row["wrapped_key"], content: row["content"])
    }

    /// Implements ``ServerStorage/push(accountID:changes:now:)``.
    public func push(accountID: UUID, changes: [PushChange], rule: PushRule, now: Date) async throws -> PushResult {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            var accepted: [AcceptedChange] = []
            var conflicts: [UUID] = []
            var sequence =
                try Int64.fetchOne(db, sql: "SELECT last_sequence FROM accounts WHERE id = ?", arguments: [account])
                ?? 0
            let current = try db.cachedStatement(
                sql: "SELECT revision FROM records WHERE account_id = ? AND item_id = ?")
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO records (account_id, item_id, revision, sequence, is_deleted, wrapped_key, content, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, item_id) DO UPDATE SET revision = excluded.revision,
                      sequence = excluded.sequence, is_deleted = excluded.is_deleted,
                      wrapped_key = excluded.wrapped_key, content = excluded.content, updated_at = excluded.updated_at
                    """)
            for change in changes {
                let item = change.id.uuidString.lowercased()
                let revision = try Int64.fetchOne(current, arguments: [account, item]) ?? 0
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
                try upsert.execute(arguments: [
                    account, item, change.revision, sequence, change.isDeleted ? 1 : 0,
                    change.isDeleted ? nil : change.wrappedKey, change.content, now,
                ])
                accepted.append(AcceptedChange(id: change.id, revision: change.revision, sequence: sequence))
            }
            try db.execute(sql: "UPDATE accounts SET last_sequence = ? WHERE id = ?", arguments: [sequence, account])
            return PushResult(accepted: accepted, conflicts: conflicts)
        }
    }

    /// Implements ``ServerStorage/updateManifest(accountID:expectedCounter:manifest:)``.
    public func updateManifest(accountID: UUID, expectedCounter: Int64, manifest: WireManifest) async throws
        -> ManifestUpdateOutcome
    {
        let account = accountID.uuidString.lowercased()
        return try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT manifest_counter, manifest_sequence, last_sequence FROM accounts WHERE id = ?",
                    arguments: [account])
            else { throw StorageError.missingAccount }
            let counter: Int64 = row["manifest_counter"]
            let lastSequence: Int64 = row["last_sequence"]
            guard counter == expectedCounter, manifest.counter > expectedCounter else {
                return .counterMoved(current: counter)
            }
            guard manifest.sequence <= lastSequence, manifest.sequence >= row["manifest_sequence"] as Int64 else {
                return .sequenceOutOfRange(lastSequence: lastSequence, publishedSequence: manifest.sequence)
            }
            try db.execute(
                sql: "UPDATE accounts SET manifest_counter = ?, manifest_sequence = ?, manifest_blob = ? WHERE id = ?",
                arguments: [manifest.counter, manifest.sequence, manifest.blob, account])
            return .updated
        }
    }

    /// Implements ``ServerStorage/recordEvent(accountID:event:)``.
    public func recordEvent(accountID: UUID, event: AccountEvent) async throws {
        try await write { db in try Self.insert(event, accountID: accountID.uuidString.lowercased(), db) }
    }

    /// Implements ``ServerStorage/recordRestore(at:)``.
    public func recordRestore(at now: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "UPDATE accounts SET restored_at = ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO account_events (account_id, kind, at) SELECT id, ?, ? FROM accounts",
                arguments: [AccountEventKind.serverRestored.rawValue, now])
            return db.changesCount
        }
    }

    /// Implements ``ServerStorage/lastRestore()``.
    public func lastRestore() async throws -> Date? {
        try await read { db in try Date.fetchOne(db, sql: "SELECT max(restored_at) FROM accounts") }
    }

    static func insert(_ event: AccountEvent, accountID: String, _ db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO account_events (account_id, kind, at, device_name, client_address) VALUES (?, ?, ?, ?, ?)",
            arguments: [accountID, event.kind.rawValue, event.at, event.deviceName, event.clientAddress])
    }

    /// Implements ``ServerStorage/events(accountID:limit:)``.
    public func events(accountID: UUID, limit: Int) async throws -> [AccountEvent] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT kind, at, device_name, client_address FROM account_events WHERE account_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [accountID.uuidString.lowercased(), limit]
            ).compactMap { row in
                AccountEventKind(rawValue: row["kind"]).map {
                    AccountEvent(
                        kind: $0, at: row["at"], deviceName: row["device_name"], clientAddress: row["client_address"])
                }
            }
        }
    }
}
