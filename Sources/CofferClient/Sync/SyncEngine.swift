import CofferAPI
import CofferCrypto
import CofferModel
public import CofferStore
public import CofferVault
public import Foundation

/// What a sync did, for the user.
public struct SyncReport: Codable, Sendable, Equatable {
    /// Records received from the server and applied.
    public var pulled: Int
    /// Local changes the server stored (confirmed by reading them back, not by its word).
    public var pushed: Int
    /// Items edited on both sides in the same part, kept as conflict copies.
    public var conflictCopies: Int
    /// Local items too large for the server; they stay on this device, unsynced, until made smaller.
    public var heldBack: [HeldBackItem] = []
    /// Local changes the server neither stored nor answered with a newer version; they stay pending.
    public var unconfirmed = 0
    /// Changes another device wrote but has not confirmed with a manifest yet; applied once it does.
    public var awaitingOtherDevice = 0
    /// Since when this device has seen such changes waiting.
    public var awaitingSince: Date?
    /// Versions this device put back on a server that had lost them (after a restore from a backup).
    public var restoredToServer = 0
    /// The server lacks writes this device holds and the sync stopped there (a sign-in still succeeds).
    public var serverLoss: ServerLoss?

    /// Creates a report.
    public init(pulled: Int, pushed: Int, conflictCopies: Int) {
        self.pulled = pulled
        self.pushed = pushed
        self.conflictCopies = conflictCopies
    }
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

/// Offline-first sync of one vault with its server, by sync protocol 2 (docs/architecture.md).
///
/// One rule holds on every path: nothing the server returns changes local data until it verifies
/// against something only the account's devices can make — a manifest MACed over the digest of the
/// server's whole state, or a record that opens under the account's keys at the revision it claims.
/// A push answer is a hint; what was stored is learned by pulling it back. Work is in proportion to
/// what changed: a device that is up to date learns so from one small page, and a change updates the
/// digests item by item. A failure anywhere leaves the device as it was, changes still pending.
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

    /// The API and a valid access token: the one this device holds while it lasts, else a new one
    /// from the refresh token.
    public func session() async throws -> (api: APIClient, accessToken: String, state: SyncState) {
        try await SyncSession(store: store, keyring: keyring, now: now).open()
    }

    /// Runs one sync. Another device publishing at the same moment makes this one verify and try
    /// again; a server that keeps moving is reported after a few attempts.
    ///
    /// A server that lacks writes this device has seen is healed only with `healing` `.allowed` (the
    /// user agreed); otherwise the sync stops with ``CofferClientError/serverLostData(_:)``.
    public func sync(healing: ServerHealing = .refused) async throws -> SyncReport {
        do {
            let report = try await syncOnce(healing: healing)
            try? store.markSynced(at: now())
            return report
        } catch let error as CofferClientError {
            switch error {
            case .signedOut(let message): try? store.markSyncProblem(message, kind: .signedOut)
            case .accountReset(_, let message): try? store.markSyncProblem(message, kind: .accountReset)
            case .serverLostData(let loss): try? store.markSyncProblem(loss.description, kind: .serverLostData)
            default: break
            }
            throw error
        }
    }

    private func syncOnce(healing: ServerHealing) async throws -> SyncReport {
        let tokens = SyncSession(store: store, keyring: keyring, now: now)
        var (api, token, _) = try await tokens.open()
        try await KeyChanges.settlePendingHeader(store: store, api: api, token: token)
        // Merges and renumbered records are sealed in the vault's own content format.
        let keyring = try store.sealing(with: keyring)
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await SyncAttempt(
                    store: store, keyring: keyring, now: now, api: api, token: token, healing: healing
                ).run()
            } catch SyncAttempt.Retry.manifestMoved where attempt < 4 {
                continue
            } catch SyncAttempt.Retry.manifestMoved {
                throw CofferClientError.manifestMismatch("the server's manifest kept changing during the sync")
            } catch CofferClientError.server(401, "unauthorized", _) where attempt < 4 {
                // The access token this device kept was revoked or expired early: get a new one.
                (api, token, _) = try await tokens.open(forceRefresh: true)
            }
        }
    }
}

/// Whether a sync may put back on the server what it lost (see docs/architecture.md, "A server restored
/// from a backup").
public enum ServerHealing: Sendable {
    /// Stop and explain; the user decides.
    case refused
    /// The user agreed: re-upload what this device holds and the server lacks.
    case allowed
}

