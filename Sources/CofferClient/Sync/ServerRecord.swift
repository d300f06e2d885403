import CofferAPI
import CofferCrypto
import CofferModel
import CofferVault
import Foundation

/// A record as a server sent it, parsed into sealed parts; nothing in it is trusted yet.
///
/// Parsing only checks shapes. Trust comes from one of two checks: a verified manifest covers the
/// record's version (``ServerView``), or the record opens under this account's keys at the revision
/// it claims (``opened(with:)``) — which only a device of the account can make happen.
struct ServerRecord: Sendable {
    enum Body: Sendable {
        case live(SealedItem)
        case tombstone(SealedBox)
    }

    let id: UUID
    let revision: Int64
    let sequence: Int64
    let body: Body
    /// What a manifest commits to for this record.
    let version: RecordVersion

    /// Parses a wire record; a record missing its sealed parts, or with impossible numbers, is refused.
    init(_ wire: WireRecord) throws(CofferClientError) {
        let name = wire.id.uuidString.lowercased()
        guard wire.revision > 0, wire.revision < PushChange.maximumRevision, wire.sequence > 0 else {
            throw .manifestMismatch("item \(name) arrived with an impossible revision or sequence")
        }
        guard let contentBytes = wire.content, let content = try? SealedBox(bytes: contentBytes) else {
            throw .manifestMismatch("item \(name) arrived without its sealed content")
        }
        if wire.isDeleted {
            body = .tombstone(content)
        } else {
            guard let keyBytes = wire.wrappedKey, let key = try? SealedBox(bytes: keyBytes) else {
                throw .manifestMismatch("item \(name) arrived without its wrapped key")
            }
            body = .live(SealedItem(id: wire.id, revision: wire.revision, wrappedKey: key, content: content))
        }
        id = wire.id
        revision = wire.revision
        sequence = wire.sequence
        version = RecordVersion(
            itemID: wire.id, revision: wire.revision, isDeleted: wire.isDeleted,
            contentHash: SealedItem.contentHash(of: contentBytes))
    }

    var isDeleted: Bool {
        if case .tombstone = body { return true }
        return false
    }

    /// The sealed record of a live item.
    var sealed: SealedItem? {
        if case .live(let record) = body { return record }
        return nil
    }

    /// Opens the record under `keyring`: the item, or `nil` for a tombstone that verifies. Anything
    /// that does not open as this account's record at this revision is an integrity error.
    func opened(with keyring: Keyring) throws(CofferClientError) -> Item? {
        switch body {
        case .live(let record):
            do {
                return try keyring.open(record)
            } catch {
                throw .manifestMismatch(
                    "item \(id.uuidString.lowercased()) does not open with this account's keys (\(error))")
            }
        case .tombstone(let box):
            guard keyring.isTombstone(box, itemID: id, revision: revision) else {
                throw .manifestMismatch("a deletion of item \(id.uuidString.lowercased()) was not made by this account")
            }
            return nil
        }
    }
}
