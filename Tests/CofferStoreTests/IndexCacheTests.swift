import CofferModel
import CofferVault
import Foundation
import GRDB
import Testing

@testable import CofferAgent
@testable import CofferStore

/// Items of every shape the index keeps apart: types, favourites, trash, tags, long and non-ASCII text.
private func sampleItems(_ count: Int, now: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> [Item] {
    let types = ItemType.allCases
    return (0..<count).map { index in
        var item = Item(type: types[index % types.count], title: "Entry \(index) Ünïcode café", now: now)
        if index % 3 == 0 { item.title = "A much longer title that does not fit in a small string \(index)" }
        item.setValue("user\(index)@example.com", of: "username")
        item.setValue("secret-\(index)", of: "password", kind: .hidden)
        item.urls = ["https://host\(index).example.org/login"]
        item.tags = index % 4 == 0 ? [] : ["Group \(index % 7)", "Shared"]
        item.isFavorite = index % 5 == 0
        item.modified = now.addingTimeInterval(Double(index))
        return item
    }
}

/// What a session shows: every listing, a search and the status, compared between sessions.
private func view(of session: VaultSession) throws -> [[ItemSummary]] {
    [
        try session.summaries(ItemFilter(scope: .all), query: nil),
        try session.summaries(ItemFilter(scope: .trash), query: nil),
        try session.summaries(ItemFilter(scope: .live, tag: "shared"), query: nil),
        try session.summaries(ItemFilter(scope: .all), query: "café 1"),
        try session.summaries(ItemFilter(scope: .live, favoritesOnly: true), query: "host"),
    ]
}

@Suite("The index cache: unlock opens only what changed, and a bad cache is only slower")
struct IndexCacheTests {
    @Test("a current cache opens nothing; after changes elsewhere only the changed records are opened")
    func opensOnlyWhatChanged() throws {
        let vault = try TemporaryVault()
        let first = try vault.session()
        _ = try first.add(contentsOf: sampleItems(300))
        let trashed = try first.resolve("Entry 7 Ünïcode café", scope: .live)
        _ = try first.trash(trashed.id)
        try first.saveIndexCache()
        let reference = try view(of: first)

        let second = try vault.session()
        #expect(second.recordsOpenedAtUnlock == 0)
        #expect(try view(of: second) == reference)
        #expect(try second.resolve("entry 8 ÜNÏCODE CAFÉ", scope: .live).title == "Entry 8 Ünïcode café")

        // Changes the cache does not know: one edited, two added, one purged.
        var edited = try second.resolve("Entry 10 Ünïcode café", scope: .live)
        edited.title = "Renamed"
        _ = try second.update(edited)
        _ = try second.add(
            contentsOf: sampleItems(2).map {
                var item = $0
                item.title += " new"
                return item
            })
        _ = try second.purge(trashed.id)

        let third = try vault.session()
        #expect(third.recordsOpenedAtUnlock == 3)
        #expect(try third.resolve("renamed", scope: .live).id == edited.id)
        #expect(throws: AgentFailure.self) { try third.resolve("Entry 10 Ünïcode café", scope: .live) }
        #expect(try third.summaries(ItemFilter(scope: .trash), query: nil).isEmpty)
        #expect(third.status(isLocked: false, pinEnabled: false).items == 301)

        // The same view as a session that opened every record.
        let withCache = try view(of: third)
        try FileManager.default.removeItem(atPath: vault.paths.vaultFile + "-index")
        let withoutCache = try vault.session()
        #expect(withoutCache.recordsOpenedAtUnlock == 301)
        #expect(try view(of: withoutCache) == withCache)
    }

    @Test("a cache that is damaged, cut short, garbage, empty or another account's is ignored")
    func badCachesAreIgnored() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        _ = try session.add(contentsOf: sampleItems(40))
        try session.saveIndexCache()
        let reference = try view(of: session)
        let cacheFile = vault.paths.vaultFile + "-index"
        let good = try Data(contentsOf: URL(fileURLWithPath: cacheFile))

        let other = try TemporaryVault()
        let otherSession = try other.session()
        _ = try otherSession.add(contentsOf: sampleItems(5))
        try otherSession.saveIndexCache()
        let foreign = try Data(contentsOf: URL(fileURLWithPath: other.paths.vaultFile + "-index"))

        var bad: [Data] = [Data(), Data("not a cache".utf8), foreign, Data(repeating: 0xFF, count: good.count)]
        for cut in stride(from: 1, to: good.count, by: max(1, good.count / 25)) { bad.append(good.prefix(cut)) }
        for position in stride(from: 0, to: good.count, by: max(1, good.count / 25)) {
            var flipped = good
            flipped[position] ^= 0x5A
            bad.append(flipped)
        }
        for cache in bad {
            try cache.write(to: URL(fileURLWithPath: cacheFile))
            let reopened = try vault.session()
            #expect(reopened.recordsOpenedAtUnlock == 40)
            #expect(try view(of: reopened) == reference)
        }
    }

    @Test("a current cache does not launder a vault file changed outside Coffer")
    func cacheDoesNotLaunderTampering() throws {
        let (vault, session, item, old) = try VaultSessionTests.editedOnce()
        try session.saveIndexCache()
        try vault.rollBack(item.id, to: old)
        #expect(throws: VaultSessionTests.integrityFailure) { try vault.session() }
    }

    @Test("the cache file is owner-only and holds no title, username or URL in clear")
    func sealedAndPrivate() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var item = Item(type: .login, title: "CANARY-TITLE-4b7e", now: Date())
        item.setValue("canary-user-91c2@example.com", of: "username")
        item.urls = ["https://canary-host-5d0a.example.org"]
        item.tags = ["canary-tag-77f3"]
        _ = try session.add(item)
        try session.saveIndexCache()
        let cacheFile = vault.paths.vaultFile + "-index"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: cacheFile))
        for canary in [
            "CANARY-TITLE-4b7e", "canary-title-4b7e", "canary-user-91c2", "canary-host-5d0a", "canary-tag-77f3",
        ] {
            #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(canary) is in the cache in clear")
        }
        let permissions = try FileManager.default.attributesOfItem(atPath: cacheFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }
}