/// One pass of pull, verify, merge, push, confirm and publish.
struct SyncAttempt {
    let store: VaultStore
    let keyring: Keyring
    let now: @Sendable () -> Date
    let api: APIClient
    let token: String
    let healing: ServerHealing

    enum Retry: Error { case manifestMoved }

    /// The server holds less than this device has verified: an older manifest, a different one under a
    /// number already seen, none at all, or a restore its operator recorded since this device's last sync.
    struct ServerBehind: Error {
        let seen: Int64
        let served: Int64
    }

    /// How long other devices' unpublished writes may wait before a sync says so.
    static let awaitingNotice: TimeInterval = 300

    func run() async throws -> SyncReport {
        guard let state = try store.syncState() else { throw CofferClientError.notSynced }
        let isRebuild = state.protocolVersion < 2 || state.viewDigest == nil
        let reader = PageReader(api: api, token: token)
        let pulled = try await reader.pull(after: isRebuild ? 0 : state.cursor)
        let floor = max(state.serverManifestCounter, try store.watermark(server: state.serverURL, keyring: keyring))
        if pulled.restoredAt != nil, pulled.restoredAt != state.serverRestoredAt, floor > 0 {
            // Restored since this device last synced: its view of the server belongs to a history the
            // server no longer has, whatever the numbers say.
            return try await heal(
                state: state,
                loss: ServerLoss(seen: floor, served: pulled.manifest?.counter ?? 0, restoredAt: pulled.restoredAt),
                reader: reader)
        }
        if !isRebuild, pulled.records.isEmpty, let manifest = pulled.manifest,
            manifest.counter == state.serverManifestCounter, manifest.blob == state.lastManifest,
            pulled.restoredAt == state.serverRestoredAt, try !store.hasPendingChanges()
        {
            // Nothing new on either side: one page, one indexed lookup, whatever the vault's size.
            if state.unpublishedSince != nil {
                var settled = state
                settled.unpublishedSince = nil
                try store.saveSyncState(settled)
            }
            return SyncReport(pulled: 0, pushed: 0, conflictCopies: 0)
        }
        var verified: Verified
        do {
            verified = try await verify(pulled, state: state, floor: floor, isRebuild: isRebuild)
        } catch let behind as ServerBehind {
            return try await heal(
                state: state, loss: ServerLoss(seen: behind.seen, served: behind.served, restoredAt: pulled.restoredAt),
                reader: reader)
        }
        verified.restoredAt = pulled.restoredAt
        var merge = LocalMerge(keyring: keyring, deviceName: state.deviceName, now: now)
        let pending = try store.pendingEntries()
        try merge.load(Set(pending.keys).union(verified.published.map(\.id)), from: store)
        for record in verified.published { try merge.integrate(record) }
        guard verified.mustPublish || !pending.isEmpty else {
            return try commitWithoutPublishing(merge, verified, state)
        }
        return try await publish(merge: &merge, verified: &verified, state: state, reader: reader)
    }

    // MARK: - Verifying

    struct Verified {
        /// The counter of the manifest the server holds (0: none yet).
        var counter: Int64
        /// The sequence it covers.
        var sequence: Int64
        /// Its encoded bytes.
        var blob: Data?
        /// The view moved forward to the manifest, checked against it.
        var view: ServerView
        /// The newest record per item up to the manifest's sequence.
        var published: [ServerRecord]
        /// Records after it: another device (or this one) wrote them and has not published yet.
        var unpublished: [ServerRecord]
        /// The highest sequence pulled.
        var lastSequence: Int64
        /// The server's manifest is missing or from protocol 1: this device must publish one.
        var mustPublish: Bool
        /// The highest manifest version this device has seen; a new manifest goes above both.
        var floor: Int64 = 0
        /// The server's last recorded restore, remembered once this sync commits.
        var restoredAt: Date?
    }

