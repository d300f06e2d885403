import CofferCrypto
public import CofferModel
public import CofferStore
public import CofferVault
public import Foundation

/// An unlocked vault: the store, the keyring and an index of every item's summary.
///
/// Used by the agent (which keeps one alive between commands) and by a single command when no agent
/// runs. Unlocking reads every record to check the file, and indexes from the index cache what it
/// can, opening only the records the cache does not describe; after that a whole item is opened
/// from the file only when a command needs it, so a vault of 100,000 items does not sit decoded in
/// the agent's memory. Every change goes through `commit`, which writes the
/// records and the new manifest in one transaction. Not thread-safe: each owner drives it from one
/// thread.
public final class VaultSession {
    /// The vault file.
    public let store: VaultStore
    /// The unlocked keys, sealing in the vault's content format.
    public private(set) var keyring: Keyring
    private let now: @Sendable () -> Date
    /// What this session knows of each stored record: its revision, a fingerprint of its sealed
    /// content (so what is read later is what was checked) and its change sequence as this session
    /// last saw it (the guard of every commit).
    private var heads: [UUID: RecordHead] = [:]
    private var index = SearchIndex()
    /// The file's change sequence this session is up to date with.
    private var changeSequence: Int64 = 0 {
        didSet { if changeSequence != oldValue { indexCacheIsCurrent = false } }
    }
    private let indexCache: IndexCache
    /// Whether the index cache on disk describes every record as this session knows it.
    private var indexCacheIsCurrent = false
    /// Whether items changed since the last backup this session made (automatic backups coalesce on it).
    public var changesSinceBackup = false

    /// Opens the vault: reads every record, checking the whole file against its sealed digest, and
    /// indexes each one, from the index cache when it holds the summary of exactly that record and
    /// by opening the record otherwise.
    public init(store: VaultStore, keyring: Keyring, now: @escaping @Sendable () -> Date = Date.init) throws {
        self.store = store
        self.keyring = try store.sealing(with: keyring)
        self.now = now
        indexCache = IndexCache(vaultFile: store.path)
        var (index, cachedFingerprints) = indexCache.load(keyring: keyring) ?? (SearchIndex(), [])
        // Cached entries whose record is still in the file exactly as the entry was made from it.
        var current = [Bool](repeating: false, count: cachedFingerprints.count)
        var opened = 0
        heads.reserveCapacity(cachedFingerprints.count)
        // Read and checked a chunk at a time; records the cache does not describe are opened and
        // indexed on every core, and not kept. A file that fails the check throws, and what was built
        // from it is dropped with this half-made session.
        changeSequence = try store.readVerified(keyring: keyring) { chunk in
            var uncached: [SealedItem] = []
            for verified in chunk {
                let record = verified.stored.record
                let head = RecordHead(record, contentHash: verified.contentHash, at: verified.stored.changeSequence)
                heads[record.id] = head
                if let position = index.position(of: record.id), position < cachedFingerprints.count,
                    cachedFingerprints[position] == head.fingerprint
                {
                    current[position] = true
                } else {
                    uncached.append(record)
                }
            }
            for indexed in try ParallelMap.map(uncached, { SearchIndex.Indexed(try keyring.open($0)) }) {
                let position = index.add(indexed)
                if position < current.count { current[position] = true }
            }
            opened += uncached.count
        }
        // Cached entries of records no longer in the file.
        let gone = zip(index.ids, current).filter { !$0.1 }.map(\.0)
        for id in gone { index.remove(id) }
        self.index = index
        recordsOpenedAtUnlock = opened
        indexCacheIsCurrent = opened == 0 && gone.isEmpty && !cachedFingerprints.isEmpty
    }

    /// How many records unlocking opened because the index cache did not describe them (all of
    /// them without a cache; none when it was current).
    public private(set) var recordsOpenedAtUnlock = 0

