import CofferModel
import CofferVault
import Foundation

/// The opened vault's listing and search index: one compact entry per item in an array, so a
/// search over 100,000 items touches contiguous memory and compares integers when sorting.
///
/// Each entry holds the item's summary, which is all that listing, searching and naming need: the
/// session keeps no whole item in memory and opens one from the vault file when a command asks.
struct SearchIndex {
    struct Entry: Sendable {
        let summary: ItemSummary
        let haystack: FuzzyMatcher.Haystack

        var id: UUID { summary.id }

        init(_ item: Item) {
            summary = ItemSummary(item)
            haystack = FuzzyMatcher.Haystack(item)
        }

        func passes(_ filter: ItemFilter, tag: String?) -> Bool {
            switch filter.scope {
            case .live: if summary.isTrashed { return false }
            case .trash: if !summary.isTrashed { return false }
            case .all: break
            }
            if let type = filter.type, type != summary.type { return false }
            if filter.favoritesOnly && !summary.isFavorite { return false }
            if let tag, !summary.tags.contains(where: { $0.lowercased() == tag }) { return false }
            return true
        }
    }

    private var entries: [Entry] = []
    private var positions: [UUID: Int] = [:]
    /// Ids by lowercased title, so naming an item costs one lookup whatever the vault's size.
    private var byTitle: [String: [UUID]] = [:]
    /// Each entry's place in display order; rebuilt lazily after changes.
    private var ranks: [Int] = []
    private var ranksAreStale = true

    init(_ items: some Sequence<Item>) {
        for item in items { update(item) }
    }

    /// The index of these entries (made on every core by the caller).
    init(entries: [Entry]) {
        for entry in entries { insert(entry) }
    }

    mutating func update(_ item: Item) { insert(Entry(item)) }

    private mutating func insert(_ entry: Entry) {
        if let position = positions[entry.id] {
            forgetTitle(of: entries[position])
            entries[position] = entry
        } else {
            positions[entry.id] = entries.count
            entries.append(entry)
        }
        byTitle[entry.haystack.sortKey.title, default: []].append(entry.id)
        ranksAreStale = true
    }

    mutating func remove(_ id: UUID) {
        guard let position = positions.removeValue(forKey: id) else { return }
        forgetTitle(of: entries[position])
        let last = entries.count - 1
        if position != last {
            entries[position] = entries[last]
            positions[entries[position].id] = position
        }
        entries.removeLast()
        ranksAreStale = true
    }

    /// Ids passing `filter`, in display order (favourites first, then by title).
    mutating func list(_ filter: ItemFilter) -> [UUID] {
        refreshRanks()
        let tag = filter.tag?.lowercased()
        var matches: [(rank: Int, id: UUID)] = []
        for (position, entry) in entries.enumerated() where entry.passes(filter, tag: tag) {
            matches.append((ranks[position], entry.id))
        }
        return matches.sorted { $0.rank < $1.rank }.map(\.id)
    }

    /// Ids matching `matcher` and passing `filter`, best first.
    mutating func search(_ matcher: FuzzyMatcher, filter: ItemFilter) -> [UUID] {
        refreshRanks()
        let tag = filter.tag?.lowercased()
        var matches: [(score: Int, rank: Int, id: UUID)] = []
        for (position, entry) in entries.enumerated() where entry.passes(filter, tag: tag) {
            guard let score = matcher.score(entry.haystack) else { continue }
            matches.append((score, ranks[position], entry.id))
        }
        return matches.sorted { $0.score != $1.score ? $0.score > $1.score : $0.rank < $1.rank }.map(\.id)
    }

    /// Ids of the items titled `title`, ignoring case (trash included).
    func ids(titled title: String) -> [UUID] {
        byTitle[title.lowercased()] ?? []
    }

    /// Ids starting with `prefix` (hexadecimal digits and dashes, either case).
    func ids(withPrefix prefix: String) -> [UUID] {
        // `uuidString` is upper case: fold the query once, not every id.
        let upper = prefix.uppercased()
        return entries.filter { $0.id.uuidString.hasPrefix(upper) }.map(\.id)
    }

    /// Every item's summary, in no particular order.
    var summaries: some Collection<ItemSummary> { entries.lazy.map(\.summary) }

    /// The summary of item `id`, if the vault holds it.
    func summary(_ id: UUID) -> ItemSummary? { positions[id].map { entries[$0].summary } }

    /// How many items the vault holds, trash included.
    var count: Int { entries.count }

    private mutating func forgetTitle(of entry: Entry) {
        let title = entry.haystack.sortKey.title
        byTitle[title]?.removeAll { $0 == entry.id }
        if byTitle[title]?.isEmpty == true { byTitle[title] = nil }
    }

    /// The display-order key of an item in the index.
    func sortKey(_ id: UUID) -> FuzzyMatcher.SortKey? {
        positions[id].map { entries[$0].haystack.sortKey }
    }

    private mutating func refreshRanks() {
        guard ranksAreStale else { return }
        let order = entries.indices.sorted { entries[$0].haystack.sortKey < entries[$1].haystack.sortKey }
        ranks = [Int](repeating: 0, count: entries.count)
        for (rank, position) in order.enumerated() { ranks[position] = rank }
        ranksAreStale = false
    }
}
