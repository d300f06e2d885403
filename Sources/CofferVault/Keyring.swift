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
    /// The format ``seal(_:revision:existingKey:)`` writes item content in; opening reads every
    /// format. A vault session sets its vault's format; any other keyring writes JSON, which every
    /// Coffer reads.
    public var contentFormat: ItemContentFormat = .json
    /// The account key's commitment, which every wrapped item key carries: a store keeps it once.
    public var accountKeyCommitment: [UInt8] { committedAccountKey.commitment }
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
        let plaintext =
            switch contentFormat {
            case .json: ItemJSONWriter.sealedContent(revision: revision, item: item)
            case .compact: ItemCompactEncoding.sealedContent(revision: revision, item: item)
            }
        let content = SealedBox.seal(plaintext, with: itemKey, context: context(.itemContent, item.id))
        return SealedItem(id: item.id, revision: revision, wrappedKey: wrappedKey, content: content)
    }

    /// Opens a stored record, checking that it belongs here and is the revision it claims.
    public func open(_ record: SealedItem) throws(CofferVaultError) -> Item {
        let plaintext = try openContent(record)
        let content = try Self.read(plaintext, itemID: record.id)
        guard content.revision == record.revision, content.item.id == record.id else {
            throw .integrity("item \(record.id.uuidString.lowercased()) was replaced by an older or foreign revision")
        }
        return content.item
    }

    /// The revision and item in a content box's plaintext, in whichever format it was written.
    private static func read(_ plaintext: Data, itemID: UUID) throws(CofferVaultError) -> (revision: Int64, item: Item)
    {
        // Named only when something is wrong: formatting an id costs more than reading a record.
        var name: String { itemID.lowercasedText }
        switch plaintext.first {
        case UInt8(ascii: "{"):
            // The direct reader takes the shape sealing writes; anything else goes through JSONDecoder.
            if let read = ItemJSONReader.sealedContent(plaintext) { return read }
            if let decoded = try? ItemContent.decoder.decode(ItemContent.self, from: plaintext) {
                return (decoded.revision, decoded.item)
            }
            throw .corruptRecord("item \(name) has unreadable content")
        case ItemCompactEncoding.marker:
            do {
                return try ItemCompactEncoding.sealedContent(plaintext, itemID: itemID)
            } catch {
                throw .corruptRecord("item \(name) has unreadable content: \(error.reason)")
            }
        case let marker?:
            throw .newerContentFormat(itemID: itemID, marker: marker)
        case nil:
            throw .corruptRecord("item \(name) is empty")
        }
    }

    /// The JSON of the item in a stored record (as `ItemJSONWriter` writes an item), for a caller
    /// that passes it on rather than reads it: the sealed bytes as they are when the record was
    /// sealed in the writer's JSON shape, written straight from compact content, else the item
    /// opened and written again (which reports what is wrong). The record must be one the caller
    /// checked (its fingerprint): a JSON record's revision is compared only in the last case.
    public func openItemJSON(_ record: SealedItem) throws(CofferVaultError) -> Data {
        let plaintext = try openContent(record)
        if plaintext.first == UInt8(ascii: "{"),
            let item = ItemJSONReader.itemJSON(inSealedContent: plaintext, revision: record.revision)
        {
            return item
        }
        if plaintext.first == ItemCompactEncoding.marker,
            let item = try? ItemCompactEncoding.itemJSON(
                inSealedContent: plaintext, itemID: record.id, revision: record.revision)
        {
            return item
        }
        var output: [UInt8] = []
        ItemJSONWriter.write(try open(record), into: &output)
        return Data(output)
    }

    /// The MAC over a manifest, under the manifest key derived from the account key.
    public func authenticate(_ manifest: Manifest) -> [UInt8] {
        manifest.mac(using: manifestKey, accountID: accountID, epoch: epoch)
    }

    /// The plaintext of a record's content box.
    private func openContent(_ record: SealedItem) throws(CofferVaultError) -> Data {
        let itemKey = try openItemKey(record.wrappedKey, itemID: record.id)
        do {
            return try record.content.open(with: itemKey, context: context(.itemContent, record.id))
        } catch {
            throw .itemIntegrity(record.id, error)
        }
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
