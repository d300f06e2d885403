import CofferAPI
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// The device's side of one sync: the local records and entries it touches, and what becomes of each.
///
/// Remote records arrive here only after they were verified (by a manifest, or by opening under
/// this account's keys). A local change that is still pending always survives: a newer remote version
/// is merged into it, never written over it, and nothing older ever comes back (``ServerView``
/// refuses it first).
struct LocalMerge {
    private let keyring: Keyring
    private let deviceName: String
    private let now: @Sendable () -> Date

    /// The local record of each touched item as read, with its change sequence (the commit's guard).
    private var read: [UUID: StoredRecord?] = [:]
    /// Each touched item's entry as read.
    private var readEntries: [UUID: ItemSyncEntry?] = [:]
    /// Each touched item's local record as it will be after the sync.
    private var current: [UUID: SealedItem?] = [:]
    /// Each touched item's entry as it will be after the sync.
    private var entries: [UUID: ItemSyncEntry?] = [:]
    /// The newest verified remote record per item, kept to merge again if the user changes it meanwhile.
    private var remotes: [UUID: ServerRecord] = [:]
    /// Items opened while being verified, with their revision, so no record is decrypted twice.
    private var opened: [UUID: (revision: Int64, item: Item)] = [:]
    /// Conflict copies made from each item, so merging it again does not copy twice.
    private var copies: [UUID: UUID] = [:]
    /// Pushes the server confirmed by storing exactly what was sent.
    private var confirmed: [UUID: PushedVersion] = [:]

    /// Remote records that changed something here.
    private(set) var received = 0
    /// Conflict copies made.
    private(set) var conflictCopies = 0

    init(keyring: Keyring, deviceName: String, now: @escaping @Sendable () -> Date) {
        self.keyring = keyring
        self.deviceName = deviceName
        self.now = now
    }

    /// Reads the local records and entries of `ids` this merge has not read yet.
    mutating func load(_ ids: some Collection<UUID>, from store: VaultStore) throws {
        let missing = ids.filter { read[$0] == nil }
        guard !missing.isEmpty else { return }
        let records = try store.records(missing)
        let found = try store.syncEntries(missing)
        for id in missing {
            read[id] = .some(records[id])
            readEntries[id] = .some(found[id])
            current[id] = .some(records[id]?.record)
            entries[id] = .some(found[id])
        }
    }

    /// Remembers the opened content of a verified record (the publisher checks unpublished records by opening them).
    mutating func remember(_ item: Item, of record: ServerRecord) { opened[record.id] = (record.revision, item) }

    /// Marks `id` as changed here with no common base: after a server lost writes, another device made
    /// a version at the revision this device holds, and neither may silently replace the other. The
    /// next ``integrate(_:)`` then keeps both (merged, or with a conflict copy).
    mutating func diverged(_ id: UUID) {
        guard var entry = entries[id] ?? nil else { return }
        entry.isDirty = true
        entry.base = nil
        entries[id] = entry
    }

    /// Applies one verified remote record to the local state (call ``load(_:from:)`` for it first).
    mutating func integrate(_ remote: ServerRecord) throws {
        remotes[remote.id] = remote
        let id = remote.id
        let local = current[id] ?? nil
        let entry = entries[id] ?? nil
        let isDirty = entry?.isDirty ?? false
        let hash = remote.version.contentHash
        received += 1
        switch remote.body {
        case .tombstone:
            // Purged by a device of the account. A pending edit here survives as a re-creation on top of
            // the tombstone; an unchanged copy goes, as the user asked on the other device.
            let keep = isDirty && local != nil
            if !keep { current[id] = .some(nil) }
            entries[id] = ItemSyncEntry(
                syncedRevision: remote.revision, syncedDeleted: true, syncedContentHash: hash, base: nil, isDirty: keep)
        case .live(let record):
            let remoteItem = try openedItem(record)
            guard isDirty else {
                current[id] = record
                entries[id] = Self.clean(record, hash)
                return
            }
            guard let local else {
                // Purged here, changed there. A purge of an item that is still in the trash there wins;
                // one that was restored or edited there comes back, because that is newer intent.
                if remoteItem.isTrashed {
                    entries[id] = ItemSyncEntry(
                        syncedRevision: remote.revision, syncedContentHash: hash, base: record, isDirty: true)
                } else {
                    current[id] = record
                    entries[id] = Self.clean(record, hash)
                }
                return
            }
            try merge(local: local, base: entry?.base, remote: record, remoteItem: remoteItem, hash: hash)
        }
    }

    private mutating func merge(
        local: SealedItem, base: SealedItem?, remote: SealedItem, remoteItem: Item, hash: [UInt8]
    ) throws {
        let id = remote.id
        let localItem = try keyring.open(local)
        let baseItem = try base.map { try keyring.open($0) }
        let outcome = ItemMerge.merge(
            base: baseItem, local: localItem, remote: remoteItem, deviceName: deviceName, now: now())
        if outcome.merged == remoteItem {
            current[id] = remote
            entries[id] = Self.clean(remote, hash)
        } else {
            current[id] = try keyring.seal(outcome.merged, revision: remote.revision, existingKey: remote.wrappedKey)
            entries[id] = ItemSyncEntry(
                syncedRevision: remote.revision, syncedContentHash: hash, base: remote, isDirty: true)
        }
        guard let copy = outcome.conflictCopy, copies[id] == nil else { return }
        let sealed = try keyring.seal(copy, revision: 1)
        copies[id] = copy.id
        read[copy.id] = .some(nil)
        readEntries[copy.id] = .some(nil)
        current[copy.id] = sealed
        entries[copy.id] = ItemSyncEntry(syncedRevision: 0, syncedContentHash: nil, base: nil, isDirty: true)
        conflictCopies += 1
    }

