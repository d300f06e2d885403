import CofferModel
import Foundation

/// The opened vault's listing and search index: one fixed-size entry per item in an array, and the
/// text of every entry in one shared byte arena.
///
/// Each entry holds what listing, searching and naming need (the item's summary and its folded
/// search text) and nothing secret: the session keeps no whole item in memory and opens one from
/// the vault file when a command asks. Keeping the text in one arena instead of a few strings and
/// arrays per item makes 100,000 items cost a few allocations instead of half a million: the index
/// is a quarter of the memory, copying an entry retains nothing, and the index cache reads back as
/// one block (``encoded(fingerprint:)``).
struct SearchIndex {
    /// The searchable, non-secret parts of one item with its text laid out as the arena keeps it;
    /// made from an item on any thread, then added to an index.
    struct Indexed: Sendable {
        /// The entry, its text not yet placed.
        let entry: Entry
        let text: [UInt8]
        /// The hash naming looks the title up by, made here so that adding many items, which
        /// happens on one thread, does not hash them there.
        let titleHash: Int

        init(_ item: Item) {
            let title = Array(item.title.utf8)
            let subtitle = Array(item.subtitle.utf8)
            let foldedTitle = FuzzyMatcher.fold(item.title)
            let searchText = FuzzyMatcher.fold(([item.subtitle] + item.urls + item.tags).joined(separator: " "))
            var tags: [UInt8] = []
            for tag in item.tags { ByteCursor.append(Array(tag.utf8), to: &tags) }
            entry = Entry(
                id: item.id, type: item.type, isFavorite: item.isFavorite, isTrashed: item.isTrashed,
                modified: item.modified,
                lengths: TextLengths(
                    title: title.count, subtitle: subtitle.count, foldedTitle: foldedTitle.count,
                    searchText: searchText.count, tags: tags.count),
                start: 0)
            text = title + subtitle + foldedTitle + searchText + tags
            titleHash = foldedTitle.withUnsafeBufferPointer(SearchIndex.titleHash)
        }
    }

    /// The lengths of an entry's text, which sits in the arena as title, subtitle, folded title,
    /// folded search text (subtitle, URLs and tags) and tags (each length-prefixed), one after another.
    struct TextLengths: Sendable {
        let title: Int
        let subtitle: Int
        let foldedTitle: Int
        let searchText: Int
        let tags: Int

        var total: Int { title + subtitle + foldedTitle + searchText + tags }
    }

    /// One item: fixed-size fields, and where its text starts in the arena.
    struct Entry: Sendable {
        let id: UUID
        let type: ItemType
        let isFavorite: Bool
        let isTrashed: Bool
        let modified: Date
        let lengths: TextLengths
        var start: Int
    }

    /// An entry's text, read in place.
    private struct Text {
        let bytes: UnsafeBufferPointer<UInt8>
        let lengths: TextLengths
        let start: Int

        private func part(_ offset: Int, _ length: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[(start + offset)..<(start + offset + length)])
        }