    /// Writes the index cache when it no longer describes the vault exactly (after an unlock that
    /// opened records, or a change): the agent does so after answering an unlock and when it locks.
    /// A cache that cannot be written only makes the next unlock slower.
    public func saveIndexCache() throws {
        guard !indexCacheIsCurrent else { return }
        try indexCache.save(index, fingerprint: { heads[$0]?.fingerprint }, keyring: keyring)
        indexCacheIsCurrent = true
    }

    /// Catches up with changes another writer (a sync, another process) made since this session last
    /// looked: reads and opens only the records that changed.
    public func refreshIfChanged() throws {
        let changes = try store.changes(after: changeSequence)
        guard changes.changeSequence != changeSequence else { return }
        let keyring = keyring
        let indexed = try ParallelMap.map(changes.written.map(\.record)) { SearchIndex.Indexed(try keyring.open($0)) }
        for (stored, item) in zip(changes.written, indexed) {
            heads[stored.record.id] = RecordHead(stored.record, at: stored.changeSequence)
            index.add(item)
        }
        for id in changes.removed {
            heads[id] = nil
            index.remove(id)
        }
        changeSequence = changes.changeSequence
    }

    // MARK: - Reading

    /// Whether the vault holds no item at all, trash included.
    public var isEmpty: Bool { index.count == 0 }

    /// Items passing `filter`, favourites first, then by title.
    public func list(_ filter: ItemFilter) throws -> [Item] {
        try items(index.list(filter), on: filter.host)
    }

    /// Summaries of the items passing `filter` and, with a query, matching it best first: from the
    /// index, without opening any item.
    public func summaries(_ filter: ItemFilter, query: String?) throws -> [ItemSummary] {
        // A host is in an item's URLs, which the index does not keep: open those items.
        if filter.host != nil {
            return try (query.map { try search($0, filter: filter) } ?? list(filter)).map(ItemSummary.init)
        }
        let matcher = query.map(FuzzyMatcher.init(query:))
        let ids = matcher.flatMap { $0.isEmpty ? nil : index.search($0, filter: filter) } ?? index.list(filter)
        return ids.compactMap(index.summary)
    }

    /// Items matching `query` fuzzily over titles, usernames, URLs and tags, best first.
    public func search(_ query: String, filter: ItemFilter) throws -> [Item] {
        let matcher = FuzzyMatcher(query: query)
        guard !matcher.isEmpty else { return try list(filter) }
        return try items(index.search(matcher, filter: filter), on: filter.host)
    }

    /// The items of `ids` in order, only those with a URL on `host` when there is one (the index
    /// does not hold URLs' hosts; this is the one criterion it leaves to the items).
    private func items(_ ids: [UUID], on host: String?) throws -> [Item] {
        let listed = try opened(ids)
        guard let host else { return listed }
        return listed.filter { ItemFilter.hasURL(on: host, $0) }
    }

    /// The item `id`, opened from the vault file; `nil` when the vault no longer holds it.
    private func item(_ id: UUID, for use: Use = .reading) throws(AgentFailure) -> Item? {
        try opened([id], for: use).first
    }

    /// Why items are opened: to read them, or as the base of a change.
    ///
    /// A record another writer (a sync) changed since this session last looked is caught up with
    /// for reading; as the base of a change it is refused as a concurrent change, as `commit` refuses
    /// it, so nobody's edit overwrites a version they never saw.
    private enum Use { case reading, changing }

    /// Opens the items of `ids` from the vault file, in that order (ids no longer there are left
    /// out). Each record must be the one this session checked or wrote: a record changed in the file
    /// by anything but Coffer is an integrity error, as it would be at unlock.
    private func opened(_ ids: [UUID], for use: Use = .reading) throws(AgentFailure) -> [Item] {
        let keyring = keyring
        return try checkedRecords(ids, for: use) { try keyring.open($0) }
    }