    /// Checks the pulled state against the manifest: signed by this account, not older than seen,
    /// and matching exactly the records up to its sequence.
    private func verify(_ pulled: PulledState, state: SyncState, floor: Int64, isRebuild: Bool) async throws
        -> Verified
    {
        let counter = pulled.manifest?.counter ?? 0
        guard counter >= floor else { throw ServerBehind(seen: floor, served: counter) }
        let known = isRebuild ? try store.allSyncEntries() : try store.syncEntries(Set(pulled.records.map(\.id)))
        let start =
            isRebuild
            ? SetDigest.empty : try keyring.openDigest(state.viewDigest!, purpose: .syncView, position: state.cursor)
        var view = ServerView(keyring: keyring, digest: start, known: known, isRebuild: isRebuild)
        guard let wire = pulled.manifest else {
            // No manifest yet: only a new account, before its first publication, looks like this.
            guard floor == 0, state.cursor == 0 else { throw ServerBehind(seen: floor, served: 0) }
            return Verified(
                counter: 0, sequence: 0, blob: nil, view: view, published: [], unpublished: pulled.records,
                lastSequence: pulled.lastSequence, mustPublish: true)
        }
        if SyncManifest.isLegacy(wire.blob) {
            return try verifyLegacy(wire, pulled, view: view, isRebuild: isRebuild)
        }
        let manifest = try SyncManifest(encoded: wire.blob)
        guard manifest.counter == wire.counter, manifest.sequence == wire.sequence else {
            throw CofferClientError.manifestMismatch("the manifest's numbers were changed")
        }
        if counter == state.serverManifestCounter, let seen = state.lastManifest, seen != wire.blob {
            // Another version under a number already seen: the history this device verified is gone.
            throw ServerBehind(seen: floor, served: counter)
        }
        guard manifest.sequence >= (isRebuild ? 0 : state.cursor) else {
            throw ServerBehind(seen: floor, served: counter)
        }
        guard manifest.sequence <= pulled.lastSequence else {
            throw CofferClientError.manifestMismatch("the manifest covers writes the server did not send")
        }
        let published = pulled.records.filter { $0.sequence <= manifest.sequence }
        for record in published { try view.apply(record) }
        guard view.isSigned(by: manifest) else {
            throw CofferClientError.manifestMismatch(
                "the records do not match the vault's signed manifest (an item was dropped, added, swapped or rolled back)"
            )
        }
        return Verified(
            counter: manifest.counter, sequence: manifest.sequence, blob: wire.blob, view: view,
            published: Self.newestPerItem(published),
            unpublished: pulled.records.filter { $0.sequence > manifest.sequence },
            lastSequence: pulled.lastSequence, mustPublish: false)
    }

    /// A protocol-1 manifest (a list of live entries) is read once, on a full pull, by the device that
    /// upgrades the account; it then publishes a protocol-2 manifest.
    private func verifyLegacy(_ wire: WireManifest, _ pulled: PulledState, view: ServerView, isRebuild: Bool) throws
        -> Verified
    {
        guard isRebuild else {
            throw CofferClientError.manifestMismatch("the server went back to a manifest of an older protocol")
        }
        var view = view
        for record in pulled.records { try view.apply(record) }
        let newest = Self.newestPerItem(pulled.records)
        var served: [UUID: (Int64, [UInt8])] = [:]
        for record in newest where !record.isDeleted {
            served[record.id] = (record.revision, record.version.contentHash)
        }
        try LegacyManifest.check(try keyring.decodeManifest(wire.blob), served: served)
        return Verified(
            counter: wire.counter, sequence: pulled.lastSequence, blob: wire.blob, view: view, published: newest,
            unpublished: [], lastSequence: pulled.lastSequence, mustPublish: true)
    }

    static func newestPerItem(_ records: [ServerRecord]) -> [ServerRecord] {
        var newest: [UUID: ServerRecord] = [:]
        for record in records { newest[record.id] = record }
        return newest.values.sorted { $0.sequence < $1.sequence }
    }

    // MARK: - Applying

    private func commitWithoutPublishing(_ merge: LocalMerge, _ verified: Verified, _ state: SyncState) throws
        -> SyncReport
    {
        var merge = merge
        var next = state
        next.cursor = verified.sequence
        next.serverManifestCounter = verified.counter
        next.lastManifest = verified.blob
        next.viewDigest = keyring.sealDigest(verified.view.digest, purpose: .syncView, position: verified.sequence)
        next.protocolVersion = 2
        next.unpublishedSince = verified.unpublished.isEmpty ? nil : (state.unpublishedSince ?? now())
        next.serverRestoredAt = verified.restoredAt
        try commit(&merge, state: next, watermark: verified.counter)
        var report = SyncReport(pulled: merge.received, pushed: 0, conflictCopies: merge.conflictCopies)
        report.awaitingOtherDevice = Set(verified.unpublished.map(\.id)).count
        if let since = next.unpublishedSince, now().timeIntervalSince(since) >= Self.awaitingNotice {
            report.awaitingSince = since
        }
        return report
    }

