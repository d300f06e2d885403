import CofferAgent
import CofferModel
import CofferStore
import CofferVault
import Foundation
import GRDB
import Testing

/// A bulk change whose records are sealed while the store writes them (`StreamedRecords`): the
/// same one transaction as any change, whether it succeeds or sealing fails half-way.
@Suite("streamed commits: sealing beside writing, one transaction")
struct StreamedCommitTests {
    static func logins(_ count: Int) -> [Item] {
        (0..<count).map { index in
            var item = Item(type: .login, title: "Site \(index)", now: Date())
            item.fields = [Field(name: "password", kind: .hidden, value: "pw-\(index)")]
            return item
        }
    }

    /// A streamed change of `items` whose sealing throws at chunk `failingChunk` (never, when `nil`).
    static func change(_ items: [Item], keyring: Keyring, failingChunk: Int? = nil, chunkSize: Int = 1000)
        -> VaultChange
    {
        let streamed = StreamedRecords(ids: items.map(\.id), chunkSize: chunkSize) { range in
            if let failingChunk, range.lowerBound / chunkSize == failingChunk {
                throw CofferVaultError.corruptRecord("sealing failed on purpose")
            }
            return try items[range].map { item in
                let record = try keyring.seal(item, revision: 1)
                return (record: record, contentHash: record.contentHash)
            }
        }
        return VaultChange(guards: Dictionary(uniqueKeysWithValues: items.map { ($0.id, 0) }), streamed: streamed)
    }

    @Test("every chunk lands in one change; the file reopens, passes its digest check and holds every item")
    func allChunks() throws {
        let vault = try TemporaryVault()
        let items = Self.logins(3_500)
        let sequence = try vault.store().commit(Self.change(items, keyring: vault.keyring), keyring: vault.keyring)
        #expect(sequence == 1, "one change, not one per chunk")
        let session = try vault.session()
        #expect(
            try session.list(ItemFilter(scope: .all)).map(\.id).sorted { $0.sortsBefore($1) }
                == items.map(\.id).sorted { $0.sortsBefore($1) })
        #expect(try session.resolve("Site 3499", scope: .live).fields.first?.value == "pw-3499")
    }

    @Test("sealing that fails in any chunk writes nothing: no row, no change sequence, the file still opens")
    func failureWritesNothing() throws {
        let vault = try TemporaryVault()
        let before = try vault.session()
        _ = try before.add(Item(type: .note, title: "Already here", now: Date()))
        for failing in [0, 1, 3] {
            let items = Self.logins(3_500)
            #expect(throws: CofferStoreError.self) {
                try vault.store().commit(
                    Self.change(items, keyring: vault.keyring, failingChunk: failing), keyring: vault.keyring)
            }
            let count = try vault.rawDatabase().read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM item") }
            #expect(count == 1)
            #expect(try vault.store().changeSequence() == 1)
            #expect(try vault.session().list(ItemFilter(scope: .all)).map(\.title) == ["Already here"])
        }
    }

    @Test("a guard that fails refuses the streamed change before or while it is sealed, and nothing is written")
    func guardRefuses() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        let taken = try session.add(Item(type: .note, title: "Taken id", now: Date()))
        var items = Self.logins(2_500)
        items[1_700].id = taken.id
        #expect(throws: CofferStoreError.concurrentChange) {
            try vault.store().commit(Self.change(items, keyring: vault.keyring), keyring: vault.keyring)
        }
        #expect(try vault.session().list(ItemFilter(scope: .all)).map(\.title) == ["Taken id"])
    }

    @Test("a chunk that seals records of other ids than it announced is refused, and nothing is written")
    func recordsMustMatchTheirIDs() throws {
        let vault = try TemporaryVault()
        let existing = try vault.session().add(Item(type: .note, title: "Existing", now: Date()))
        let items = Self.logins(1_500)
        // The second chunk seals a new revision of an existing item under an announced new id.
        let streamed = StreamedRecords(ids: items.map(\.id), chunkSize: 1000) { range in
            try items[range].map { item in
                var sealedItem = item
                if item.id == items[1_200].id { sealedItem.id = existing.id }
                let record = try vault.keyring.seal(sealedItem, revision: 2)
                return (record: record, contentHash: record.contentHash)
            }
        }
        let change = VaultChange(guards: Dictionary(uniqueKeysWithValues: items.map { ($0.id, 0) }), streamed: streamed)
        #expect(throws: CofferStoreError.self) { try vault.store().commit(change, keyring: vault.keyring) }
        #expect(try vault.session().list(ItemFilter(scope: .all)).map(\.title) == ["Existing"])
    }

    @Test("a session's bulk import past the streaming threshold is one change the next session reads whole")
    func sessionImport() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        let count = 8_192 + 300
        let outcome = try session.importItems(Self.logins(count), duplicates: .keep, dryRun: false)
        #expect(outcome.addedByType.values.reduce(0, +) == count)
        #expect(try vault.store().changeSequence() == 1)
        let reopened = try vault.session()
        #expect(try reopened.summaries(ItemFilter(scope: .all), query: nil).count == count)
        #expect(try reopened.resolve("Site 8491", scope: .live).fields.first?.value == "pw-8491")
        #expect(try session.resolve("Site 17", scope: .live).fields.first?.value == "pw-17")
    }
}
