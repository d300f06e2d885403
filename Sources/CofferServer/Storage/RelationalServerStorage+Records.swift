public import CofferAPI
public import Foundation

// Sealed records, their sequence and the manifest (``RecordRepository``).
extension RelationalServerStorage {
    /// Implements ``RecordRepository/pull(accessHash:now:after:within:)``.
    public func pull(accessHash: Data, now: Date, after cursor: Int64, within limit: PageLimit) async throws
        -> RecordPage?
    {
        // A device that is up to date is answered from the pull head alone, by the driver's quickest
        // path; records, when there are writes after the cursor, are read with the head again in one
        // transaction, so records and manifest are of one state.
        guard let head = try await driver.pullHead(accessHash: accessHash, now: now) else { return nil }
        if head.lastSequence <= cursor { return RecordPage(head: head, records: [], hasMore: false) }
        return try await read { db in
            guard let head = try PullHead.read(db, accessHash: accessHash, now: now) else { return nil }
            let rows = try db.rows(
                """
                SELECT item_id, revision, sequence, is_deleted, wrapped_key, content FROM records
                WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?
                """, [head.accountID, cursor, limit.records + 1])
            var taken = 0
            var bytes = 0
            for row in rows.prefix(limit.records) {
                bytes += try row.optionalBytes("content")?.count ?? 0
                if taken > 0, bytes > limit.bytes { break }
                taken += 1
            }
            return RecordPage(
                head: head, records: try rows.prefix(taken).map(Self.record), hasMore: rows.count > taken)
        }
    }

    static func record(_ row: SQLRow) throws -> WireRecord {
        WireRecord(
            id: try row.uuid("item_id"), revision: try row.int64("revision"), sequence: try row.int64("sequence"),
            isDeleted: try row.bool("is_deleted"), wrappedKey: try row.optionalBytes("wrapped_key"),
            content: try row.optionalBytes("content"))
    }

    /// Implements ``RecordRepository/push(accountID:changes:rule:now:)``. The account's last sequence is
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

    /// Implements ``RecordRepository/updateManifest(accountID:expectedCounter:manifest:)``.
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

    /// Implements ``RecordRepository/recordRestore(at:)``.
    public func recordRestore(at now: Date) async throws -> Int {
        try await write { db in
            try db.execute("UPDATE accounts SET restored_at = ?", [now])
            return try db.execute(
                "INSERT INTO account_events (account_id, kind, at) SELECT id, ?, ? FROM accounts",
                [AccountEventKind.serverRestored.rawValue, now])
        }
    }

    /// Implements ``RecordRepository/lastRestore()``.
    public func lastRestore() async throws -> Date? {
        try await read { db in try db.row("SELECT max(restored_at) AS restored FROM accounts")?.optionalDate("restored")
        }
    }
}