    /// `open` applied, on every core, to the records of `ids` as this session knows them (see
    /// ``opened(_:for:)``), with failures as `AgentFailure`s.
    private func checkedRecords<Opened: Sendable>(
        _ ids: [UUID], for use: Use, _ open: @escaping @Sendable (SealedItem) throws -> Opened
    ) throws(AgentFailure) -> [Opened] {
        do {
            return try checkedRecordsOrFailed(ids, for: use, open)
        } catch let failure as AgentFailure {
            throw failure
        } catch {
            throw AgentFailure(error)
        }
    }

    private func checkedRecordsOrFailed<Opened: Sendable>(
        _ ids: [UUID], for use: Use, _ open: @escaping @Sendable (SealedItem) throws -> Opened
    ) throws -> [Opened] {
        guard !ids.isEmpty else { return [] }
        let records: [UUID: SealedItem]
        if ids.count > 256 {
            let wanted = Set(ids)
            var byID: [UUID: SealedItem] = [:]
            byID.reserveCapacity(ids.count)
            for record in try store.allRecords() where wanted.contains(record.id) {
                byID[record.id] = byID[record.id] ?? record
            }
            records = byID
        } else {
            records = try store.records(ids).mapValues(\.record)
        }
        // Every item this session knows must be in the file as this session last saw it: changed or
        // missing, another writer (a sync, another process) may have been at work since the last
        // refresh.
        let known = ids.compactMap { id in heads[id].map { (id, $0) } }
        // Checked (a hash each) and opened on every core; a record that is not the one this session
        // knows is not opened at all.
        let checked = try ParallelMap.map(known) { id, head -> Opened? in
            guard let record = records[id], head.describes(record) else { return nil }
            return try open(record)
        }
        let opened = checked.compactMap { $0 }
        guard opened.count == checked.count else {
            let before = changeSequence
            try refreshIfChanged()
            guard changeSequence != before else {
                throw AgentFailure(
                    .integrity,
                    "An item in the vault file changed outside Coffer. Run `coffer lock` and unlock again to check the whole file; `coffer backup restore` brings back a good copy."
                )
            }
            guard use == .reading else { throw Self.concurrentChange }
            return try checkedRecordsOrFailed(ids, for: use, open)
        }
        return opened
    }

    /// Every item's JSON as a backup holds it (trash included), with how many are in the trash: the
    /// JSON sealed in each record, taken as it is once opened instead of decoded and written again
    /// (a third of an automatic backup at 100,000 items).
    public func itemJSONForBackup() throws(AgentFailure) -> (items: [Data], trashed: Int) {
        let keyring = keyring
        let kinds = Array(index.kinds)
        let items = try checkedRecords(kinds.map(\.id), for: .reading) { try keyring.openItemJSON($0) }
        return (items, kinds.count(where: \.isTrashed))
    }

    /// The one item `name` refers to: an id, an id prefix, or an exact title (ignoring case).
    ///
    /// Titles and ids are looked up in the index, so naming an item costs the same in a vault of ten
    /// items as in one of a hundred thousand.
    public func resolve(_ name: String, scope: ItemScope) throws(AgentFailure) -> Item {
        if let id = UUID(uuidString: name), let summary = index.summary(id), scope.contains(summary),
            let item = try item(id)
        {
            return item
        }
        let sameTitle = index.ids(titled: name).compactMap(index.summary)
        let titled = sameTitle.filter(scope.contains)
        if titled.count == 1, let item = try item(titled[0].id) { return item }
        if titled.count > 1 { throw ambiguous(name, titled) }
        let lowered = name.lowercased()
        if lowered.count >= 4, lowered.allSatisfy(\.isHexDigit) || lowered.contains("-") {
            let byID = index.ids(withPrefix: lowered).compactMap(index.summary).filter(scope.contains)
            if byID.count == 1, let item = try item(byID[0].id) { return item }
            if byID.count > 1 { throw ambiguous(name, byID) }
        }
        let place = scope == .trash ? "in the trash" : scope == .live ? "in the vault" : "in the vault or trash"
        let hint =
            scope == .live && sameTitle.contains(where: \.isTrashed)
            ? " It is in the trash: `coffer restore \"\(name)\"` brings it back."
            : " Use `coffer search \(name)` to find it, or name it by its id."
        throw AgentFailure(.notFound, "No item called \"\(name)\" \(place).\(hint)")
    }

