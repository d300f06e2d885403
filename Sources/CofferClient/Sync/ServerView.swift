import CofferStore
import CofferVault
import Foundation

/// The server state this device verified, moved forward record by record while a sync checks what
/// the server sent.
///
/// Each record replaces the version the view held for its item in the ``SetDigest`` — one removal and
/// one insertion, whatever the vault's size — and must be newer than it: an older or a different
/// version at the same revision is a rollback or a swap, refused before anything is applied. A
/// signed manifest then verifies against the digest, or nothing from the sync is applied.
struct ServerView {
    private let keyring: Keyring
    /// The digest of the view as moved forward so far.
    private(set) var digest: SetDigest
    /// What the device knew of each touched item before this sync.
    private var known: [UUID: ItemSyncEntry]
    /// The newest record applied per item during this sync.
    private(set) var latest: [UUID: ServerRecord] = [:]
    /// Built from nothing (a first sign-in, or a view made by sync protocol 1): known versions are
    /// the floor for each item's revision but are not in the digest.
    private let isRebuild: Bool

    /// The view at the device's cursor, with what it knew of the items about to change.
    init(keyring: Keyring, digest: SetDigest, known: [UUID: ItemSyncEntry], isRebuild: Bool) {
        self.keyring = keyring
        self.digest = digest
        self.known = known
        self.isRebuild = isRebuild
    }

    /// Adds entries for more items (pulled after the view was made).
    mutating func learn(_ entries: [UUID: ItemSyncEntry]) {
        for (id, entry) in entries where known[id] == nil { known[id] = entry }
    }

    /// Moves the view to `record`, refusing anything that is not a newer version of its item.
    mutating func apply(_ record: ServerRecord) throws(CofferClientError) {
        let inDigest = latest[record.id]?.version ?? (isRebuild ? nil : known[record.id]?.serverVersion(of: record.id))
        if let prior = latest[record.id]?.version ?? known[record.id]?.serverVersion(of: record.id) {
            let name = record.id.uuidString.lowercased()
            guard record.revision >= prior.revision else {
                throw .manifestMismatch(
                    "item \(name) came back at revision \(record.revision), older than the \(prior.revision) this device has seen"
                )
            }
            guard record.revision > prior.revision || record.version == prior else {
                throw .manifestMismatch("item \(name) was replaced by a different version at the same revision")
            }
        }
        if let inDigest { digest.remove(keyring.digestElement(inDigest)) }
        digest.insert(keyring.digestElement(record.version))
        latest[record.id] = record
    }

    /// Whether `manifest` signs exactly this view.
    func isSigned(by manifest: SyncManifest) -> Bool {
        keyring.verifies(manifest, digest: digest)
    }
}
