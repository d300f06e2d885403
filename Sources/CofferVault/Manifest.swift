import CofferCrypto
import Crypto
public import Foundation

/// One record's line in the manifest.
public struct ManifestEntry: Sendable, Hashable {
    /// The item.
    public var itemID: UUID
    /// Its revision.
    public var revision: Int64
    /// SHA-256 of its sealed content.
    public var contentHash: [UInt8]

    /// Creates an entry.
    public init(itemID: UUID, revision: Int64, contentHash: [UInt8]) {
        self.itemID = itemID
        self.revision = revision
        self.contentHash = contentHash
    }
}

/// The set of records a vault should hold, with a counter that only grows.
///
/// Its MAC, under a key only the account key derives, lets a device detect a record that was
/// dropped, injected, replaced or rolled back by whoever holds the file or the server.
public struct Manifest: Sendable, Equatable {
    /// Incremented by every change; a lower counter than one seen before is a rollback.
    public var counter: UInt64
    /// One entry per record.
    public var entries: [ManifestEntry]

    /// Creates a manifest.
    public init(counter: UInt64, entries: [ManifestEntry]) {
        self.counter = counter
        self.entries = entries
    }

    func mac(using key: ManifestKey, accountID: UUID, epoch: UInt32) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key.symmetricKey)
        hmac.update(data: Array("coffer/v1/manifest".utf8))
        hmac.update(data: accountID.bytes)
        withUnsafeBytes(of: epoch.bigEndian) { hmac.update(data: $0) }
        withUnsafeBytes(of: counter.bigEndian) { hmac.update(data: $0) }
        // A canonical order (by id bytes) so the MAC depends on the set, not on how it was listed.
        let ordered = entries.map { (id: $0.itemID.bytes, entry: $0) }.sorted { $0.id.lexicographicallyPrecedes($1.id) }
        for (id, entry) in ordered {
            hmac.update(data: id)
            withUnsafeBytes(of: entry.revision.bigEndian) { hmac.update(data: $0) }
            hmac.update(data: entry.contentHash)
        }
        return Array(hmac.finalize())
    }
}