    private func ambiguous(_ name: String, _ matches: [ItemSummary]) -> AgentFailure {
        AgentFailure(
            .ambiguous,
            "\"\(name)\" matches \(matches.count) items; name one by its id (shown below).",
            candidates: matches.sorted { index.precedes($0.id, $1.id) })
    }

    /// Counts for `coffer status`.
    public func status(isLocked: Bool, pinEnabled: Bool) -> VaultStatus {
        var byType: [ItemType: Int] = [:]
        var live = 0
        var trash = 0
        for item in index.kinds {
            if item.isTrashed {
                trash += 1
            } else {
                live += 1
                byType[item.type, default: 0] += 1
            }
        }
        let sync = try? store.syncState()
        let pending = (try? store.pendingChangeCount()) ?? 0
        return VaultStatus(
            items: live, itemsByType: byType, trash: trash, locked: isLocked, vaultPath: store.path,
            pinEnabled: pinEnabled,
            server: sync?.serverURL, email: sync?.email, pendingChanges: sync == nil ? 0 : pending,
            lastSyncedAt: sync?.lastSyncedAt, syncProblem: sync?.lastSyncProblem)

    }

    // MARK: - Changing

    /// Stores a new item.
    public func add(_ item: Item) throws -> Item {
        try add(contentsOf: [item])[0]
    }

    /// Stores several new items in one transaction (imports, restores, benchmarks).
    public func add(contentsOf newItems: [Item]) throws -> [Item] {
        var revisions: [Revision] = []
        revisions.reserveCapacity(newItems.count)
        var seen = Set<UUID>()
        for var item in newItems {
            guard heads[item.id] == nil, seen.insert(item.id).inserted else {
                throw AgentFailure(.invalidInput, "An item with id \(item.id.uuidString.lowercased()) already exists.")
            }
            item.title = item.title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !item.title.isEmpty else { throw AgentFailure(.invalidInput, "An item needs a title: pass --title.") }
            try requireSyncableSize(item)
            revisions.append(Revision(first: item))
        }
        try commit(revisions)
        return revisions.map(\.item)
    }

    /// Stores an edited item, keeping replaced secrets in its password history.
    public func update(_ edited: Item) throws -> Item {
        guard let previous = try item(edited.id, for: .changing), let head = heads[edited.id] else {
            throw AgentFailure(.notFound, "The item being edited no longer exists; nothing was changed.")
        }
        var item = edited
        item.recordEdit(from: previous, at: now())
        try requireSyncableSize(item)
        try commit([Revision(item, after: head)])
        return item
    }

    /// Moves an item to the trash.
    public func trash(_ id: UUID) throws -> Item {
        try change(id) { $0.moveToTrash(at: now()) }
    }

    /// Brings an item back from the trash.
    public func restore(_ id: UUID) throws -> Item {
        try change(id) { $0.restoreFromTrash(at: now()) }
    }

    /// Deletes a trashed item for good.
    public func purge(_ id: UUID) throws -> Item {
        guard let item = try item(id, for: .changing) else {
            throw AgentFailure(.notFound, "That item no longer exists.")
        }
        guard item.isTrashed else {
            throw AgentFailure(
                .invalidInput, "\"\(item.title)\" is not in the trash; move it there with `coffer rm` first.")
        }
        try commit([], deletions: [id])
        return item
    }

    /// Refuses an item that could never sync (`Item.sizeLimit`) where it is made, not at the next
    /// push. Restores and recoveries skip this: they bring back what the user already had.
    private func requireSyncableSize(_ item: Item) throws {
        guard item.fitsSizeLimit else {
            throw AgentFailure(.invalidInput, item.sizeLimitMessage + " Nothing was changed.")
        }
    }