        var title: UnsafeBufferPointer<UInt8> { part(0, lengths.title) }
        var subtitle: UnsafeBufferPointer<UInt8> { part(lengths.title, lengths.subtitle) }
        var foldedTitle: UnsafeBufferPointer<UInt8> {
            part(lengths.title + lengths.subtitle, lengths.foldedTitle)
        }
        var searchText: UnsafeBufferPointer<UInt8> {
            part(lengths.title + lengths.subtitle + lengths.foldedTitle, lengths.searchText)
        }
        var tags: [String] {
            var cursor = ByteCursor(UnsafeRawBufferPointer(part(lengths.total - lengths.tags, lengths.tags)))
            var tags: [String] = []
            while !cursor.isAtEnd, let tag = cursor.text() { tags.append(String(decoding: tag, as: UTF8.self)) }
            return tags
        }
    }

    /// Items whose folded titles hash alike; nearly always one, which needs no array.
    private enum TitleMatches {
        case one(UUID)
        case several([UUID])

        var ids: [UUID] {
            switch self {
            case .one(let id): [id]
            case .several(let ids): ids
            }
        }
    }

    private var arena: [UInt8] = []
    /// Bytes of the arena no entry refers to any more (replaced or removed text).
    private var garbage = 0
    private var entries: [Entry] = []
    private var positions: [UUID: Int] = [:]
    /// Ids by the hash of their folded title, so naming an item costs one lookup whatever the
    /// vault's size (the titles themselves are compared in the arena).
    private var byTitle: [Int: TitleMatches] = [:]
    /// Each entry's place in display order; rebuilt lazily after changes.
    private var ranks: [Int] = []
    private var ranksAreStale = true

    /// An empty index.
    init() {}

    /// Makes room for `count` more entries, before adding many.
    mutating func reserveCapacity(forAdding count: Int) {
        entries.reserveCapacity(entries.count + count)
        positions.reserveCapacity(positions.count + count)
        byTitle.reserveCapacity(byTitle.count + count)
    }

    /// Adds an item, or replaces the entry of an item already here (which keeps its position).
    /// Returns the entry's position.
    @discardableResult
    mutating func add(_ item: Indexed) -> Int {
        var entry = item.entry
        entry.start = arena.count
        arena += item.text
        let position: Int
        if let existing = positions[entry.id] {
            forget(entries[existing])
            entries[existing] = entry
            position = existing
        } else {
            position = entries.count
            positions[entry.id] = position
            entries.append(entry)
        }
        rememberTitle(entry.id, hash: item.titleHash)
        ranksAreStale = true
        return position
    }

    mutating func remove(_ id: UUID) {
        guard let position = positions.removeValue(forKey: id) else { return }
        forget(entries[position])
        let last = entries.count - 1
        if position != last {
            entries[position] = entries[last]
            positions[entries[position].id] = position
        }
        entries.removeLast()
        ranksAreStale = true
        compactIfWasteful()
    }

    /// The position of item `id`'s entry; positions change only when an entry is removed.
    func position(of id: UUID) -> Int? { positions[id] }

    /// Every item's id, by position.
    var ids: [UUID] { entries.map(\.id) }

    /// How many items the vault holds, trash included.
    var count: Int { entries.count }

    /// The arena's size, garbage included: bounded by twice the live text (and a mebibyte).
    var arenaByteCount: Int { arena.count }

    /// Ids passing `filter`, in display order (favourites first, then by title).
    mutating func list(_ filter: ItemFilter) -> [UUID] {
        refreshRanks()
        let tag = filter.tag?.lowercased()
        return arena.withUnsafeBufferPointer { bytes in
            var matches: [(rank: Int, id: UUID)] = []
            for (position, entry) in entries.enumerated() where passes(entry, filter, tag: tag, in: bytes) {
                matches.append((ranks[position], entry.id))
            }
            return matches.sorted { $0.rank < $1.rank }.map(\.id)
        }
    }

    /// Ids matching `matcher` and passing `filter`, best first.
    mutating func search(_ matcher: FuzzyMatcher, filter: ItemFilter) -> [UUID] {
        refreshRanks()
        let tag = filter.tag?.lowercased()
        return arena.withUnsafeBufferPointer { bytes in
            var matches: [(score: Int, rank: Int, id: UUID)] = []
            for (position, entry) in entries.enumerated() where passes(entry, filter, tag: tag, in: bytes) {
                let text = Text(bytes: bytes, lengths: entry.lengths, start: entry.start)
                guard let score = matcher.score(title: text.foldedTitle, other: text.searchText) else { continue }
                matches.append((score, ranks[position], entry.id))
            }
            return matches.sorted { $0.score != $1.score ? $0.score > $1.score : $0.rank < $1.rank }.map(\.id)
        }
    }

    /// Ids of the items titled `title`, ignoring case (trash included).
    func ids(titled title: String) -> [UUID] {
        let folded = FuzzyMatcher.fold(title)
        guard let matches = byTitle[folded.withUnsafeBufferPointer(Self.titleHash)] else { return [] }
        return arena.withUnsafeBufferPointer { bytes in
            matches.ids.filter { id in
                guard let position = positions[id] else { return false }
                let entry = entries[position]
                return Text(bytes: bytes, lengths: entry.lengths, start: entry.start).foldedTitle.elementsEqual(folded)
            }
        }
    }

    /// Ids starting with `prefix` (hexadecimal digits and dashes, either case).
    func ids(withPrefix prefix: String) -> [UUID] {
        // `uuidString` is upper case: fold the query once, not every id.
        let upper = prefix.uppercased()
        return entries.filter { $0.id.uuidString.hasPrefix(upper) }.map(\.id)
    }

    /// Every item's id, type and place (vault or trash), in no particular order: what counting and
    /// restoring need, without making a summary of each.
    var kinds: some Collection<(id: UUID, type: ItemType, isTrashed: Bool)> {
        entries.lazy.map { ($0.id, $0.type, $0.isTrashed) }
    }

    /// The summary of item `id`, if the vault holds it.
    func summary(_ id: UUID) -> ItemSummary? {
        guard let position = positions[id] else { return nil }
        return arena.withUnsafeBufferPointer { summary(entries[position], in: $0) }
    }

    /// Whether item `lhs` comes before item `rhs` in display order (both must be here).
    func precedes(_ lhs: UUID, _ rhs: UUID) -> Bool {
        guard let left = positions[lhs], let right = positions[rhs] else { return false }
        return arena.withUnsafeBufferPointer { inDisplayOrder(entries[left], entries[right], in: $0) }
    }

    private func summary(_ entry: Entry, in bytes: UnsafeBufferPointer<UInt8>) -> ItemSummary {
        let text = Text(bytes: bytes, lengths: entry.lengths, start: entry.start)
        return ItemSummary(
            id: entry.id, title: String(decoding: text.title, as: UTF8.self), type: entry.type,
            subtitle: String(decoding: text.subtitle, as: UTF8.self), tags: entry.lengths.tags == 0 ? [] : text.tags,
            isFavorite: entry.isFavorite, isTrashed: entry.isTrashed, modified: entry.modified)
    }

    private func passes(_ entry: Entry, _ filter: ItemFilter, tag: String?, in bytes: UnsafeBufferPointer<UInt8>)
        -> Bool
    {
        switch filter.scope {
        case .live: if entry.isTrashed { return false }
        case .trash: if !entry.isTrashed { return false }
        case .all: break
        }
        if let type = filter.type, type != entry.type { return false }
        if filter.favoritesOnly && !entry.isFavorite { return false }
        if let tag {
            let tags = Text(bytes: bytes, lengths: entry.lengths, start: entry.start).tags
            if !tags.contains(where: { $0.lowercased() == tag }) { return false }
        }
        return true
    }

    /// Favourites first, then by folded title, then by id (byte by byte, which orders ids as their
    /// text does): integers and bytes in place, cheap when sorting 100,000 items.
    private func inDisplayOrder(_ lhs: Entry, _ rhs: Entry, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if lhs.isFavorite != rhs.isFavorite { return lhs.isFavorite }
        let left = Text(bytes: bytes, lengths: lhs.lengths, start: lhs.start).foldedTitle
        let right = Text(bytes: bytes, lengths: rhs.lengths, start: rhs.start).foldedTitle
        if !left.elementsEqual(right) { return left.lexicographicallyPrecedes(right) }
        return withUnsafeBytes(of: lhs.id.uuid) { left in
            withUnsafeBytes(of: rhs.id.uuid) { right in left.lexicographicallyPrecedes(right) }
        }
    }

    private mutating func refreshRanks() {
        guard ranksAreStale else { return }
        let order = arena.withUnsafeBufferPointer { bytes in
            entries.indices.sorted { inDisplayOrder(entries[$0], entries[$1], in: bytes) }
        }
        ranks = [Int](repeating: 0, count: entries.count)
        for (rank, position) in order.enumerated() { ranks[position] = rank }
        ranksAreStale = false
    }

    fileprivate static func titleHash(_ folded: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(folded))
        return hasher.finalize()
    }

    private func titleHash(of entry: Entry) -> Int {
        arena.withUnsafeBufferPointer {
            Self.titleHash(Text(bytes: $0, lengths: entry.lengths, start: entry.start).foldedTitle)
        }
    }

    private mutating func rememberTitle(of entry: Entry) {
        rememberTitle(entry.id, hash: titleHash(of: entry))
    }

    private mutating func rememberTitle(_ id: UUID, hash: Int) {
        switch byTitle[hash] {
        case nil: byTitle[hash] = .one(id)
        case .one(let other): byTitle[hash] = .several([other, id])
        case .several(let others): byTitle[hash] = .several(others + [id])
        }
    }

    /// Drops what the index remembers of `entry` besides the entry itself: its title, its text.
    private mutating func forget(_ entry: Entry) {
        let hash = titleHash(of: entry)
        let remaining = byTitle[hash]?.ids.filter { $0 != entry.id } ?? []
        byTitle[hash] = remaining.isEmpty ? nil : remaining.count == 1 ? .one(remaining[0]) : .several(remaining)
        garbage += entry.lengths.total
    }

    /// Copies the live text into a new arena once more than half the arena is garbage.
    private mutating func compactIfWasteful() {
        guard garbage > 1 << 20, garbage * 2 > arena.count else { return }
        var compacted: [UInt8] = []
        compacted.reserveCapacity(arena.count - garbage)
        for position in entries.indices {
            let entry = entries[position]
            compacted += arena[entry.start..<(entry.start + entry.lengths.total)]
            entries[position].start = compacted.count - entry.lengths.total
        }
        arena = compacted
        garbage = 0
    }
}