@Suite("The search index keeps its text in one arena")
struct SearchIndexTests {
    private static func index(_ items: [Item]) -> SearchIndex {
        var index = SearchIndex()
        for item in items { index.add(SearchIndex.Indexed(item)) }
        return index
    }

    @Test("replacing and removing entries keeps summaries, titles and order right, and compacts the arena")
    func replaceRemoveCompact() throws {
        var items = sampleItems(200)
        var index = Self.index(items)
        for round in 0..<60 {
            for position in stride(from: round % 3, to: items.count, by: 3) {
                items[position].title = "Round \(round) title \(position) " + String(repeating: "x", count: 400)
                index.add(SearchIndex.Indexed(items[position]))
            }
        }
        for removed in items.suffix(50) { index.remove(removed.id) }
        items.removeLast(50)
        #expect(index.count == 150)
        for item in items {
            #expect(index.summary(item.id) == ItemSummary(item))
            #expect(index.ids(titled: item.title.uppercased()).contains(item.id))
        }
        let live = items.reduce(0) { $0 + SearchIndex.Indexed($1).entry.lengths.total }
        #expect(index.arenaByteCount <= 2 * live + (1 << 20), "replaced text is reclaimed")
        let expectedOrder = items.filter { !$0.isTrashed }.sorted { lhs, rhs in
            if lhs.isFavorite != rhs.isFavorite { return lhs.isFavorite }
            let left = Array(lhs.title.lowercased().utf8)
            let right = Array(rhs.title.lowercased().utf8)
            return left != right ? left.lexicographicallyPrecedes(right) : lhs.id.uuidString < rhs.id.uuidString
        }
        #expect(index.list(ItemFilter()) == expectedOrder.map(\.id))
    }

    @Test("items with the same title, in any case, are all found; a removed one is not")
    func sameTitles() {
        var items = sampleItems(3)
        items[0].title = "Bank"
        items[1].title = "BANK"
        items[2].title = "Bänk"
        var index = Self.index(items)
        #expect(Set(index.ids(titled: "bank")) == [items[0].id, items[1].id])
        #expect(index.ids(titled: "BÄNK") == [items[2].id])
        index.remove(items[0].id)
        #expect(index.ids(titled: "Bank") == [items[1].id])
    }

    @Test("the index reads back from its bytes exactly; any cut or damage reads as nothing, never a crash")
    func encodedRoundTrip() throws {
        let items = sampleItems(30)
        let index = Self.index(items)
        let fingerprints = Dictionary(
            uniqueKeysWithValues: items.map {
                ($0.id, ContentFingerprint(Array(repeating: UInt8($0.title.count), count: 32)))
            })
        let bytes = index.encoded(fingerprint: { fingerprints[$0] })
        let decoded = try #require(bytes.withUnsafeBytes { SearchIndex.decoded($0) })
        #expect(decoded.index.count == items.count)
        for (position, id) in decoded.index.ids.enumerated() {
            #expect(decoded.index.summary(id) == index.summary(id))
            #expect(decoded.fingerprints[position] == fingerprints[id])
        }
        for cut in 0..<bytes.count {
            #expect(bytes.prefix(cut).withUnsafeBytes { SearchIndex.decoded($0) } == nil)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = bytes
            damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            // Damage that still reads is well formed by construction: what matters is that it reads or
            // is refused without a crash, and that an entry's text stays inside the arena.
            if let read = damaged.withUnsafeBytes({ SearchIndex.decoded($0) }) {
                for id in read.index.ids { _ = read.index.summary(id) }
            }
        }
    }
}