    private func change(_ id: UUID, _ body: (inout Item) -> Void) throws -> Item {
        guard var changed = try item(id, for: .changing), let head = heads[id] else {
            throw AgentFailure(.notFound, "That item no longer exists.")
        }
        body(&changed)
        try commit([Revision(changed, after: head)])
        return changed
    }

    /// Brings in items recovered from an older key epoch, sealed under this vault's keys, in one
    /// transaction. Items keep their ids, so recovering the same data twice adds nothing twice: an item
    /// already here stays unless the recovered copy is newer, in which case it becomes a new revision
    /// (the current one stays in the item's history through the usual edit path).
    public func mergeRecovered(_ recovered: [Item]) throws -> RecoveryMerge {
        var revisions: [Revision] = []
        var merge = RecoveryMerge(added: 0, updated: 0, unchanged: 0)
        let currentItems = try here(recovered)
        for item in recovered {
            if let current = currentItems[item.id], let head = heads[item.id] {
                guard !item.hasSameContent(as: current), item.modified > current.modified else {
                    merge.unchanged += 1
                    continue
                }
                var newer = item
                newer.recordEdit(from: current, at: item.modified)
                revisions.append(Revision(newer, after: head))
                merge.updated += 1
            } else {
                revisions.append(Revision(first: item))
                merge.added += 1
            }
        }
        if !revisions.isEmpty { try commit(revisions) }
        return merge
    }

    /// Seals every item again, trash included, in `format`, then records `format` as what the vault
    /// writes, and rebuilds the file. Each item gets a new revision with the same values, `chunk`
    /// items per transaction, so only one chunk's items are open at a time (all 100,000 at once took
    /// the agent to 450 MB; chunks, to 350 MB with the backup before). Every record is whole in one
    /// format or the other at every moment; a stop before the format is recorded only means the
    /// move runs again.
    public func moveItems(to format: ItemContentFormat, chunk: Int = 4096) throws {
        let previous = keyring
        keyring.contentFormat = format
        do {
            let ids = index.ids
            for (done, start) in stride(from: 0, to: ids.count, by: max(1, chunk)).enumerated() {
                let items = try opened(Array(ids[start..<min(start + max(1, chunk), ids.count)]), for: .changing)
                // Straight to `commit`: the values do not change, so an item from before the size
                // limit existed moves too instead of stopping the move on every unlock.
                try commit(items.compactMap { item in heads[item.id].map { Revision(item, after: $0) } })
                CrashPoint.reached("move.chunk", count: done + 1)
            }
            try store.setContentFormat(format)
        } catch {
            keyring = previous
            throw error
        }
        store.compact()
    }

    /// Adds new items and replaces existing ones (merged imports) in one transaction: a failure
    /// leaves the vault as it was. Returns how many were added and updated.
    public func apply(adding added: [Item], updating updated: [Item]) throws -> (added: Int, updated: Int) {
        var revisions: [Revision] = []
        revisions.reserveCapacity(added.count + updated.count)
        for position in added.indices {
            guard heads[added[position].id] == nil else {
                let id = added[position].id.uuidString.lowercased()
                throw AgentFailure(.invalidInput, "An item with id \(id) already exists.")
            }
            try requireSyncableSize(added[position])
            revisions.append(Revision(first: added[position]))
        }
        for item in updated {
            guard let head = heads[item.id] else {
                throw AgentFailure(.notFound, "An item being merged no longer exists; nothing was imported.")
            }
            try requireSyncableSize(item)
            revisions.append(Revision(item, after: head))
        }
        if !revisions.isEmpty { try commit(revisions) }
        return (added.count, updated.count)
    }

