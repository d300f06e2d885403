public import CofferCrypto
import Crypto
public import Foundation

/// An item as it is stored and synced: its id and revision in the clear, everything else sealed.
public struct SealedItem: Sendable, Equatable {
    /// The item's id, bound into both boxes.
    public var id: UUID
    /// Bumped on every change; also sealed inside the content so a rolled-back record is detected.
    public var revision: Int64
    /// The item key, wrapped by the account key.
    public var wrappedKey: SealedBox
    /// The item's content, sealed by the item key.
    public var content: SealedBox

    /// Creates a record from stored parts.
    public init(id: UUID, revision: Int64, wrappedKey: SealedBox, content: SealedBox) {
        self.id = id
        self.revision = revision
        self.wrappedKey = wrappedKey
        self.content = content
    }

    /// SHA-256 of the sealed content, the manifest's view of this record.
    public var contentHash: [UInt8] { sha256(content.bytes) }

    /// SHA-256 of stored sealed bytes, the way ``contentHash`` computes it.
    public static func contentHash(of bytes: Data) -> [UInt8] { sha256(bytes) }

    /// The manifest entry for this record.
    public var manifestEntry: ManifestEntry {
        ManifestEntry(itemID: id, revision: revision, contentHash: contentHash)
    }
}

func sha256(_ data: Data) -> [UInt8] { Array(SHA256.hash(data: data)) }
