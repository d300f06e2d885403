import CofferAPI
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Healing a server that lost writes (restored from a backup, or tampered with): see ``heal(state:loss:reader:)``
/// and docs/architecture.md, "A server restored from a backup".
extension SyncAttempt {
    /// Puts back on the server what it lacks, with the user's consent, and publishes a manifest above
    /// everything this device has seen.
    ///
    /// Nothing older than what this device knows is ever applied, whatever the server says or why it
    /// lost data: each version this device saw and the server lacks is re-uploaded exactly as it was
    /// (a deletion as a new tombstone), the server is then read back from the start, and every record
    /// must be at least what the device knew. Records newer than that are other devices' changes (made
    /// or put back after the restore); they are adopted only once they open under the account's keys.
    /// A version another device made at the same revision is kept beside this device's (a conflict
    /// copy), so two devices healing one server lose nothing.
    func heal(state: SyncState, loss: ServerLoss, reader: PageReader) async throws -> SyncReport {
        guard healing == .allowed else { throw CofferClientError.serverLostData(loss) }
        let before = try await reader.pull(after: 0)
        let known = try store.allSyncEntries()
        let onServer = Dictionary(
            Self.newestPerItem(before.records).map { ($0.id, $0.revision) }, uniquingKeysWith: { _, last in last })
        var lost: [PushChange] = []
        for (id, entry) in known where entry.syncedRevision > (onServer[id] ?? 0) {
            if entry.syncedDeleted {
                let revision = entry.syncedRevision + 1
                lost.append(
                    PushChange(
                        id: id, baseRevision: entry.syncedRevision, isDeleted: true, wrappedKey: nil,
                        content: keyring.sealTombstone(itemID: id, revision: revision).bytes))
            } else if let base = entry.base {
                lost.append(
                    PushChange(
                        id: id, baseRevision: entry.syncedRevision - 1, isDeleted: false,
                        wrappedKey: base.wrappedKey.bytes, content: base.content.bytes))
            }
        }
        for batch in lost.chunked(into: 500) { _ = try await api.restoreLostVersions(Array(batch), token: token) }
        CrashPoint.reached("heal.restored")
        let after = try await reader.pull(after: 0)
        let newest = Self.newestPerItem(after.records)
        var view = ServerView(keyring: keyring, digest: .empty, known: [:], isRebuild: true)
        var merge = LocalMerge(keyring: keyring, deviceName: state.deviceName, now: now)
        try merge.load(Set(try store.pendingEntries().keys).union(newest.map(\.id)), from: store)
        var forks: [ServerRecord] = []
        for record in newest {
            try view.apply(record)
            let entry = known[record.id]
            let seen = entry?.syncedRevision ?? 0
            guard record.revision >= seen else {
                throw CofferClientError.manifestMismatch(
                    "the server did not keep the version of item \(record.id.uuidString.lowercased()) this device put back"
                )
            }
            if record.revision == seen, record.version == entry?.serverVersion(of: record.id) { continue }
            if record.revision == seen {
                forks.append(record)
            } else {
                try adopt([record], merge: &merge)
            }
        }
        try resolve(forks, among: newest, merge: &merge)
        var verified = Verified(
            counter: after.manifest?.counter ?? 0, sequence: after.lastSequence, blob: after.manifest?.blob, view: view,
            published: [], unpublished: [], lastSequence: after.lastSequence, mustPublish: true, floor: loss.seen,
            restoredAt: after.restoredAt)
        var report = try await publish(merge: &merge, verified: &verified, state: state, reader: reader)
        report.restoredToServer = lost.count
        return report
    }

    /// Items another device changed, after the server lost writes, at the revision this device holds
    /// a different version of. The local version is kept beside the other (a conflict copy) unless an
    /// item on the server already holds the same content — a device that healed first kept it — so
    /// several devices healing one server keep each version once.
    private func resolve(_ forks: [ServerRecord], among records: [ServerRecord], merge: inout LocalMerge) throws {
        guard !forks.isEmpty else { return }
        let onServer = try records.compactMap { try $0.opened(with: keyring) }
        let local = try store.records(forks.map(\.id))
        for fork in forks {
            let mine = try local[fork.id].map { try keyring.open($0.record) }
            if let mine, !onServer.contains(where: { Self.sameContent($0, mine) }) { merge.diverged(fork.id) }
            try adopt([fork], merge: &merge)
        }
    }

    /// Whether two items hold the same secrets and details, whatever their ids, titles and dates.
    static func sameContent(_ first: Item, _ second: Item) -> Bool {
        var comparable = second
        comparable.id = first.id
        comparable.title = first.title
        comparable.created = first.created
        comparable.modified = first.modified
        return comparable == first
    }
}

extension Array {
    /// The elements in consecutive slices of at most `size`.
    fileprivate func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