    /// Imports `imported` in one transaction: new items added, duplicates of the vault's items
    /// skipped, merged or kept as `duplicates` says, items too large to sync refused. With `dryRun`,
    /// only works out what that would do; the figures are the same either way.
    public func importItems(_ imported: [Item], duplicates: DuplicateChoice, dryRun: Bool) throws -> ImportOutcome {
        // The vault's items are opened only to find duplicates among them; the ids are in the index.
        let existing = duplicates == .keep || index.count == 0 ? [] : try list(ItemFilter(scope: .all))
        let plan = ImportPlan(
            importing: imported, into: existing, takenIDs: index.ids, duplicates: duplicates, now: now())
        if !dryRun { _ = try apply(adding: plan.adding, updating: Array(plan.updating.values)) }
        return plan.outcome
    }

    /// Restores items from a backup in one transaction. `.merge` adds missing items and keeps the newer
    /// of items in both; `.replace` also moves items the backup does not hold to the trash (where they
    /// can still be restored) and puts every item back as the backup has it. `dryRun` only counts.
    public func restore(_ restored: [Item], mode: RestoreMode, dryRun: Bool) throws -> RestoreSummary {
        var summary = RestoreSummary(
            safetyBackup: nil, added: 0, updated: 0, trashed: 0, unchanged: 0, dryRun: dryRun)
        var revisions: [Revision] = []
        let inBackup = Set(restored.map(\.id))
        let currentItems = try here(restored)
        for item in restored {
            guard let current = currentItems[item.id], let head = heads[item.id] else {
                summary.added += 1
                revisions.append(Revision(first: item))
                continue
            }
            let takeBackup = !item.hasSameContent(as: current) && (mode == .replace || item.modified > current.modified)
            guard takeBackup else {
                summary.unchanged += 1
                continue
            }
            summary.updated += 1
            var restoredItem = item
            restoredItem.recordEdit(from: current, at: now())
            revisions.append(Revision(restoredItem, after: head))
        }
        if mode == .replace {
            let gone = index.kinds.filter { !inBackup.contains($0.id) && !$0.isTrashed }.map(\.id)
            for current in try opened(gone, for: .changing) {
                summary.trashed += 1
                guard let head = heads[current.id] else { continue }
                var trashed = current
                trashed.moveToTrash(at: now())
                revisions.append(Revision(trashed, after: head))
            }
        }
        if !dryRun, !revisions.isEmpty { try commit(revisions) }
        return summary
    }

    private static let concurrentChange = AgentFailure(
        .storage,
        "The item changed while this command ran (a sync or another device brought a newer version); nothing was saved. Run the command again."
    )

