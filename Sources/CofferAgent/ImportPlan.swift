public import CofferInterchange
public import CofferModel
import CofferVault
import Foundation

/// What to do with an imported item that duplicates one already in the vault.
public enum DuplicateChoice: String, Codable, Sendable, CaseIterable {
    /// Leave the vault's item as it is and count the imported one as skipped.
    case skip
    /// Fill in and update the vault's item from the imported one.
    case merge
    /// Add the imported item beside the vault's.
    case keep
}

/// What an import adds, merges, skips and refuses, worked out in the agent against the whole vault:
/// the vault's items never cross the socket for it, only the imported ones do.
public struct ImportOutcome: Codable, Sendable, Equatable {
    /// New items, by type.
    public var addedByType: [ItemType: Int]
    /// Items of the vault updated from a duplicate.
    public var merged: Int
    /// Duplicates left out.
    public var skipped: Int
    /// Items refused because they could never sync, named by title.
    public var rejected: [SkippedRecord]

    /// How many new items.
    public var added: Int { addedByType.values.reduce(0, +) }
}

/// An import worked out against a vault's items: which are new, which update a duplicate.
struct ImportPlan {
    private(set) var adding: [Item] = []
    private(set) var updating: [UUID: Item] = [:]
    private(set) var outcome = ImportOutcome(addedByType: [:], merged: 0, skipped: 0, rejected: [])

    /// Duplicates are found by `ImportMerge.key` (type, title, username, host) among `existing`,
    /// which comes in display order, so the first of several equal items is the one a duplicate
    /// meets (empty when the caller looks for none); `takenIDs` are every id the vault holds.
    init(
        importing imported: [Item], into existing: [Item], takenIDs: [UUID], duplicates: DuplicateChoice, now: Date
    ) {
        // Keys (a URL parse and some lower-casing each) are made on every core, and not at all when
        // nothing can be a duplicate.
        let looksForDuplicates = duplicates != .keep && !existing.isEmpty
        let byKey =
            looksForDuplicates
            ? Dictionary(
                zip(ParallelMap.map(existing, ImportMerge.key), existing), uniquingKeysWith: { first, _ in first })
            : [:]
        let importedKeys = looksForDuplicates ? ParallelMap.map(imported, ImportMerge.key) : []
        // By position, never by copying items around: a copy of an item retains and releases each of
        // its few dozen references, and at 100,000 imported items that was a tenth of the import.
        var items = imported
        var adds = [Bool](repeating: false, count: items.count)
        // Files that carry ids (KeePass UUIDs, Coffer's own exports) must never replace an item by id:
        // an id already taken gets a fresh one.
        var takenIDs = Set(takenIDs)
        takenIDs.reserveCapacity(takenIDs.count + items.count)
        for position in items.indices {
            if !takenIDs.insert(items[position].id).inserted {
                items[position].id = UUID.random()
                takenIDs.insert(items[position].id)
            }
            guard looksForDuplicates, let match = byKey[importedKeys[position]] else {
                adds[position] = true
                continue
            }
            if duplicates == .merge {
                updating[match.id] = ImportMerge.merge(items[position], into: updating[match.id] ?? match, now: now)
            } else {
                outcome.skipped += 1
            }
        }
        // An item too large to sync is refused and named, rather than failing the whole import or
        // holding back every later sync.
        var rejected: [SkippedRecord] = []
        let fits = { (item: Item) -> Bool in
            if item.fitsSizeLimit { return true }
            rejected.append(SkippedRecord(line: nil, field: item.title, reason: item.sizeLimitMessage))
            return false
        }
        // The items added move to the front, in order, by swaps (which copy nothing).
        var kept = 0
        for position in items.indices where adds[position] && fits(items[position]) {
            if kept != position { items.swapAt(kept, position) }
            kept += 1
        }
        // Only when something was left out: even an empty removal makes a shared array copy itself.
        if kept < items.count { items.removeSubrange(kept...) }
        adding = items
        updating = updating.filter { fits($0.value) }
        outcome.rejected = rejected
        outcome.merged = updating.count
        for position in adding.indices { outcome.addedByType[adding[position].type, default: 0] += 1 }
    }
}
