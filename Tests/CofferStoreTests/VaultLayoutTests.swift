import CofferAgent
import CofferCrypto
import CofferModel
import CofferVault
import Foundation
import GRDB
import Testing

@testable import CofferStore

/// What the vault file keeps per record (schema v10, content format 2), and that it reads back
/// exactly what was written.
@Suite("Vault file layout")
struct VaultLayoutTests {
    static func logins(_ count: Int) -> [Item] {
        (0..<count).map { index in
            var item = Item(type: .login, title: "Site \(index)", now: Date(timeIntervalSince1970: 1_764_000_000))
            item.setValue("user\(index)@example.com", of: "username")
            item.setValue("pw-\(index)-Xy!", of: "password")
            item.urls = ["https://site\(index).example.com/login"]
            return item
        }
    }

    /// A new vault writing `format`, holding `items`; the bytes of its records' content.
    static func vault(writing format: ItemContentFormat, _ items: [Item]) throws -> (VaultSession, Int) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-layout-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let created = try AccountHeader.create(password: "layout-password", parameters: .minimum)
        let keyring = Keyring(accountID: created.header.accountID, epoch: 1, accountKey: created.accountKey)
        let path = directory.appendingPathComponent("vault.sqlite").path
        let store = try VaultStore.create(at: path, header: created.header, keyring: keyring, writing: format)
        #expect(try store.contentFormat() == format)
        let session = try VaultSession(store: store, keyring: keyring)
        _ = try session.add(contentsOf: items)
        let bytes = try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT sum(length(content)) FROM item") ?? 0
        }
        return (session, bytes)
    }

    @Test(
        "a vault writing content format 2 stores logins in under half the bytes of one writing JSON, and reads the same items"
    )
    func compactVault() throws {
        let items = Self.logins(200)
        let (compact, compactBytes) = try Self.vault(writing: .compact, items)
        let (json, jsonBytes) = try Self.vault(writing: .json, items)
        #expect(compactBytes * 2 < jsonBytes, "\(compactBytes) bytes against \(jsonBytes)")
        for session in [compact, json] {
            let read = try session.list(ItemFilter(scope: .all)).sorted { $0.title < $1.title }
            #expect(read.count == 200)
            #expect(try session.resolve("Site 42", scope: .live).value(of: "password") == "pw-42-Xy!")
        }
    }

    @Test("every record's wrapped key is kept without the account key's commitment and read back whole")
    func keysKeptOnce() throws {
        let (session, _) = try Self.vault(writing: .compact, Self.logins(20))
        let stored = try DatabaseQueue(path: session.store.path).read { db in
            try Data.fetchAll(db, sql: "SELECT wrappedKey FROM item")
        }
        #expect(stored.allSatisfy { $0.first == StoredKeys.detachedMarker && $0.count == 61 })
        let records = try session.store.allRecords()
        #expect(records.allSatisfy { $0.wrappedKey.bytes.count == 93 })
        #expect(Set(records.map { $0.wrappedKey.commitment }) == [Data(session.keyring.accountKeyCommitment)])
    }

    @Test("a wrapped key under another commitment, or bytes that are no key, are kept exactly as they came")
    func foreignKeys() throws {
        let mine = CommittedKey(AccountKey.random())
        let theirs = CommittedKey(AccountKey.random())
        let context = SealContext(purpose: .itemKey, accountID: UUID(), epoch: 1, itemID: UUID())
        let keys = StoredKeys(commitment: Data(mine.commitment))
        let own = ItemKey.random().wrapped(by: mine, context: context)
        let foreign = ItemKey.random().wrapped(by: theirs, context: context)
        #expect(keys.stored(own).count == own.bytes.count - 32)
        #expect(keys.box(keys.stored(own)) == own)
        #expect(keys.stored(foreign) == foreign.bytes)
        #expect(keys.box(keys.stored(foreign)) == foreign)
        #expect(StoredKeys(commitment: nil).box(keys.stored(own)) == nil, "a detached key with no commitment on file")
        #expect(keys.box(Data([StoredKeys.detachedMarker, 1, 2])) == nil)
        #expect(keys.box(Data([7, 7, 7])) == nil)
    }

    @Test("an open that finds most of the file free compacts it, and the vault still opens")
    func compactsFreePages() throws {
        let (session, _) = try Self.vault(writing: .compact, Self.logins(50))
        let path = session.store.path
        let database = try DatabaseQueue(path: path)
        try database.write { db in
            try db.execute(sql: "CREATE TABLE junk (filler BLOB)")
            for _ in 0..<64 { try db.execute(sql: "INSERT INTO junk VALUES (zeroblob(65536))") }
        }
        try database.write { db in try db.execute(sql: "DROP TABLE junk") }
        try database.close()
        func size() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 }
        let before = try size()
        #expect(before > 4 << 20)
        let reopened = try VaultSession(store: VaultStore.open(at: path), keyring: session.keyring)
        let after = try size()
        #expect(after < before / 4, "\(before) bytes before, \(after) after")
        #expect(try reopened.list(ItemFilter(scope: .all)).count == 50)
    }

    @Test(
        "only a vault no server has seen counts as never synced: a sign-in, a pinned server or a synced record say otherwise"
    )
    func neverSynced() throws {
        let (session, _) = try Self.vault(writing: .json, Self.logins(3))
        let store = session.store
        #expect(try store.neverSynced())
        let database = try DatabaseQueue(path: store.path)
        let traces = [
            "INSERT INTO kdfPin VALUES ('https://sync.example', 'a@example.org', 65536, 3, 4)",
            "INSERT INTO serverWatermark VALUES ('https://sync.example', 'x', 1, 1, x'00')",
            "UPDATE itemSync SET syncedRevision = 1 WHERE id = (SELECT min(id) FROM itemSync)",
        ]
        for trace in traces {
            try database.write { db in try db.execute(sql: trace) }
            #expect(try !store.neverSynced(), "\(trace)")
            try database.write { db in
                try db.execute(sql: "DELETE FROM kdfPin")
                try db.execute(sql: "DELETE FROM serverWatermark")
                try db.execute(sql: "UPDATE itemSync SET syncedRevision = 0")
            }
            #expect(try store.neverSynced())
        }
    }

    @Test(
        "moving a JSON vault's items to format 2 keeps every value and date, one new revision each, in a third of the bytes"
    )
    func moveItems() throws {
        let items = Self.logins(300)
        let (session, jsonBytes) = try Self.vault(writing: .json, items)
        let before = try session.list(ItemFilter(scope: .all)).sorted { $0.id.sortsBefore($1.id) }
        let revisions = Dictionary(uniqueKeysWithValues: try session.store.allRecords().map { ($0.id, $0.revision) })
        try session.moveItems(to: .compact, chunk: 64)
        #expect(try session.store.contentFormat() == .compact)
        let records = try session.store.allRecords()
        #expect(records.allSatisfy { revisions[$0.id].map { old in old + 1 } == $0.revision })
        let compactBytes = records.reduce(0) { $0 + $1.content.bytes.count }
        #expect(compactBytes * 2 < jsonBytes, "\(compactBytes) bytes against \(jsonBytes)")
        let reopened = try VaultSession(store: VaultStore.open(at: session.store.path), keyring: session.keyring)
        #expect(try reopened.list(ItemFilter(scope: .all)).sorted { $0.id.sortsBefore($1.id) } == before)
    }

    @Test("an item larger than the size limit, kept from before the limit existed, moves too")
    func oversizedItemMoves() throws {
        let (session, _) = try Self.vault(writing: .json, Self.logins(3))
        var large = Item(type: .note, title: "From before the limit", now: Date(timeIntervalSince1970: 1_600_000_000))
        large.notes = String(repeating: "x", count: Item.sizeLimit + 1)
        #expect(!large.fitsSizeLimit)
        _ = try session.store.commit(
            VaultChange(upserts: [try session.keyring.seal(large, revision: 1)], guards: [large.id: 0]),
            keyring: session.keyring)
        let reopened = try VaultSession(store: VaultStore.open(at: session.store.path), keyring: session.keyring)
        try reopened.moveItems(to: .compact)
        #expect(try reopened.store.contentFormat() == .compact)
        #expect(try reopened.resolve("From before the limit", scope: .live).notes.count == Item.sizeLimit + 1)
    }
}