// MARK: - As bytes, for the index cache

extension SearchIndex {
    /// The index as bytes: the entry count, then each entry (id, the fingerprint of the record it
    /// was made from, modification date, text lengths, flags, type), then the entries' text in their
    /// order. Entries `fingerprint` has nothing for are left out.
    func encoded(fingerprint: (UUID) -> ContentFingerprint?) -> [UInt8] {
        var written: [(Entry, ContentFingerprint)] = []
        written.reserveCapacity(entries.count)
        for entry in entries {
            if let fingerprint = fingerprint(entry.id) { written.append((entry, fingerprint)) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(written.count * 100 + arena.count - garbage)
        ByteCursor.append(written.count, to: &bytes)
        for (entry, fingerprint) in written {
            withUnsafeBytes(of: entry.id.uuid) { bytes += $0 }
            bytes += fingerprint.bytes
            ByteCursor.append(UInt64(entry.modified.timeIntervalSinceReferenceDate.bitPattern), to: &bytes)
            let lengths = entry.lengths
            for length in [lengths.title, lengths.subtitle, lengths.foldedTitle, lengths.searchText, lengths.tags] {
                ByteCursor.append(length, to: &bytes)
            }
            bytes.append((entry.isFavorite ? 1 : 0) | (entry.isTrashed ? 2 : 0))
            ByteCursor.append(Array(entry.type.rawValue.utf8), to: &bytes)
        }
        for (entry, _) in written { bytes += arena[entry.start..<(entry.start + entry.lengths.total)] }
        return bytes
    }

    /// The index `encoded(fingerprint:)` wrote, with each entry's fingerprint by position; `nil`
    /// unless every part reads exactly (lengths that add up, known types, no id twice).
    static func decoded(_ bytes: UnsafeRawBufferPointer) -> (index: SearchIndex, fingerprints: [ContentFingerprint])? {
        var cursor = ByteCursor(bytes)
        // Every entry takes more than 64 bytes, which bounds the count before any allocation.
        guard let count = cursor.integer(), count <= bytes.count / 64 else { return nil }
        var index = SearchIndex()
        var fingerprints: [ContentFingerprint] = []
        index.entries.reserveCapacity(count)
        index.positions.reserveCapacity(count)
        fingerprints.reserveCapacity(count)
        var start = 0
        for position in 0..<count {
            guard
                let id = cursor.bytes(16).map({ UUID(uuid: UnsafeRawBufferPointer($0).loadUnaligned(as: uuid_t.self)) }
                ),
                let hash = cursor.bytes(ContentFingerprint.byteCount), let modified = cursor.word(),
                let title = cursor.integer(), let subtitle = cursor.integer(), let foldedTitle = cursor.integer(),
                let searchText = cursor.integer(), let tags = cursor.integer(), let flags = cursor.bytes(1)?.first,
                let typeName = cursor.text(), let type = ItemType(rawValue: String(decoding: typeName, as: UTF8.self)),
                index.positions.updateValue(position, forKey: id) == nil
            else { return nil }
            let lengths = TextLengths(
                title: title, subtitle: subtitle, foldedTitle: foldedTitle, searchText: searchText, tags: tags)
            index.entries.append(
                Entry(
                    id: id, type: type, isFavorite: flags & 1 != 0, isTrashed: flags & 2 != 0,
                    modified: Date(timeIntervalSinceReferenceDate: Double(bitPattern: modified)), lengths: lengths,
                    start: start))
            fingerprints.append(ContentFingerprint(Array(hash)))
            start += lengths.total
        }
        guard let text = cursor.bytes(start), cursor.isAtEnd else { return nil }
        index.arena = Array(text)
        for entry in index.entries { index.rememberTitle(of: entry) }
        return (index, fingerprints)
    }
}

/// Reads big-endian integers and length-prefixed byte strings from a buffer, refusing any length
/// past the end instead of reading it.
struct ByteCursor {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// A 4-byte length or count.
    mutating func integer() -> Int? { bytes(4).map { $0.reduce(0) { $0 << 8 | Int($1) } } }

    mutating func word() -> UInt64? { bytes(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }

    /// A byte string after its 4-byte length.
    mutating func text() -> UnsafeRawBufferPointer? {
        guard let length = integer() else { return nil }
        return bytes(length)
    }

    static func append(_ value: Int, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian) { bytes += $0 }
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    static func append(_ text: [UInt8], to bytes: inout [UInt8]) {
        append(text.count, to: &bytes)
        bytes += text
    }
}