    /// Writes the merge in one transaction; items the user changed meanwhile are merged again first.
    private func commit(_ merge: inout LocalMerge, state: SyncState, watermark: Int64) throws {
        for attempt in 1...5 {
            do {
                try store.applySync(
                    SyncCommit(items: merge.outcomes, state: state, watermark: watermark), keyring: keyring)
                return
            } catch let conflict as SyncCommitConflict where attempt < 5 {
                try merge.reload(conflict.items, from: store)
            }
        }
    }

    // MARK: - Publishing

    func publish(merge: inout LocalMerge, verified: inout Verified, state: SyncState, reader: PageReader)
        async throws -> SyncReport
    {
        // Writes no manifest covers yet are adopted only once they open under this account's keys.
        for record in verified.unpublished { try verified.view.apply(record) }
        try adopt(verified.unpublished, merge: &merge)
        var lastSequence = verified.lastSequence
        var heldBack: [HeldBackItem] = []
        for _ in 0..<3 {
            let pending = try merge.pendingChanges()
            merge.settle(pending.settled)
            heldBack = pending.heldBack
            guard !pending.changes.isEmpty else { break }
            for batch in Self.batches(pending.changes) { _ = try await api.push(batch.map(\.change), token: token) }
            CrashPoint.reached("sync.pushed")
            // What the server stored is learned by reading it back, never from its answer.
            let after = try await reader.pull(after: lastSequence)
            lastSequence = after.lastSequence
            let byID = Dictionary(pending.changes.map { ($0.change.id, $0) }, uniquingKeysWith: { first, _ in first })
            try merge.load(after.records.map(\.id), from: store)
            verified.view.learn(try store.syncEntries(Set(after.records.map(\.id))))
            for record in after.records {
                try verified.view.apply(record)
                if let pushed = byID[record.id], pushed.version == record.version {
                    merge.confirm(pushed)
                } else {
                    try adopt([record], merge: &merge)
                }
            }
        }
        let counter = max(verified.counter, verified.floor) + 1
        let manifest = keyring.signManifest(counter: counter, sequence: lastSequence, digest: verified.view.digest)
        let published = try await api.publish(
            ManifestUpdate(
                expectedCounter: verified.counter,
                manifest: WireManifest(counter: counter, sequence: lastSequence, blob: manifest.encoded)),
            token: token)
        guard published else { throw Retry.manifestMoved }
        CrashPoint.reached("sync.published")
        var next = state
        next.cursor = lastSequence
        next.serverManifestCounter = counter
        next.lastManifest = manifest.encoded
        next.viewDigest = keyring.sealDigest(verified.view.digest, purpose: .syncView, position: lastSequence)
        next.protocolVersion = 2
        next.unpublishedSince = nil
        next.serverRestoredAt = verified.restoredAt
        try commit(&merge, state: next, watermark: counter)
        var report = SyncReport(
            pulled: merge.received - merge.confirmedCount, pushed: merge.confirmedCount,
            conflictCopies: merge.conflictCopies)
        report.heldBack = heldBack.sorted { $0.title < $1.title }
        report.unconfirmed = max(0, merge.stillPending - heldBack.count)
        return report
    }

    /// Verifies records no manifest covers by opening them under this account's keys (a record the
    /// server made up, moved or replayed does not open at the revision it claims), then merges the
    /// newest of each item.
    func adopt(_ records: [ServerRecord], merge: inout LocalMerge) throws {
        let newest = Self.newestPerItem(records)
        try merge.load(newest.map(\.id), from: store)
        for record in newest {
            if let item = try record.opened(with: keyring) { merge.remember(item, of: record) }
            try merge.integrate(record)
        }
    }

    /// Requests of at most 500 changes and about 6 MiB of content (JSON's base64 makes that 8 MiB,
    /// half the server's body limit), so items with attachments still push.
    static func batches(_ changes: [LocalMerge.PushedVersion]) -> [[LocalMerge.PushedVersion]] {
        var batches: [[LocalMerge.PushedVersion]] = []
        var current: [LocalMerge.PushedVersion] = []
        var bytes = 0
        for pushed in changes {
            let size = (pushed.change.content?.count ?? 0) + (pushed.change.wrappedKey?.count ?? 0) + 128
            if !current.isEmpty, current.count == 500 || bytes + size > 6 * 1_048_576 {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(pushed)
            bytes += size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