    /// The vault's current items with the ids of `incoming`, by id (restores and recoveries compare them).
    private func here(_ incoming: [Item]) throws(AgentFailure) -> [UUID: Item] {
        let ids = incoming.map(\.id).filter { heads[$0] != nil }
        return Dictionary(
            try opened(ids, for: .changing).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Seals `revisions` (on every core when there are many), writes them in one transaction —
    /// refused if another writer changed one of these items since this session read it — then
    /// updates memory.
    private func commit(_ revisions: [Revision], deletions: [UUID] = []) throws {
        let keyring = keyring
        // By position: a copy of an item retains and releases each of its few dozen references.
        let kept = revisions.indices.filter { revisions[$0].keepsKey }.map { revisions[$0].item.id }
        let keys = try store.wrappedKeys(of: kept)
        // Gone from the file since this session read it: another writer deleted it.
        guard kept.allSatisfy({ keys[$0] != nil }) else { throw Self.concurrentChange }
        if revisions.count >= Self.streamingThreshold {
            return try commitStreaming(revisions, keys: keys, deletions: deletions)
        }
        let keyed = revisions.map { ($0, $0.keepsKey ? keys[$0.item.id] : nil) }
        // Sealed, hashed (once: the store takes the hash) and indexed on every core.
        let prepared = try ParallelMap.map(keyed) { revision, key in
            let record = try keyring.seal(revision.item, revision: revision.number, existingKey: key)
            return (record, record.contentHash, SearchIndex.Indexed(revision.item))
        }
        let sealed = prepared.map(\.0)
        var guards: [UUID: Int64] = [:]
        for record in sealed { guards[record.id] = heads[record.id]?.changeSequence ?? 0 }
        for id in deletions { guards[id] = heads[id]?.changeSequence ?? 0 }
        let change = VaultChange(
            upserts: sealed, deletions: deletions, guards: guards, contentHashes: prepared.map(\.1))
        let sequence = try write(change)
        try committed(
            [prepared.map { WrittenRecord($0.0, contentHash: $0.1, indexed: $0.2) }], deletions: deletions, at: sequence
        )
    }

    /// Writes `change`; another writer's change to one of its items is reported as such after this
    /// session has read it, and a failure `underlying` names (sealing, inside the transaction) as
    /// itself rather than as the store's word for it.
    private func write(_ change: VaultChange, underlying: () -> (any Error)? = { nil }) throws -> Int64 {
        switch Result(catching: { () throws(CofferStoreError) in try store.commit(change, keyring: keyring) }) {
        case .success(let sequence):
            return sequence
        case .failure(.concurrentChange):
            try refreshIfChanged()
            throw Self.concurrentChange
        case .failure(let error):
            throw underlying() ?? error
        }
    }

    /// From this many records a change is sealed a chunk at a time while the store writes the chunk
    /// before (``StreamedRecords``); below, threads and chunks cost more than the overlap saves.
    static let streamingThreshold = 8192

    /// ``commit(_:deletions:)`` for a bulk change: the store writes each chunk of records while the
    /// next is sealed, all in one transaction.
    private func commitStreaming(_ revisions: [Revision], keys: [UUID: SealedBox], deletions: [UUID]) throws {
        let keyring = keyring
        // In the order of the id index, which is the order the store writes best; by position, not
        // by copying revisions around.
        let ids = revisions.indices.map { revisions[$0].item.id }
        let order = ids.indices.sorted { ids[$0].sortsBefore(ids[$1]) }
        let sealed = SealedChunks()
        let streamed = StreamedRecords(ids: order.map { ids[$0] }) { range in
            try sealed.keep(range) {
                try ParallelMap.map(Array(order[range])) { position in
                    try revisions.withUnsafeBufferPointer { revisions in
                        let key = revisions[position].keepsKey ? keys[revisions[position].item.id] : nil
                        let record = try keyring.seal(
                            revisions[position].item, revision: revisions[position].number, existingKey: key)
                        return (record, record.contentHash, SearchIndex.Indexed(revisions[position].item))
                    }
                }
            }
        }
        var guards: [UUID: Int64] = [:]
        guards.reserveCapacity(ids.count + deletions.count)
        for id in ids { guards[id] = heads[id]?.changeSequence ?? 0 }
        for id in deletions { guards[id] = heads[id]?.changeSequence ?? 0 }
        let change = VaultChange(deletions: deletions, guards: guards, streamed: streamed)
        let sequence = try write(change) { sealed.failure }
        try committed(sealed.inOrder, deletions: deletions, at: sequence)
    }

    /// Brings the heads and the index up to a change the store committed at `sequence`; `written`
    /// comes in chunks, as it was sealed.
    private func committed(_ written: [[WrittenRecord]], deletions: [UUID], at sequence: Int64) throws {
        changesSinceBackup = true
        let count = written.reduce(0) { $0 + $1.count }
        index.reserveCapacity(forAdding: count)
        heads.reserveCapacity(heads.count + count)
        for chunk in written {
            // Read in place: a copy of a record would retain and release its index entry's text.
            chunk.withUnsafeBufferPointer { records in
                for position in records.indices {
                    heads[records[position].id] = RecordHead(
                        revision: records[position].revision, fingerprint: records[position].fingerprint,
                        at: sequence)
                    index.add(records[position].indexed)
                }
            }
        }
        for id in deletions {
            heads[id] = nil
            index.remove(id)
        }
        if sequence == changeSequence + 1 {
            changeSequence = sequence
        } else {
            // Someone else wrote in between: read what they wrote (this change is read again, harmlessly).
            try refreshIfChanged()
        }
    }
}

/// What the session keeps of a record a change wrote: its head's parts and its index entry. Not
/// the sealed record itself, which the store frees once it has written it.
private struct WrittenRecord: Sendable {
    let id: UUID
    let revision: Int64
    let fingerprint: ContentFingerprint
    let indexed: SearchIndex.Indexed

    init(_ record: SealedItem, contentHash: [UInt8], indexed: SearchIndex.Indexed) {
        id = record.id
        revision = record.revision
        fingerprint = ContentFingerprint(contentHash)
        self.indexed = indexed
    }
}

/// The chunks a streamed commit sealed, kept for the session's heads and index, and the first
/// sealing error, so it is reported as itself rather than as the store's failed transaction.
///
/// `@unchecked Sendable` is sound: `chunks` and `firstFailure` are only touched under `lock`.
private final class SealedChunks: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [(start: Int, records: [WrittenRecord])] = []
    private var firstFailure: (any Error)?

    /// Runs `seal` for the chunk of `range`, keeping what it returns (each record with its hash and
    /// its index entry) or the error it throws; hands the store the records and hashes.
    func keep(_ range: Range<Int>, _ seal: () throws -> [(SealedItem, [UInt8], SearchIndex.Indexed)]) throws
        -> [StreamedRecords.Sealed]
    {
        do {
            let records = try seal()
            let kept = records.map { WrittenRecord($0.0, contentHash: $0.1, indexed: $0.2) }
            lock.withLock { chunks.append((range.lowerBound, kept)) }
            return records.map { (record: $0.0, contentHash: $0.1) }
        } catch {
            lock.withLock { firstFailure = firstFailure ?? error }
            throw error
        }
    }

    /// The first error sealing threw.
    var failure: (any Error)? { lock.withLock { firstFailure } }

    /// The chunks, in the order of their records.
    var inOrder: [[WrittenRecord]] {
        lock.withLock { chunks.sorted { $0.start < $1.start }.map(\.records) }
    }
}

/// What this session knows of a stored record: the revision a change follows, the change sequence
/// that guards it, and a fingerprint of its sealed content. The item key stays in the file: a change
/// reads it there (``VaultStore/wrappedKeys(of:)``), which keeps 100,000 heads small.
private struct RecordHead: Sendable {
    let revision: Int64
    let changeSequence: Int64
    let fingerprint: ContentFingerprint

