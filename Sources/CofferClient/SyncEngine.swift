import CofferAPI
import CofferCrypto
import CofferModel
public import CofferStore
public import CofferVault
import Crypto
public import Foundation

/// What a sync did, for the user.
public struct SyncReport: Codable, Sendable, Equatable {
    /// Records received from the server and applied.
    public var pulled: Int
    /// Local changes the server accepted.
    public var pushed: Int
    /// Items edited on both sides in the same part, kept as conflict copies.
    public var conflictCopies: Int
    /// Local items too large for the server; they stay on this device, unsynced, until made smaller.
    public var heldBack: [HeldBackItem] = []
}

/// An item a sync could not send because, sealed, it is larger than the server keeps
/// (`PushChange.maximumBoxBytes`). It stays pending; the rest of the sync goes on without it.
public struct HeldBackItem: Codable, Sendable, Equatable {
    /// The item.
    public var id: UUID
    /// Its title, to name it to the user.
    public var title: String
    /// Its sealed size.
    public var sealedBytes: Int
}

/// Offline-first sync of one vault with its server (architecture.md, "Sync in one paragraph").
///
/// Pull everything after the cursor, check it against the signed manifest *before* applying anything,
/// merge into local changes, push local changes with their base revisions, re-merge conflicts, and
/// publish the new manifest with compare-and-swap. Local data is never dropped: a failure leaves the
/// device as it was, with its changes still pending.
public struct SyncEngine: Sendable {
    let store: VaultStore
    let keyring: Keyring
    let now: @Sendable () -> Date

    /// An engine for an unlocked vault.
    public init(store: VaultStore, keyring: Keyring, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.keyring = keyring
        self.now = now
    }

    /// Signs in with the stored refresh token and returns the API and an access token.
    public func session() async throws -> (api: APIClient, accessToken: String, state: SyncState) {
        guard var state = try store.syncState() else { throw CofferClientError.notSynced }
        guard let sealed = state.sealedRefreshToken else {
            throw CofferClientError.signedOut("This device is signed out.")
        }
        let api = try APIClient(baseURL: state.serverURL)
        let session = try await refresh(api, token: try keyring.openToken(sealed))
        state.sealedRefreshToken = keyring.sealToken(session.refreshToken)
        try store.saveSyncState(state)
        return (api, session.accessToken, state)
    }

    private func refresh(_ api: APIClient, token: String) async throws -> SessionResponse {
        do {
            return try await api.refresh(token)
        } catch {
            if case .accountReset(let notice, _) = error {
                // Remembered so `coffer status` can say when and from where, even offline; local data stays.
                try store.saveResetNotice(notice)
            }
            if case .server(401, _, let message) = error { throw CofferClientError.signedOut(message) }
            throw error
        }
    }

