public import CofferCrypto
import Crypto
public import Foundation

/// The manifest of sync protocol 2: what a device publishes after writing to the server.
///
/// It commits to the server's whole record state up to `sequence` — every live record and every
/// tombstone — through a MAC over the ``SetDigest`` of their versions, the counter, the account and
/// the epoch. It is 60 bytes whatever the vault's size: publishing after a one-item change uploads
/// 60 bytes, and a device that is up to date learns that nothing changed from the counter alone.
/// The digest itself is never sent; a device recomputes it from what it holds and checks the MAC.
public struct SyncManifest: Sendable, Equatable {
    /// Only grows; a lower one than a device has seen is a rollback.
    public var counter: Int64
    /// The server sequence number the manifest covers: every write up to and including it.
    public var sequence: Int64
    /// How many record versions (live items and tombstones) it covers.
    public var count: UInt64
    /// HMAC-SHA256 under the manifest key over everything above, the digest, account and epoch.
    public var mac: [UInt8]

    static let magic: [UInt8] = Array("CMF2".utf8)
    /// The encoded size.
    public static let encodedLength = 4 + 8 + 8 + 8 + 32

    /// Creates a manifest from its parts.
    public init(counter: Int64, sequence: Int64, count: UInt64, mac: [UInt8]) {
        self.counter = counter
        self.sequence = sequence
        self.count = count
        self.mac = mac
    }

    /// The bytes a server stores, opaque to it.
    public var encoded: Data {
        var bytes = Self.magic
        for word in [UInt64(bitPattern: counter), UInt64(bitPattern: sequence), count] {
            withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: mac)
        return Data(bytes)
    }

    /// Reads what ``encoded`` wrote. Anything else — a protocol-1 manifest, a truncated or padded
    /// blob — is refused: the caller reports it, never guesses.
    public init(encoded data: Data) throws(CofferVaultError) {
        let bytes = [UInt8](data)
        guard bytes.count == Self.encodedLength, Array(bytes.prefix(4)) == Self.magic else {
            throw .integrity("the server's manifest is not a sync-protocol-2 manifest")
        }
        func word(_ index: Int) -> UInt64 {
            bytes[(4 + index * 8)..<(4 + index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        let counter = Int64(bitPattern: word(0))
        let sequence = Int64(bitPattern: word(1))
        guard counter >= 0, sequence >= 0 else { throw .integrity("the server's manifest has a negative counter") }
        self.init(counter: counter, sequence: sequence, count: word(2), mac: Array(bytes[28...]))
    }

    /// Whether `data` looks like a protocol-1 manifest (a JSON object), which only an upgrade reads.
    public static func isLegacy(_ data: Data) -> Bool { data.first == UInt8(ascii: "{") }
}

extension Keyring {
    /// The digest element of a record version: HMAC under the digest key, so only a device of the
    /// account can make one.
    public func digestElement(_ version: RecordVersion) -> DigestElement {
        var hmac = digestElementPrefix
        hmac.update(data: version.canonicalBytes)
        return DigestElement(Array(hmac.finalize()))
    }

    /// The digest of a whole set of versions, for a device that downloads everything (O(n)).
    public func digest(of versions: some Sequence<RecordVersion>) -> SetDigest {
        var digest = SetDigest.empty
        for version in versions { digest.insert(digestElement(version)) }
        return digest
    }

    /// Signs the server state `digest` describes, up to `sequence`, as manifest number `counter`.
    public func signManifest(counter: Int64, sequence: Int64, digest: SetDigest) -> SyncManifest {
        SyncManifest(
            counter: counter, sequence: sequence, count: digest.count,
            mac: manifestMAC(counter: counter, sequence: sequence, digest: digest))
    }

    /// Whether `manifest` was signed by this account for exactly the set `digest` describes.
    public func verifies(_ manifest: SyncManifest, digest: SetDigest) -> Bool {
        manifest.count == digest.count
            && constantTimeEquals(
                manifestMAC(counter: manifest.counter, sequence: manifest.sequence, digest: digest), manifest.mac)
    }

    private func manifestMAC(counter: Int64, sequence: Int64, digest: SetDigest) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: manifestKey.symmetricKey)
        hmac.update(data: Array("coffer/v2/manifest".utf8))
        hmac.update(data: accountID.bytes)
        withUnsafeBytes(of: epoch.bigEndian) { hmac.update(data: $0) }
        withUnsafeBytes(of: counter.bigEndian) { hmac.update(data: $0) }
        withUnsafeBytes(of: sequence.bigEndian) { hmac.update(data: $0) }
        hmac.update(data: digest.bytes)
        return Array(hmac.finalize())
    }

    /// The MAC that makes a stored high-water mark trustworthy: a local attacker who lowers the
    /// counter in the file cannot make it verify.
    public func watermarkMAC(server: String, counter: Int64) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: manifestKey.symmetricKey)
        hmac.update(data: Array("coffer/v2/watermark".utf8))
        hmac.update(data: accountID.bytes)
        withUnsafeBytes(of: epoch.bigEndian) { hmac.update(data: $0) }
        let server = Array(server.utf8)
        withUnsafeBytes(of: UInt32(server.count).bigEndian) { hmac.update(data: $0) }
        hmac.update(data: server)
        withUnsafeBytes(of: counter.bigEndian) { hmac.update(data: $0) }
        return Array(hmac.finalize())
    }

    /// Seals a digest for storage, bound to `purpose` and `position` (a change or sync sequence),
    /// so the sum never sits in clear and a digest cannot be moved to another state.
    public func sealDigest(_ digest: SetDigest, purpose: SealPurpose, position: Int64) -> SealedBox {
        SealedBox.seal(digest.bytes, with: accountKey, context: digestContext(purpose, position))
    }

    /// Opens what ``sealDigest(_:purpose:position:)`` sealed.
    public func openDigest(_ box: SealedBox, purpose: SealPurpose, position: Int64) throws(CofferVaultError)
        -> SetDigest
    {
        guard let bytes = try? box.open(with: accountKey, context: digestContext(purpose, position)),
            let digest = SetDigest(bytes: Array(bytes))
        else { throw .integrity("the stored digest does not open (the file was changed outside Coffer)") }
        return digest
    }

    private func digestContext(_ purpose: SealPurpose, _ position: Int64) -> SealContext {
        SealContext(
            purpose: purpose, accountID: accountID, epoch: epoch,
            extra: withUnsafeBytes(of: position.bigEndian) { Array($0) })
    }

    /// A purge as the server keeps it: a small sealed box only a device of the account can make,
    /// so a server cannot delete an item by inventing a tombstone.
    public func sealTombstone(itemID: UUID, revision: Int64) -> SealedBox {
        SealedBox.seal(Data(), with: committedAccountKey, context: tombstoneContext(itemID, revision))
    }

    /// Whether `box` is this account's tombstone for `itemID` at `revision`.
    public func isTombstone(_ box: SealedBox, itemID: UUID, revision: Int64) -> Bool {
        (try? box.open(with: committedAccountKey, context: tombstoneContext(itemID, revision))) != nil
    }

    private func tombstoneContext(_ itemID: UUID, _ revision: Int64) -> SealContext {
        SealContext(
            purpose: .tombstone, accountID: accountID, epoch: epoch, itemID: itemID,
            extra: withUnsafeBytes(of: revision.bigEndian) { Array($0) })
    }
}