    /// The head of `record`, whose content hash is `contentHash` when the caller has it already.
    init(_ record: SealedItem, contentHash: [UInt8]? = nil, at changeSequence: Int64) {
        self.init(
            revision: record.revision, fingerprint: ContentFingerprint(contentHash ?? record.contentHash),
            at: changeSequence)
    }

    /// The head of a record of `revision` whose sealed content has `fingerprint`.
    init(revision: Int64, fingerprint: ContentFingerprint, at changeSequence: Int64) {
        self.revision = revision
        self.changeSequence = changeSequence
        self.fingerprint = fingerprint
    }

    /// Whether `record` is the one this head was made from.
    func describes(_ record: SealedItem) -> Bool {
        record.revision == revision && ContentFingerprint(record.contentHash) == fingerprint
    }
}

/// One item to seal: its content and its revision number. Every revision after the first keeps the
/// item's key (an item's key never changes once made, so its history stays readable).
private struct Revision: Sendable {
    let item: Item
    let number: Int64

    /// The first revision of a new item, under a new item key.
    init(first item: Item) {
        self.item = item
        number = 1
    }

    /// The revision after `head`, under the item's existing key.
    init(_ item: Item, after head: RecordHead) {
        self.item = item
        number = head.revision + 1
    }

    /// Whether the item has a key in the file already.
    var keepsKey: Bool { number > 1 }
}
