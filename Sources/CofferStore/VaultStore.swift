public import CofferCrypto
import CofferModel
public import CofferVault
public import Foundation
import GRDB

/// The device's vault file: one SQLite database holding only sealed records and wrapped keys.
///
/// Every change is one transaction. Its integrity is a ``SetDigest`` over every record version,
/// kept sealed under the account key and updated record by record inside each transaction, so a
/// change costs the same in a vault of ten items as in one of a million, a killed process leaves
/// the previous or the next state, and a row dropped, added, swapped or rolled back behind Coffer's
/// back fails the check the next time the vault is opened. Each write stamps the rows it touches with
/// a change sequence, so an open session (or the agent) catches up by reading only what changed.
public struct VaultStore: Sendable {
    /// Where the file is.
    public let path: String
    private let database: DatabaseQueue

    /// Opens an existing vault file.
    public static func open(at path: String) throws(CofferStoreError) -> VaultStore {
        guard FileManager.default.fileExists(atPath: path) else { throw .noVault(path: path) }
        let store = try VaultStore(path: path)
        try store.migrate()
        return store
    }

    /// The account header of the vault file at `path`, read without changing the file (no
    /// migration, no journal recovery written back): for files kept aside, such as `before-reset/`.
    public static func readHeader(at path: String) throws(CofferStoreError) -> AccountHeader {
        guard FileManager.default.fileExists(atPath: path) else { throw .noVault(path: path) }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: path, configuration: configuration)
            guard let row = try database.read({ try AccountRow.fetchOne($0) }) else {
                throw CofferStoreError.corruptDatabase(path: path)
            }
            return try row.header()
        } catch let error as CofferStoreError {
            if case .corruptDatabase = error { throw .corruptDatabase(path: path) }
            throw error
        } catch {
            throw translate(error, path: path)
        }
    }

    /// Creates a vault file holding `header`, the sealed digest of the empty set, and nothing else;
    /// its items will be written in `contentFormat` (``ItemContentFormat`` says which to choose).
    public static func create(
        at path: String, header: AccountHeader, keyring: Keyring, writing contentFormat: ItemContentFormat
    ) throws(CofferStoreError) -> VaultStore {
        guard !FileManager.default.fileExists(atPath: path) else { throw .vaultExists(path: path) }
        let store = try VaultStore(path: path)
        try store.rebuild()
        try store.migrate()
        let sealed = keyring.sealDigest(.empty, purpose: .vaultDigest, position: 0)
        try store.write { db in
            try AccountRow(header: header, manifestCounter: 0, manifestMAC: Array(sealed.bytes)).insert(db)
            try db.execute(
                sql: """
                    UPDATE account SET integrityFormat = 2, lastChangeSequence = 0, contentFormat = ?,
                      accountKeyCommitment = ?
                    WHERE id = 1
                    """,
                arguments: [contentFormat.rawValue, Data(keyring.accountKeyCommitment)])
        }
        return store
    }

    /// `keyring`, sealing items in this vault's content format: what every writer of this vault's
    /// records (a session, a sync) seals with.
    public func sealing(with keyring: Keyring) throws(CofferStoreError) -> Keyring {
        var sealing = keyring
        sealing.contentFormat = try contentFormat()
        return sealing
    }

    /// Makes `format` what this vault writes item content in from now on.
    public func setContentFormat(_ format: ItemContentFormat) throws(CofferStoreError) {
        try write { db in
            try db.execute(sql: "UPDATE account SET contentFormat = ? WHERE id = 1", arguments: [format.rawValue])
        }
    }

    /// Whether no sync server has ever seen this vault: not signed in, never pinned a server's key
    /// derivation or verified its manifest, and no record a server held. Only such a vault may change
    /// how it writes items without asking the account's other devices, for it has none.
    public func neverSynced() throws(CofferStoreError) -> Bool {
        try read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT NOT EXISTS (SELECT 1 FROM syncState) AND NOT EXISTS (SELECT 1 FROM kdfPin)
                      AND NOT EXISTS (SELECT 1 FROM serverWatermark)
                      AND NOT EXISTS (SELECT 1 FROM itemSync WHERE syncedRevision > 0 OR syncedDeleted = 1)
                    """) ?? false
        }
    }

    /// The format this vault writes item content in.
    public func contentFormat() throws(CofferStoreError) -> ItemContentFormat {
        let stored = try read { db in try Int.fetchOne(db, sql: "SELECT contentFormat FROM account WHERE id = 1") }
        guard let stored, let format = ItemContentFormat(rawValue: stored) else {
            throw .newerVault(
                path: path, detail: "it writes items in content format \(stored.map(String.init) ?? "none")")
        }
        return format
    }

    private init(path: String) throws(CofferStoreError) {
        self.path = path
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Gives the file 8 KiB pages and, when it has tables, rebuilds it without free or part-full
    /// pages. 8 KiB: a record of a typical login (about 300 bytes) wastes a tenth as much of a
    /// page's end as with 4 KiB. A new file takes the size before its first table; an existing one by
    /// the VACUUM, which rebuilds the file atomically (killed half-way, the file is as it was).
    private func rebuild() throws(CofferStoreError) {
        do {
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA page_size = 8192")
                if try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0 > 0 {
                    try db.execute(sql: "VACUUM")
                }
            }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Rebuilds the file after a change that rewrote most of its records, which leaves pages part
    /// full rather than free; best effort: the file is whole either way.
    public func compact() {
        try? rebuild()
    }

    /// Whether more than a quarter of a file of 1 MiB or more is free pages.
    private func mostlyFree() throws -> Bool {
        try database.read { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            return pages * (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0) >= 1 << 20 && free * 4 > pages
        }
    }

    private func migrate() throws(CofferStoreError) {
        do {
            let applied = try database.read { try Schema.migrator.appliedIdentifiers($0) }
            // A layout this build does not know may key or hold rows differently: refuse to read it
            // rather than call the file damaged.
            if let newer = applied.subtracting(Schema.migrator.migrations).sorted().last {
                throw CofferStoreError.newerVault(path: path, detail: "its file layout \"\(newer)\"")
            }
            try Schema.migrator.migrate(database)
            // The migrations that drop second copies and shorten keys free much of the file; give it
            // back. So does any open that finds most of a large file free (a purged trash, or a
            // compaction that was cut short). VACUUM is atomic: killed half-way, the file is as it
            // was, and opens; one that cannot run now (another process is reading) waits for the
            // next open.
            let migratedNow =
                !applied.isEmpty && (!applied.contains(Schema.oneCopy) || !applied.contains(Schema.smallKeys))
            if try migratedNow || mostlyFree() { compact() }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// The account header.
    public func header() throws(CofferStoreError) -> AccountHeader {
        do {
            return try accountRow().header()
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Every record, for loading the vault.
    public func allRecords() throws(CofferStoreError) -> [SealedItem] {
        try read { db in
            let keys = try StoredKeys(db)
            return try ItemRow.fetchAll(db).map { row throws(CofferStoreError) in try row.sealedItem(keys) }
        }
    }

    /// The stored records of `ids` (missing ones are absent from the answer), with their change sequences.
    public func records(_ ids: some Collection<UUID>) throws(CofferStoreError) -> [UUID: StoredRecord] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var found: [UUID: StoredRecord] = [:]
            let keys = try StoredKeys(db)
            let statement = try db.cachedStatement(sql: "SELECT * FROM item WHERE id = ?")
            for id in ids {
                if let row = try ItemRow.fetchOne(statement, arguments: [id.storeKey]) {
                    found[id] = StoredRecord(record: try row.sealedItem(keys), changeSequence: row.changeSequence)
                }
            }
            return found
        }
    }

    /// The wrapped item keys of `ids` (missing ones are absent): what sealing a new revision of an
    /// existing item needs, without reading its content.
    public func wrappedKeys(of ids: some Collection<UUID>) throws(CofferStoreError) -> [UUID: SealedBox] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var found: [UUID: SealedBox] = [:]
            let keys = try StoredKeys(db)
            let statement = try db.cachedStatement(sql: "SELECT wrappedKey FROM item WHERE id = ?")
            for id in ids {
                guard let bytes = try Data.fetchOne(statement, arguments: [id.storeKey]) else {
                    continue
                }
                guard let key = keys.box(bytes) else { throw CofferStoreError.corruptDatabase(path: "") }
                found[id] = key
            }
            return found
        }
    }

    /// The sequence of the last change written to this file; a session that has seen it is up to date.
    public func changeSequence() throws(CofferStoreError) -> Int64 {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT lastChangeSequence FROM account WHERE id = 1") ?? 0
        }
    }

    /// What changed after `sequence`: the records written and the ids removed since then.
    public func changes(after sequence: Int64) throws(CofferStoreError) -> VaultChanges {
        try read { db in
            let latest = try Int64.fetchOne(db, sql: "SELECT lastChangeSequence FROM account WHERE id = 1") ?? 0
            guard latest != sequence else { return VaultChanges(written: [], removed: [], changeSequence: latest) }
            let keys = try StoredKeys(db)
            let written = try ItemRow.fetchAll(
                db, sql: "SELECT * FROM item WHERE changeSequence > ?", arguments: [sequence]
            ).map { row throws(CofferStoreError) in
                StoredRecord(record: try row.sealedItem(keys), changeSequence: row.changeSequence)
            }
            let removed = try Data.fetchAll(
                db, sql: "SELECT id FROM removedItem WHERE changeSequence > ?", arguments: [sequence]
            ).compactMap(UUID.init(storeKey:))
            return VaultChanges(written: written, removed: removed, changeSequence: latest)
        }
    }

    /// Applies a change in one transaction; the per-item guards make it fail with
    /// ``CofferStoreError/concurrentChange`` when one of those items changed since the caller read it.
    @discardableResult
    public func commit(_ change: VaultChange, keyring: Keyring) throws(CofferStoreError) -> Int64 {
        var sequence: Int64 = 0
        // A bulk change's records are sealed from now on, while the transaction reads what they replace.
        let pipeline = change.streamed.map { SealingPipeline(sealing: $0, keyring: keyring) }
        defer { pipeline?.stop() }
        try write { db in
            // Each batch written is marked changed for sync as it is written, so marking a bulk
            // change's records happens while the next chunk is sealed rather than after the last.
            sequence = try RecordWrites.apply(
                db, upserts: change.upserts, contentHashes: change.contentHashes, streamed: pipeline,
                removals: change.deletions, keyring: keyring, guards: change.guards,
                eachWritten: { keys in try SyncSchema.markDirty(db, keys: keys) })
            for id in change.deletions { try SyncSchema.markPurged(db, id: id) }
        }
        return sequence
    }

    private func accountRow() throws(CofferStoreError) -> AccountRow {
        let row = try read { db in try AccountRow.fetchOne(db) }
        guard let row else { throw .corruptDatabase(path: path) }
        return row
    }

    func readDatabase<T>(_ body: (Database) throws -> T) throws(CofferStoreError) -> T { try read(body) }
    func writeDatabase(_ body: (Database) throws -> Void) throws(CofferStoreError) { try write(body) }

    private func read<T>(_ body: (Database) throws -> T) throws(CofferStoreError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    private func write(_ body: (Database) throws -> Void) throws(CofferStoreError) {
        do {
            try database.write(body)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    static func translate(_ error: any Error, path: String) -> CofferStoreError {
        // Row decoders do not know the path; they report an empty one that is filled in here.
        if case .corruptDatabase = error as? CofferStoreError { return .corruptDatabase(path: path) }
        if let error = error as? CofferStoreError { return error }
        if let error = error as? CofferVaultError { return .integrity(error) }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_MISMATCH: return .corruptDatabase(path: path)
            case .SQLITE_FULL: return .diskFull(path: path)
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: return .notWritable(path: path)
            default: return .database(error.message ?? "SQLite error \(error.resultCode.rawValue)")
            }
        }
        if error is RowDecodingError { return .corruptDatabase(path: path) }
        return .database(String(describing: type(of: error)))
    }
}

/// A record as stored, with the change sequence of the write that put it there.
public struct StoredRecord: Sendable, Equatable {
    /// The sealed record.
    public var record: SealedItem
    /// Compared by per-item guards to detect a concurrent change.
    public var changeSequence: Int64

    /// Creates a stored record.
    public init(record: SealedItem, changeSequence: Int64) {
        self.record = record
        self.changeSequence = changeSequence
    }
}

/// What changed in the file after a given change sequence.
public struct VaultChanges: Sendable {
    /// Records written (new or replaced).
    public var written: [StoredRecord]
    /// Items removed (purged).
    public var removed: [UUID]
    /// The file's change sequence now.
    public var changeSequence: Int64
}

/// One atomic change: records written, records removed, and what the caller based it on.
public struct VaultChange: Sendable {
    /// Records inserted or replaced.
    public var upserts: [SealedItem]
    /// Records purged.
    public var deletions: [UUID]
    /// Item id → the change sequence the caller last saw for it (`0`: it must not exist yet). Any
    /// mismatch refuses the whole change: someone else changed that item meanwhile.
    public var guards: [UUID: Int64]
    /// SHA-256 of each upsert's sealed content, in the order of `upserts`, when the caller has it
    /// already (the store computes it otherwise).
    public var contentHashes: [[UInt8]]?
    /// Records sealed while the store writes, for a bulk change (besides `upserts`).
    public var streamed: StreamedRecords?

    /// Creates a change.
    public init(
        upserts: [SealedItem] = [], deletions: [UUID] = [], guards: [UUID: Int64] = [:],
        contentHashes: [[UInt8]]? = nil, streamed: StreamedRecords? = nil
    ) {
        precondition(contentHashes.map { $0.count == upserts.count } ?? true, "one content hash per upsert")
        self.upserts = upserts
        self.deletions = deletions
        self.guards = guards
        self.contentHashes = contentHashes
        self.streamed = streamed
    }
}

/// The records of a bulk change, sealed by the caller a chunk at a time while the store writes the
/// chunk before: sealing uses every core and writing one, so doing both at once shortens writing
/// 100,000 new items. Everything is still one transaction.
public struct StreamedRecords: Sendable {
    /// A sealed record and the SHA-256 of its sealed content.
    public typealias Sealed = (record: SealedItem, contentHash: [UInt8])

    /// The item id of every record, in the order they are sealed and written (for a bulk write,
    /// best the order of the id index: `sortsBefore`).
    public let ids: [UUID]
    /// Records per chunk.
    public let chunkSize: Int
    /// Seals the records of `ids[range]`, in order. Called once per chunk, in order, on a thread
    /// of its own; an error stops the change, which then writes nothing.
    public let seal: @Sendable (Range<Int>) throws -> [Sealed]

    /// Records of `ids`, sealed `chunkSize` at a time by `seal`.
    public init(ids: [UUID], chunkSize: Int = 4096, seal: @escaping @Sendable (Range<Int>) throws -> [Sealed]) {
        self.ids = ids
        self.chunkSize = max(1, chunkSize)
        self.seal = seal
    }

    /// The ranges of `ids` the chunks cover, in order.
    var ranges: [Range<Int>] {
        stride(from: 0, to: ids.count, by: chunkSize).map { $0..<min($0 + chunkSize, ids.count) }
    }
}

/// The record writes both local changes and syncs make, keeping the sealed digest and the change
/// sequence in step with the rows. Callers run it inside their write transaction.
enum RecordWrites {
    /// Ids per statement when many rows are read or written at once: a bulk change costs a few
    /// hundred statements instead of several per record (well under SQLite's variable limit).
    static let batchSize = 500

    /// `values` a batch of at most `batchSize` at a time.
    static func inBatches<Value>(_ values: [Value], _ body: (ArraySlice<Value>) throws -> Void) rethrows {
        for start in stride(from: 0, to: values.count, by: batchSize) {
            try body(values[start..<min(start + batchSize, values.count)])
        }
    }

    /// What the file holds of an item that a change replaces or removes.
    private struct Existing {
        var revision: Int64
        var contentHash: [UInt8]
        var changeSequence: Int64
    }

    /// The rows of `ids` that exist, read a batch at a time.
    private static func existing(_ db: Database, _ ids: [UUID]) throws -> [UUID: Existing] {
        var found: [UUID: Existing] = [:]
        // The first import into a new vault asks about 100,000 ids that cannot be there.
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM item)") == true else { return found }
        try inBatches(ids) { ids in
            let batch = ids.map(\.storeKey)
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, revision, changeSequence, content
                    FROM item WHERE id IN (\(databaseQuestionMarks(count: batch.count)))
                    """,
                arguments: StatementArguments(batch))
            while let row = try rows.next() {
                guard let id = UUID(storeKey: row["id"]) else { throw CofferStoreError.corruptDatabase(path: "") }
                // Hashed here rather than stored in every row (schema v10): only what a change
                // replaces is read, and the hash would be a tenth of the file.
                found[id] = Existing(
                    revision: row["revision"], contentHash: SealedItem.contentHash(of: row["content"] as Data),
                    changeSequence: row["changeSequence"])
            }
        }
        return found
    }

    /// Writes records and removals and updates the sealed digest. `guards` (item id → the change
    /// sequence the caller saw, `0` for "must not exist") refuse the whole change with
    /// `concurrentChange` when any item is not as the caller saw it; `contentHashes`, when given,
    /// are the upserts' hashes, in order. `eachWritten` gets the ids of each batch of records written,
    /// as the file keys them and in the order of the id index, inside the transaction. Returns the
    /// change's sequence.
    static func apply(
        _ db: Database, upserts: [SealedItem], contentHashes: [[UInt8]]? = nil, streamed: SealingPipeline? = nil,
        removals: [UUID], keyring: Keyring, guards: [UUID: Int64] = [:],
        eachWritten: ([Data]) throws -> Void = { _ in }
    ) throws -> Int64 {
        guard
            let account = try Row.fetchOne(
                db, sql: "SELECT integrityFormat, lastChangeSequence, manifestMAC FROM account WHERE id = 1")
        else { throw CofferStoreError.corruptDatabase(path: "") }
        let keys = try StoredKeys.forWriting(db, accountKeyCommitment: keyring.accountKeyCommitment)
        let upsertIDs = upserts.map(\.id) + (streamed?.records.ids ?? [])
        var current = try existing(db, Array(Set(upsertIDs).union(removals).union(guards.keys)))
        current.reserveCapacity(upsertIDs.count + removals.count)
        for (id, expected) in guards where (current[id]?.changeSequence ?? 0) != expected {
            throw CofferStoreError.concurrentChange
        }
        let previous: Int64 = account["lastChangeSequence"]
        var digest =
            (account["integrityFormat"] as Int64) == 2
            ? try keyring.openDigest(
                try SealedBox(bytes: account["manifestMAC"] as Data), purpose: .vaultDigest, position: previous)
            : try IntegrityUpgrade.run(db, keyring: keyring)
        let next = previous + 1
        // Each new record's hash (unless the caller has it) and digest element, on every core.
        let added = ParallelMap.map(Array(upserts.enumerated())) { position, record in
            let hash = contentHashes?[position] ?? record.contentHash
            return (hash, digestElement(record, hash, keyring))
        }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO item (id, revision, wrappedKey, content, changeSequence) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET revision = excluded.revision, wrappedKey = excluded.wrappedKey,
                  content = excluded.content, changeSequence = excluded.changeSequence
                """)
        func forget(_ id: UUID, _ old: Existing) {
            digest.remove(
                keyring.digestElement(
                    RecordVersion(itemID: id, revision: old.revision, isDeleted: false, contentHash: old.contentHash)))
        }
        var written: [Data] = []
        written.reserveCapacity(upsertIDs.count)
        func write(_ keyed: [Keyed]) throws {
            let first = written.count
            for (key, record, hash, element) in keyed {
                if let old = current[record.id] {
                    try SyncSchema.detachBase(db, key: key)
                    forget(record.id, old)
                }
                digest.insert(element)
                try upsert.execute(arguments: [
                    key, record.revision, keys.stored(record.wrappedKey), record.content.bytes, next,
                ])
                current[record.id] = Existing(revision: record.revision, contentHash: hash, changeSequence: next)
                written.append(key)
            }
            try eachWritten(Array(written[first...]))
        }
        // In the order of the id index, so a bulk write appends to it instead of touching its pages
        // at random (a fifth of writing 100,000 new records).
        try write(
            zip(upserts, added).sorted { $0.0.id.sortsBefore($1.0.id) }.map {
                ($0.0.id.storeKey, $0.0, $0.1.0, $0.1.1)
            })
        try streamed?.chunks(write)
        // A written id is no longer removed; most vaults have no removal on record, and then a bulk
        // write skips the statements (a twentieth of writing 100,000 new records).
        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM removedItem)") == true {
            try inBatches(written) { batch in
                try db.execute(
                    sql: "DELETE FROM removedItem WHERE id IN (\(databaseQuestionMarks(count: batch.count)))",
                    arguments: StatementArguments(Array(batch)))
            }
        }
        for id in removals {
            guard let old = current.removeValue(forKey: id) else { continue }
            let key = id.storeKey
            forget(id, old)
            try SyncSchema.detachBase(db, key: key)
            try db.execute(sql: "DELETE FROM item WHERE id = ?", arguments: [key])
            try db.execute(
                sql: """
                    INSERT INTO removedItem (id, changeSequence) VALUES (?, ?)
                    ON CONFLICT(id) DO UPDATE SET changeSequence = excluded.changeSequence
                    """,
                arguments: [key, next])
        }
        let sealed = keyring.sealDigest(digest, purpose: .vaultDigest, position: next)
        try db.execute(
            sql: """
                UPDATE account SET lastChangeSequence = ?, manifestMAC = ?, manifestCounter = manifestCounter + 1
                WHERE id = 1
                """,
            arguments: [next, sealed.bytes])
        return next
    }

    /// A record ready to write: its id as the file keys it, the record, its content hash and digest element.
    typealias Keyed = (key: Data, record: SealedItem, hash: [UInt8], element: DigestElement)

    /// The digest element of a record whose content hash is `hash`.
    static func digestElement(_ record: SealedItem, _ hash: [UInt8], _ keyring: Keyring) -> DigestElement {
        keyring.digestElement(
            RecordVersion(itemID: record.id, revision: record.revision, isDeleted: false, contentHash: hash))
    }
}

/// Seals the chunks of ``StreamedRecords`` on a thread of its own, started before the write
/// transaction, and hands them to the writer in order while it seals the next.
final class SealingPipeline: Sendable {
    let records: StreamedRecords
    private let handover: Handover
    private let ranges: [Range<Int>]

    /// Starts sealing `records`; each chunk's digest elements are made with `keyring` on the same thread.
    init(sealing records: StreamedRecords, keyring: Keyring) {
        self.records = records
        let ranges = records.ranges
        let handover = Handover()
        self.ranges = ranges
        self.handover = handover
        Thread {
            for (index, range) in ranges.enumerated() where !handover.isCancelled {
                let chunk = Result { () throws -> [RecordWrites.Keyed] in
                    let sealed = try records.seal(range)
                    // The guards and the digest were worked out for these ids: a record of another
                    // id would slip past both.
                    guard sealed.count == range.count,
                        zip(sealed, records.ids[range]).allSatisfy({ $0.record.id == $1 })
                    else { throw CofferStoreError.database("a streamed chunk held other records than its ids") }
                    return ParallelMap.map(sealed) { sealed -> RecordWrites.Keyed in
                        (
                            sealed.record.id.storeKey, sealed.record, sealed.contentHash,
                            RecordWrites.digestElement(sealed.record, sealed.contentHash, keyring)
                        )
                    }
                }
                handover.put(index, chunk)
                if case .failure = chunk { break }
            }
            handover.finish()
        }.start()
    }

    /// Hands `write` each chunk, in order, as soon as it is sealed; rethrows sealing's error.
    func chunks(_ write: ([RecordWrites.Keyed]) throws -> Void) throws {
        for index in ranges.indices { try write(try handover.take(index).get()) }
    }

    /// Stops sealing after the current chunk (when the change failed) and waits for the thread.
    func stop() {
        handover.cancel()
        handover.waitUntilFinished()
    }
}

/// Chunks passed from the sealing thread to the writer, in order; the sealer runs at most a few
/// chunks ahead, so a slow disk never has the whole change sealed and waiting in memory.
///
/// `@unchecked Sendable` is sound: every stored property is only touched while `condition` is locked.
private final class Handover: @unchecked Sendable {
    private static let lookahead = 3
    private let condition = NSCondition()
    private var chunks: [Int: Result<[RecordWrites.Keyed], any Error>] = [:]
    private var cancelled = false
    private var finished = false

    var isCancelled: Bool { condition.withLock { cancelled } }

    /// Hands over chunk `index`, first waiting while the writer has enough chunks in hand.
    func put(_ index: Int, _ chunk: Result<[RecordWrites.Keyed], any Error>) {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= Self.lookahead && !cancelled { condition.wait() }
        chunks[index] = chunk
        condition.broadcast()
    }

    /// Waits for chunk `index`; a sealer that ended without it (it failed earlier) is an error.
    func take(_ index: Int) throws -> Result<[RecordWrites.Keyed], any Error> {
        condition.lock()
        defer { condition.unlock() }
        while chunks[index] == nil && !finished { condition.wait() }
        guard let chunk = chunks.removeValue(forKey: index) else { throw CofferStoreError.database("sealing stopped") }
        condition.broadcast()
        return chunk
    }

    func cancel() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
    }

    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    func waitUntilFinished() {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
    }
}
