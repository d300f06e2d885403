public import CofferAPI
public import Foundation

/// Sealed records, their write sequence and the manifest: what sync moves.
public protocol RecordRepository: Sendable {
    /// The records written after `cursor` (as many as `limit` allows) and the head of the account
    /// whose unexpired access token hashes to `accessHash`, read in one transaction — a device's most
    /// frequent request is one database round trip. `nil` when the token is unknown, expired or revoked.
    func pull(accessHash: Data, now: Date, after cursor: Int64, within limit: PageLimit) async throws -> RecordPage?
    /// Applies the changes `rule` accepts, in one transaction; reports the others as conflicts.
    func push(accountID: UUID, changes: [PushChange], rule: PushRule, now: Date) async throws -> PushResult
    /// Replaces the manifest only if its counter is still `expectedCounter` and it covers at least the
    /// writes the current one covers and no write the server never made.
    func updateManifest(accountID: UUID, expectedCounter: Int64, manifest: WireManifest) async throws
        -> ManifestUpdateOutcome
    /// Records that the operator restored the server from a backup: every account gets an event and
    /// its pulls say so from now on, so devices put back what the backup lacked. Returns the number of
    /// accounts.
    func recordRestore(at now: Date) async throws -> Int
    /// When a restore was last recorded, if ever.
    func lastRestore() async throws -> Date?
}

/// The outcome of a manifest update.
public enum ManifestUpdateOutcome: Sendable, Equatable {
    /// Stored.
    case updated
    /// Another device published first: the counter is no longer the one expected.
    case counterMoved(current: Int64)
    /// The manifest claims to cover writes the server never made, or fewer than the current one.
    case sequenceOutOfRange(lastSequence: Int64, publishedSequence: Int64)
}

/// Which pushed changes a server stores.
public enum PushRule: Sendable {
    /// The normal rule: a change is stored only on top of the revision it was made from, so two
    /// devices never overwrite each other unseen.
    case onTopOfBase
    /// A device putting back versions a restored server lost: a change is stored when its revision
    /// is above the item's current one (the device held it before the restore; nothing newer is lost).
    case aboveCurrent
}

/// How much one pull may carry: at most `records` records and about `bytes` of ciphertext (always
/// at least one record, however large), so items with attachments page instead of ballooning.
public struct PageLimit: Sendable {
    /// Records per page.
    public var records: Int
    /// Ciphertext per page, in bytes.
    public var bytes: Int

    /// Creates a limit.
    public init(records: Int, bytes: Int) {
        self.records = records
        self.bytes = bytes
    }
}

/// One page of an account's writes after a cursor, with the account's head read in the same state.
public struct RecordPage: Sendable {
    /// The account, its last write, its manifest and its last recorded restore.
    public var head: PullHead
    /// Records after the cursor, in sequence order.
    public var records: [WireRecord]
    /// More records wait after these.
    public var hasMore: Bool

    /// The cursor a device passes next: the last record's sequence, or `cursor` when none came.
    public func nextCursor(after cursor: Int64) -> Int64 { records.last?.sequence ?? cursor }
}