    /// Runs one sync; retries when another device moved the manifest meanwhile.
    public func sync() async throws -> SyncReport {
        let (api, token, state) = try await session()
        try await KeyChanges.settlePendingHeader(store: store, api: api, token: token)
        // Another device may be between its push and its manifest update, or may win the manifest
        // compare-and-swap: both show up as a mismatch that a fresh attempt resolves. A mismatch that
        // persists is reported.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await syncOnce(api: api, token: token, state: try store.syncState() ?? state)
            } catch SyncRetry.manifestMoved where attempt < 3 {
                continue
            } catch CofferClientError.manifestMismatch(let detail) where attempt < 3 {
                _ = detail
                continue
            } catch SyncRetry.manifestMoved {
                throw CofferClientError.manifestMismatch("the manifest kept changing during the sync")
            }
        }
    }

    private enum SyncRetry: Error { case manifestMoved }

    private func syncOnce(api: APIClient, token: String, state: SyncState) async throws -> SyncReport {
        // 1. Pull, then check what the server claims against the signed manifest.
        var state = state
        var pulled: [WireRecord] = []
        var cursor = state.cursor
        var announcedCounter: Int64 = 0
        while true {
            let page = try await api.pull(after: cursor, token: token)
            pulled += page.records
            cursor = page.cursor
            announcedCounter = page.manifestCounter
            if !page.hasMore { break }
        }
        guard announcedCounter >= state.serverManifestCounter else {
            throw CofferClientError.rollback(seen: state.serverManifestCounter, served: announcedCounter)
        }
        var metadata = try store.syncMetadata()
        // Nothing new on either side: the manifest already verified at this counter stands, and
        // nothing is applied, so there is nothing to check or to write.
        if pulled.isEmpty, announcedCounter == state.serverManifestCounter, !metadata.values.contains(where: \.isDirty)
        {
            return SyncReport(pulled: 0, pushed: 0, conflictCopies: 0)
        }
        let serverManifest = try await api.manifest(token: token)
        var serverView = ServerView(metadata: metadata)
        serverView.apply(pulled)
        let manifestCounter = try verify(serverManifest, against: serverView, state: state)

        // 2. Apply: accept remote records, merge into local edits.
        var records = Dictionary(uniqueKeysWithValues: try store.allRecords().map { ($0.id, $0) })
        var outcome = Outcome(deviceName: state.deviceName)
        for record in pulled {
            try integrate(record, records: &records, metadata: &metadata, outcome: &outcome, isPull: true)
        }

        // 3. Push local changes; merge conflicts and push again.
        var pushed = 0
        var heldBack: [UUID: HeldBackItem] = [:]
        for _ in 0..<3 {
            let (changes, resealed, tooLarge) = try pendingChanges(records: records, metadata: metadata)
            for item in tooLarge { heldBack[item.id] = item }
            if changes.isEmpty { break }
            for chunk in Self.pushBatches(changes) {
                let response = try await api.push(chunk, token: token)
                for accepted in response.accepted {
                    pushed += 1
                    if accepted.isDeleted {
                        metadata[accepted.id] = nil
                        serverView.entries[accepted.id] = nil
                        outcome.touched.insert(accepted.id)
                    } else if let record = resealed[accepted.id] {
                        records[accepted.id] = record
                        metadata[accepted.id] = ItemSyncMetadata(
                            syncedRevision: record.revision, base: record, isDirty: false)
                        serverView.entries[accepted.id] = (record.revision, record.contentHash)
                        outcome.touched.insert(accepted.id)
                    }
                }
                for current in response.conflicts {
                    serverView.apply([current])
                    try integrate(current, records: &records, metadata: &metadata, outcome: &outcome, isPull: false)
                }
            }
        }

        // 4. Publish the manifest of what the server now holds.
        var newCounter = manifestCounter
        if pushed > 0 || serverManifest == nil {
            newCounter = manifestCounter + 1
            let manifest = Manifest(counter: UInt64(newCounter), entries: serverView.manifestEntries)
            let update = ManifestUpdate(
                expectedCounter: serverManifest?.counter ?? 0,
                manifest: WireManifest(counter: newCounter, blob: keyring.encodeManifest(manifest)))
            guard try await api.updateManifest(update, token: token) else { throw SyncRetry.manifestMoved }
        }

        // 5. Commit locally in one transaction.
        state.cursor = max(cursor, state.cursor)
        state.serverManifestCounter = newCounter
        let localState = try store.manifestState()
        let localManifest = Manifest(counter: localState.counter + 1, entries: records.values.map(\.manifestEntry))
        let items = outcome.touched.map { id in SyncedItem(id: id, record: records[id], metadata: metadata[id]) }
        try store.applySync(
            items, state: state,
            manifest: ManifestState(counter: localManifest.counter, mac: keyring.authenticate(localManifest)),
            expectedCounter: localState.counter)
        return SyncReport(
            pulled: pulled.count, pushed: pushed, conflictCopies: outcome.conflictCopies,
            heldBack: heldBack.values.sorted { $0.title < $1.title })
    }

    /// Checks the server's manifest: signed by this account, not older than seen, and listing exactly what was served.
    private func verify(_ wire: WireManifest?, against view: ServerView, state: SyncState) throws -> Int64 {
        guard let wire else {
            guard view.entries.isEmpty, state.serverManifestCounter == 0 else {
                throw CofferClientError.manifestMismatch("the server has items but no manifest")
            }
            return 0
        }
        guard wire.counter >= state.serverManifestCounter else {
            throw CofferClientError.rollback(seen: state.serverManifestCounter, served: wire.counter)
        }
        let manifest = try keyring.decodeManifest(wire.blob)
        guard Int64(manifest.counter) == wire.counter else {
            throw CofferClientError.manifestMismatch("the manifest's counter was changed")
        }
        try Self.check(manifest, served: view.entries)
        return wire.counter
    }

    /// Compares what the server served, item id → (revision, content hash), with a signed manifest:
    /// anything missing, injected, replaced or rolled back is an error, never applied.
    static func check(_ manifest: Manifest, served: [UUID: (Int64, [UInt8])]) throws(CofferClientError) {
        var expected: [UUID: (Int64, [UInt8])] = [:]
        for entry in manifest.entries { expected[entry.itemID] = (entry.revision, entry.contentHash) }
        let missing = expected.keys.filter { served[$0] == nil }
        let injected = served.keys.filter { expected[$0] == nil }
        let changed = expected.keys.filter { id in
            guard let served = served[id], let listed = expected[id] else { return false }
            return served.0 != listed.0 || served.1 != listed.1
        }
        guard missing.isEmpty, injected.isEmpty, changed.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) item(s) missing") }
            if !injected.isEmpty { parts.append("\(injected.count) item(s) not in the manifest") }
            if !changed.isEmpty { parts.append("\(changed.count) item(s) replaced or rolled back") }
            throw .manifestMismatch(parts.joined(separator: ", "))
        }
    }

    private struct Outcome {
        /// Names conflict copies.
        let deviceName: String
        var touched = Set<UUID>()
        var conflictCopies = 0
    }

    /// Applies one server record to the local state, merging with a pending local edit.
    private func integrate(
        _ remote: WireRecord, records: inout [UUID: SealedItem], metadata: inout [UUID: ItemSyncMetadata],
        outcome: inout Outcome, isPull: Bool
    ) throws {
        let local = records[remote.id]
        let meta = metadata[remote.id]
        outcome.touched.insert(remote.id)
        if remote.isDeleted, local != nil, let meta, meta.isDirty, meta.syncedRevision == 0 {
            // Deleted on the server, then created here again with the same id (restored from a backup
            // or recovered from before a reset): the newer intent wins, pushed on top of the tombstone.
            metadata[remote.id] = ItemSyncMetadata(syncedRevision: remote.revision, base: nil, isDirty: true)
            return
        }
        if remote.isDeleted {
            // Purged elsewhere: a copy here goes to this device's trash and stays local, never silently dropped.
            metadata[remote.id] = nil
            if let local {
                var item = try keyring.open(local)
                if !item.isTrashed { item.moveToTrash(at: now()) }
                records[remote.id] = try keyring.seal(item, revision: local.revision + 1, existingKey: local.wrappedKey)
            }
            return
        }
        guard let key = remote.wrappedKey.flatMap({ try? SealedBox(bytes: $0) }),
            let content = remote.content.flatMap({ try? SealedBox(bytes: $0) })
        else {
            throw CofferClientError.manifestMismatch(
                "item \(remote.id.uuidString.lowercased()) arrived without content")
        }
        let remoteRecord = SealedItem(id: remote.id, revision: remote.revision, wrappedKey: key, content: content)
        let remoteItem = try keyring.open(remoteRecord)
        guard let local, let meta, meta.isDirty else {
            records[remote.id] = remoteRecord
            metadata[remote.id] = ItemSyncMetadata(syncedRevision: remote.revision, base: remoteRecord, isDirty: false)
            return
        }
        let baseItem = try meta.base.map { try keyring.open($0) }
        let localItem = try keyring.open(local)
        let merge = ItemMerge.merge(
            base: baseItem, local: localItem, remote: remoteItem, deviceName: outcome.deviceName, now: now())
        if merge.merged == remoteItem {
            records[remote.id] = remoteRecord
            metadata[remote.id] = ItemSyncMetadata(syncedRevision: remote.revision, base: remoteRecord, isDirty: false)
        } else {
            records[remote.id] = try keyring.seal(
                merge.merged, revision: remote.revision, existingKey: remoteRecord.wrappedKey)
            metadata[remote.id] = ItemSyncMetadata(syncedRevision: remote.revision, base: remoteRecord, isDirty: true)
        }
        if let copy = merge.conflictCopy {
            let record = try keyring.seal(copy, revision: 1)
            records[copy.id] = record
            metadata[copy.id] = ItemSyncMetadata(syncedRevision: 0, base: nil, isDirty: true)
            outcome.touched.insert(copy.id)
            outcome.conflictCopies += 1
        }
    }

    /// The pushes for every dirty item, each resealed at its next server revision, and the items too
    /// large to push (older than `Item.sizeLimit`, or restored from elsewhere): those are held back so
    /// one of them cannot stop every other change from syncing.
    /// Splits changes into requests of at most 500 items and about 6 MiB of content (JSON's base64
    /// makes that 8 MiB, half the server's 16 MiB body limit), so items with attachments still push.
    static func pushBatches(_ changes: [PushChange]) -> [[PushChange]] {
        var batches: [[PushChange]] = []
        var current: [PushChange] = []
        var bytes = 0
        for change in changes {
            let size = (change.content?.count ?? 0) + (change.wrappedKey?.count ?? 0) + 128
            if !current.isEmpty, current.count == 500 || bytes + size > 6 * 1_048_576 {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(change)
            bytes += size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    private func pendingChanges(
        records: [UUID: SealedItem], metadata: [UUID: ItemSyncMetadata]
    ) throws -> ([PushChange], [UUID: SealedItem], [HeldBackItem]) {
        var changes: [PushChange] = []
        var resealed: [UUID: SealedItem] = [:]
        var tooLarge: [HeldBackItem] = []
        for (id, meta) in metadata where meta.isDirty {
            let next = meta.syncedRevision + 1
            if let record = records[id] {
                let item = try keyring.open(record)
                let sealed = try keyring.seal(item, revision: next, existingKey: record.wrappedKey)
                let sealedBytes = max(sealed.content.bytes.count, sealed.wrappedKey.bytes.count)
                guard sealedBytes <= PushChange.maximumBoxBytes else {
                    tooLarge.append(HeldBackItem(id: id, title: item.title, sealedBytes: sealedBytes))
                    continue
                }
                resealed[id] = sealed
                changes.append(
                    PushChange(
                        id: id, baseRevision: meta.syncedRevision, revision: next, isDeleted: false,
                        wrappedKey: sealed.wrappedKey.bytes, content: sealed.content.bytes))
            } else if meta.syncedRevision > 0 {
                changes.append(
                    PushChange(
                        id: id, baseRevision: meta.syncedRevision, revision: next, isDeleted: true, wrappedKey: nil,
                        content: nil))
            }
        }
        return (changes.sorted { $0.id.uuidString < $1.id.uuidString }, resealed, tooLarge)
    }
}

/// This device's view of what the server holds: item id → (revision, content hash).
struct ServerView {
    var entries: [UUID: (Int64, [UInt8])] = [:]

    init(metadata: [UUID: ItemSyncMetadata]) {
        for (id, meta) in metadata {
            if let base = meta.base, meta.syncedRevision > 0 { entries[id] = (meta.syncedRevision, base.contentHash) }
        }
    }

    mutating func apply(_ records: [WireRecord]) {
        for record in records {
            if record.isDeleted {
                entries[record.id] = nil
            } else if let content = record.content {
                entries[record.id] = (record.revision, Array(SHA256.hash(data: content)))
            }
        }
    }

    var manifestEntries: [ManifestEntry] {
        entries.map { ManifestEntry(itemID: $0.key, revision: $0.value.0, contentHash: $0.value.1) }
    }
}
