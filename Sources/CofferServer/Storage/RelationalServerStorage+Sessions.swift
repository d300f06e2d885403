public import CofferAPI
public import Foundation

// Devices and their tokens (``SessionRepository``).
extension RelationalServerStorage {
    /// Implements ``SessionRepository/signIn(accountID:device:refreshHash:now:)``.
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

    /// Implements ``SessionRepository/addAccessToken(hash:accountID:deviceID:expiresAt:)``.
    public func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws {
        try await write { db in
            try db.execute(
                "INSERT INTO access_tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)",
                [hash, accountID, deviceID, expiresAt])
        }
    }

    /// Implements ``SessionRepository/deleteExpiredAccessTokens(before:)``.
    public func deleteExpiredAccessTokens(before cutoff: Date) async throws -> Int {
        try await write { db in try db.execute("DELETE FROM access_tokens WHERE expires_at < ?", [cutoff]) }
    }

    /// Implements ``SessionRepository/session(accessHash:now:)``.
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

    /// Implements ``SessionRepository/refresh(presentedHash:successorHash:access:now:unusedSince:)``.
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

    /// Implements ``SessionRepository/signOut(refreshHash:)``.
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

    /// Implements ``SessionRepository/revokeDevice(accountID:deviceID:)``.
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

    /// Implements ``SessionRepository/devices(accountID:)``.
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
}
