public import Foundation

extension RelationalServerStorage {
    /// Implements ``CoordinationRepository/adoptSecretFingerprint(_:)``.
    public func adoptSecretFingerprint(_ fingerprint: Data) async throws -> Bool {
        try await write { db in
            try db.execute(
                "INSERT INTO server_identity (id, secret_fingerprint) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                [fingerprint])
            return try db.row("SELECT secret_fingerprint FROM server_identity WHERE id = 1")?
                .bytes("secret_fingerprint") == fingerprint
        }
    }

    /// Implements ``CoordinationRepository/countAttempt(key:window:now:)``: one statement, so two processes
    /// counting the same key at once both count.
    public func countAttempt(key: Data, window: TimeInterval, now: Date) async throws -> (
        count: Int, windowStart: Date
    ) {
        let expired = now.addingTimeInterval(-window)
        return try await write { db in
            guard
                let row = try db.row(
                    """
                    INSERT INTO attempt_windows (key, window_start, count) VALUES (?, ?, 1)
                    ON CONFLICT (key) DO UPDATE SET
                      count = CASE WHEN attempt_windows.window_start <= ? THEN 1 ELSE attempt_windows.count + 1 END,
                      window_start = CASE WHEN attempt_windows.window_start <= ? THEN excluded.window_start
                        ELSE attempt_windows.window_start END
                    RETURNING count, window_start
                    """, [key, now, expired, expired])
            else { throw StorageFailure.unavailable("an attempt was not counted") }
            return (try row.int("count"), try row.date("window_start"))
        }
    }

    /// Implements ``CoordinationRepository/deleteAttemptWindows(before:)``.
    public func deleteAttemptWindows(before cutoff: Date) async throws -> Int {
        try await write { db in try db.execute("DELETE FROM attempt_windows WHERE window_start < ?", [cutoff]) }
    }

    /// Implements ``CoordinationRepository/takeJanitorLease(holder:now:until:)``.
    public func takeJanitorLease(holder: String, now: Date, until: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                "INSERT INTO janitor_lease (id, holder, until) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
                [holder, until]) == 1
                || db.execute(
                    "UPDATE janitor_lease SET holder = ?, until = ? WHERE id = 1 AND (holder = ? OR until <= ?)",
                    [holder, until, holder, now]) == 1
        }
    }
}

extension RelationalServerStorage {
    /// Implements ``CoordinationRepository/announceChange(accountID:sequence:)``.
    public func announceChange(accountID: UUID, sequence: Int64) async throws {
        try await driver.announce(ChangeFeed.payload(accountID: accountID, sequence: sequence))
    }

    /// Implements ``CoordinationRepository/receiveChanges(_:)``; anything on the channel that is not an
    /// announcement is ignored.
    public func receiveChanges(_ deliver: @escaping @Sendable (UUID, Int64) async -> Void) async {
        await driver.receiveAnnouncements { payload in
            guard let (account, sequence) = ChangeFeed.parse(payload) else { return }
            await deliver(account, sequence)
        }
    }
}
