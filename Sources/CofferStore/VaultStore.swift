import CofferCrypto
public import CofferVault
public import Foundation
import GRDB

/// The device's vault file: one SQLite database holding only sealed records and wrapped keys.
///
/// Every change is one transaction guarded by the manifest counter (compare-and-swap), so a killed
/// process leaves either the previous or the next state, and two processes cannot overwrite each other.
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

    /// Creates a vault file holding `header`, the empty manifest signed by `keyring`, and nothing else.
    public static func create(at path: String, header: AccountHeader, keyring: Keyring) throws(CofferStoreError)
        -> VaultStore
    {
        guard !FileManager.default.fileExists(atPath: path) else { throw .vaultExists(path: path) }
        let store = try VaultStore(path: path)
        try store.migrate()
        let emptyMAC = keyring.authenticate(Manifest(counter: 0, entries: []))
        try store.write { db in
            try AccountRow(header: header, manifestCounter: 0, manifestMAC: emptyMAC).insert(db)
        }
        return store
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

    private func migrate() throws(CofferStoreError) {
        do {
            try Schema.migrator.migrate(database)
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

    /// The stored manifest counter and MAC.
    public func manifestState() throws(CofferStoreError) -> ManifestState {
        let row = try accountRow()
        return ManifestState(counter: UInt64(row.manifestCounter), mac: Array(row.manifestMAC))
    }

    /// Every record, for loading the vault.
    public func allRecords() throws(CofferStoreError) -> [SealedItem] {
        try read { db in try ItemRow.fetchAll(db).map { row throws(CofferStoreError) in try row.sealedItem() } }
    }

    /// Applies a change in one transaction, only if the manifest counter is still `expectedCounter`.
    public func commit(_ change: VaultChange, expectedCounter: UInt64) throws(CofferStoreError) {
        try write { db in
            guard let account = try AccountRow.fetchOne(db), UInt64(account.manifestCounter) == expectedCounter else {
                throw CofferStoreError.concurrentChange
            }
            // One prepared statement each, reused for every record: a 100,000-item import or restore
            // is dominated by these two statements.
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO item (id, revision, wrappedKey, content) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET revision = excluded.revision, wrappedKey = excluded.wrappedKey,
                      content = excluded.content
                    """)
            for record in change.upserts {
                try upsert.execute(arguments: [
                    record.id.uuidString.lowercased(), record.revision, record.wrappedKey.bytes, record.content.bytes,
                ])
                try SyncSchema.markDirty(db, id: record.id)
            }
            for id in change.deletions {
                _ = try ItemRow.deleteOne(db, key: id.uuidString.lowercased())
                try SyncSchema.markPurged(db, id: id)
            }
            try db.execute(
                sql: "UPDATE account SET manifestCounter = ?, manifestMAC = ? WHERE id = 1",
                arguments: [Int64(change.manifest.counter), Data(change.manifest.mac)])
        }
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
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_MISMATCH: return .corruptDatabase(path: path)
            default: return .database(error.message ?? "SQLite error \(error.resultCode.rawValue)")
            }
        }
        if error is RowDecodingError { return .corruptDatabase(path: path) }
        return .database(String(describing: type(of: error)))
    }
}

/// The manifest counter and MAC as stored.
public struct ManifestState: Sendable, Equatable {
    /// The counter.
    public var counter: UInt64
    /// HMAC-SHA256 over the manifest.
    public var mac: [UInt8]

    /// Creates a state.
    public init(counter: UInt64, mac: [UInt8]) {
        self.counter = counter
        self.mac = mac
    }
}

/// One atomic change: records written, records removed, and the manifest that results.
public struct VaultChange: Sendable {
    /// Records inserted or replaced.
    public var upserts: [SealedItem]
    /// Records purged.
    public var deletions: [UUID]
    /// The manifest after the change.
    public var manifest: ManifestState

    /// Creates a change.
    public init(upserts: [SealedItem] = [], deletions: [UUID] = [], manifest: ManifestState) {
        self.upserts = upserts
        self.deletions = deletions
        self.manifest = manifest
    }
}
