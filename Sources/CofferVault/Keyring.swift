public import CofferCrypto
public import CofferModel
import Crypto
public import Foundation

/// An unlocked account: the account key with the identity it is bound to.
///
/// It seals and opens items and computes the manifest; it never touches a disk or a network.
public struct Keyring: Sendable {
    /// The account.
    public let accountID: UUID
    /// The key epoch.
    public let epoch: UInt32
    /// The account key.
    public var accountKey: AccountKey { committedAccountKey.key }
    /// The account key with its commitment: it opens every item key and tombstone.
    let committedAccountKey: CommittedKey<AccountKeyRole>
    /// Derived once: every manifest and watermark MAC uses it.
    let manifestKey: ManifestKey
    /// The digest key's HMAC with the label, account and epoch already absorbed: every digest element
    /// starts from a copy of it (copying shares the state until the copy is updated).
    let digestElementPrefix: HMAC<SHA256>

    /// Creates a keyring from an unlocked account key.
    public init(accountID: UUID, epoch: UInt32, accountKey: AccountKey) {
        self.accountID = accountID
        self.epoch = epoch
        committedAccountKey = CommittedKey(accountKey)
        manifestKey = accountKey.manifestKey()
        var prefix = HMAC<SHA256>(key: accountKey.digestKey().symmetricKey)
        prefix.update(data: Array("coffer/v2/record-version".utf8))
        prefix.update(data: accountID.bytes)
        withUnsafeBytes(of: epoch.bigEndian) { prefix.update(data: $0) }
        digestElementPrefix = prefix
    }

    /// Unlocks `header` with a password.
    public init(header: AccountHeader, password: String) throws {
        self.init(accountID: header.accountID, epoch: header.epoch, accountKey: try header.unlock(password: password))
    }

    /// Seals a new revision of `item`, reusing `existingKey` when the item already has one.
    public func seal(_ item: Item, revision: Int64, existingKey: SealedBox? = nil) throws -> SealedItem {
        let itemKey: ItemKey
        let wrappedKey: SealedBox
        if let existingKey {
            itemKey = try openItemKey(existingKey, itemID: item.id)
            wrappedKey = existingKey
        } else {
            itemKey = ItemKey.random()
            wrappedKey = itemKey.wrapped(by: committedAccountKey, context: context(.itemKey, item.id))
        }
        let plaintext = ItemJSONWriter.sealedContent(revision: revision, item: item)
        let content = SealedBox.seal(plaintext, with: itemKey, context: context(.itemContent, item.id))
        return SealedItem(id: item.id, revision: revision, wrappedKey: wrappedKey, content: content)
    }

    /// Opens a stored record, checking that it belongs here and is the revision it claims.
    public func open(_ record: SealedItem) throws(CofferVaultError) -> Item {
        let itemKey = try openItemKey(record.wrappedKey, itemID: record.id)
        let plaintext: Data
        do {
            plaintext = try record.content.open(with: itemKey, context: context(.itemContent, record.id))
        } catch {
            throw .itemIntegrity(record.id, error)
        }
        // The direct reader takes the shape sealing writes; anything else goes through JSONDecoder.
        let content: (revision: Int64, item: Item)
        if let read = ItemJSONReader.sealedContent(plaintext) {
            content = read
        } else if let decoded = try? ItemContent.decoder.decode(ItemContent.self, from: plaintext) {
            content = (decoded.revision, decoded.item)
        } else {
            throw .corruptRecord("item \(record.id.uuidString.lowercased()) has unreadable content")
        }
        guard content.revision == record.revision, content.item.id == record.id else {
            throw .integrity("item \(record.id.uuidString.lowercased()) was replaced by an older or foreign revision")
        }
        return content.item
    }

    /// The MAC over a manifest, under the manifest key derived from the account key.
    public func authenticate(_ manifest: Manifest) -> [UInt8] {
        manifest.mac(using: manifestKey, accountID: accountID, epoch: epoch)
    }

    private func openItemKey(_ box: SealedBox, itemID: UUID) throws(CofferVaultError) -> ItemKey {
        do {
            return try ItemKey.unwrap(box, with: committedAccountKey, context: context(.itemKey, itemID))
        } catch {
            throw .itemIntegrity(itemID, error)
        }
    }

    private func context(_ purpose: SealPurpose, _ itemID: UUID) -> SealContext {
        SealContext(purpose: purpose, accountID: accountID, epoch: epoch, itemID: itemID)
    }
}

/// The plaintext inside an item's content box.
/// Written by ``ItemJSONWriter/sealedContent(revision:item:)``, which gives the JSON `Codable` would.
struct ItemContent: Decodable {
    var revision: Int64
    var item: Item

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}