    private func openedItem(_ record: SealedItem) throws -> Item {
        if let cached = opened[record.id], cached.revision == record.revision { return cached.item }
        return try keyring.open(record)
    }

    private static func clean(_ record: SealedItem, _ hash: [UInt8]) -> ItemSyncEntry {
        ItemSyncEntry(syncedRevision: record.revision, syncedContentHash: hash, base: record, isDirty: false)
    }

    // MARK: - Pushing

    /// What one pushed change was: the server confirms it by storing exactly this version.
    struct PushedVersion: Sendable {
        var change: PushChange
        var version: RecordVersion
        /// The resealed record (nil for a tombstone).
        var record: SealedItem?
    }

    /// Every pending local change, resealed at its next server revision; items too large for the
    /// server are held back (they stay pending) so one of them cannot stop the rest.
    func pendingChanges() throws -> (changes: [PushedVersion], heldBack: [HeldBackItem], settled: [UUID]) {
        var changes: [PushedVersion] = []
        var heldBack: [HeldBackItem] = []
        var settled: [UUID] = []
        for (id, maybeEntry) in entries {
            guard let entry = maybeEntry, entry.isDirty, confirmed[id] == nil else { continue }
            let next = entry.syncedRevision + 1
            if let record = current[id] ?? nil {
                // Only a record that opens is pushed. One already sealed at the revision it is pushed
                // as (a new item: 1) goes as it is: sealing it again would change nothing but its
                // nonce, and would rewrite every row of a vault's first push.
                let item = try keyring.open(record)
                let sealed =
                    record.revision == next
                    ? record : try keyring.seal(item, revision: next, existingKey: record.wrappedKey)
                let size = max(sealed.content.bytes.count, sealed.wrappedKey.bytes.count)
                guard size <= PushChange.maximumBoxBytes else {
                    heldBack.append(HeldBackItem(id: id, title: item.title, sealedBytes: size))
                    continue
                }
                let change = PushChange(
                    id: id, baseRevision: entry.syncedRevision, isDeleted: false,
                    wrappedKey: sealed.wrappedKey.bytes, content: sealed.content.bytes)
                changes.append(PushedVersion(change: change, version: sealed.liveVersion, record: sealed))
            } else if entry.syncedRevision > 0, !entry.syncedDeleted {
                let tombstone = keyring.sealTombstone(itemID: id, revision: next)
                let change = PushChange(
                    id: id, baseRevision: entry.syncedRevision, isDeleted: true, wrappedKey: nil,
                    content: tombstone.bytes)
                let version = RecordVersion(
                    itemID: id, revision: next, isDeleted: true,
                    contentHash: SealedItem.contentHash(of: tombstone.bytes))
                changes.append(PushedVersion(change: change, version: version, record: nil))
            } else {
                // Purged here and already gone on the server (or never there): nothing to send.
                settled.append(id)
            }
        }
        return (changes.sorted { $0.change.id.uuidString < $1.change.id.uuidString }, heldBack, settled)
    }

    /// Marks local purges that need no push as done.
    mutating func settle(_ ids: [UUID]) {
        for id in ids {
            guard var entry = entries[id] ?? nil else { continue }
            entry.isDirty = false
            entries[id] = entry.syncedRevision > 0 ? entry : nil
        }
    }

    /// Records that the server stored exactly what this device pushed.
    mutating func confirm(_ pushed: PushedVersion) {
        let id = pushed.change.id
        confirmed[id] = pushed
        current[id] = .some(pushed.record)
        entries[id] = ItemSyncEntry(
            syncedRevision: pushed.change.revision, syncedDeleted: pushed.change.isDeleted,
            syncedContentHash: pushed.version.contentHash, base: pushed.record, isDirty: false)
    }

    /// How many pushes the server confirmed.
    var confirmedCount: Int { confirmed.count }

    /// Items whose local change is still pending (sent but not confirmed, or held back).
    var stillPending: Int { entries.values.filter { $0?.isDirty == true }.count }

    // MARK: - Committing

    /// Every touched item's outcome, guarded by the change sequence it was read at.
    var outcomes: [SyncedItem] {
        entries.keys.map { id in
            let before = read[id] ?? nil
            let after = current[id] ?? nil
            let write: LocalWrite =
                switch (before?.record, after) {
                case (let old?, let new?) where old == new: .keep
                case (_, let new?): .put(new)
                case (.some, nil): .remove
                case (nil, nil): .keep
                }
            return SyncedItem(id: id, basedOn: before?.changeSequence ?? 0, write: write, entry: entries[id] ?? nil)
        }
    }

    /// Reads `ids` again (the user changed them while the sync ran) and merges their remote versions
    /// into the new local state, so the commit never writes over a newer local change.
    mutating func reload(_ ids: [UUID], from store: VaultStore) throws {
        for id in ids {
            read[id] = nil
            if let copy = copies.removeValue(forKey: id) {
                read[copy] = nil
                current[copy] = nil
                entries[copy] = nil
                readEntries[copy] = nil
                conflictCopies -= 1
            }
        }
        try load(ids, from: store)
        for id in ids {
            if let pushed = confirmed[id] {
                // The change this device pushed is what the new local edit was made from.
                entries[id] = ItemSyncEntry(
                    syncedRevision: pushed.change.revision, syncedDeleted: pushed.change.isDeleted,
                    syncedContentHash: pushed.version.contentHash, base: pushed.record, isDirty: true)
            } else if let remote = remotes[id] {
                received -= 1
                try integrate(remote)
            }
        }
    }
}
