import CofferCrypto
public import Foundation

/// One version of one record, as a manifest commits to it: never the content, only its hash.
public struct RecordVersion: Sendable, Hashable {
    /// The item.
    public var itemID: UUID
    /// Its revision.
    public var revision: Int64
    /// A tombstone: the item was purged at this revision.
    public var isDeleted: Bool
    /// SHA-256 of the sealed content (or of the sealed tombstone).
    public var contentHash: [UInt8]

    /// Creates a version.
    public init(itemID: UUID, revision: Int64, isDeleted: Bool, contentHash: [UInt8]) {
        self.itemID = itemID
        self.revision = revision
        self.isDeleted = isDeleted
        self.contentHash = contentHash
    }

    /// The bytes the digest key authenticates: fixed length, so no two versions encode alike.
    var canonicalBytes: [UInt8] {
        var bytes = itemID.bytes
        withUnsafeBytes(of: revision.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(isDeleted ? 1 : 0)
        bytes.append(UInt8(truncatingIfNeeded: contentHash.count))
        bytes.append(contentsOf: contentHash)
        return bytes
    }
}

/// A keyed value standing for one record version inside a ``SetDigest``; only a keyring makes one.
public struct DigestElement: Sendable, Equatable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == 32, "a digest element is 256 bits")
        func word(_ index: Int) -> UInt64 {
            bytes[(index * 8)..<(index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        words = (word(0), word(1), word(2), word(3))
    }

    /// Compares elements.
    public static func == (lhs: DigestElement, rhs: DigestElement) -> Bool {
        lhs.words == rhs.words
    }
}

/// An incremental commitment to a set of record versions: the sum, modulo 2²⁵⁶, of one keyed
/// element per version, and how many there are.
///
/// Adding or removing a version costs one HMAC, whatever the size of the set, which is what lets a
/// one-item change on a vault of a million items cost the same as on a vault of ten. It is sound
/// only because the elements are keyed (HMAC under a key derived from the account key): someone who
/// cannot compute elements cannot find another set with the same sum. The sum itself never leaves a
/// device in clear — a manifest carries a MAC over it, and the vault file keeps it sealed — so no
/// element value is ever revealed either (Bellare–Micciancio's incremental hashing, keyed).
public struct SetDigest: Sendable, Equatable {
    /// How many versions the set holds.
    public private(set) var count: UInt64
    private var sum: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of the empty set.
    public static let empty = SetDigest(count: 0, sum: (0, 0, 0, 0))

    private init(count: UInt64, sum: (UInt64, UInt64, UInt64, UInt64)) {
        self.count = count
        self.sum = sum
    }

    /// Adds a version to the set.
    public mutating func insert(_ element: DigestElement) {
        sum = Self.add(sum, element.words)
        count &+= 1
    }

    /// Removes a version that the set holds.
    public mutating func remove(_ element: DigestElement) {
        sum = Self.subtract(sum, element.words)
        count &-= 1
    }

    /// Compares digests (sets).
    public static func == (lhs: SetDigest, rhs: SetDigest) -> Bool {
        lhs.count == rhs.count && lhs.sum == rhs.sum
    }

    /// 40 bytes: the sum, then the count, both big-endian. Secret: seal or MAC it, never store it in clear.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(40)
        for word in [sum.0, sum.1, sum.2, sum.3, count] {
            withUnsafeBytes(of: word.bigEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Reads what ``bytes`` wrote; `nil` for anything else.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 40 else { return nil }
        func word(_ index: Int) -> UInt64 {
            bytes[(index * 8)..<(index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(count: word(4), sum: (word(0), word(1), word(2), word(3)))
    }

    // Big-endian limbs: .0 is the most significant word.
    private static func add(
        _ a: (UInt64, UInt64, UInt64, UInt64), _ b: (UInt64, UInt64, UInt64, UInt64)
    ) -> (UInt64, UInt64, UInt64, UInt64) {
        let (w3, c3) = a.3.addingReportingOverflow(b.3)
        let (t2, c2a) = a.2.addingReportingOverflow(b.2)
        let (w2, c2b) = t2.addingReportingOverflow(c3 ? 1 : 0)
        let (t1, c1a) = a.1.addingReportingOverflow(b.1)
        let (w1, c1b) = t1.addingReportingOverflow((c2a || c2b) ? 1 : 0)
        let w0 = a.0 &+ b.0 &+ ((c1a || c1b) ? 1 : 0)
        return (w0, w1, w2, w3)
    }

    private static func subtract(
        _ a: (UInt64, UInt64, UInt64, UInt64), _ b: (UInt64, UInt64, UInt64, UInt64)
    ) -> (UInt64, UInt64, UInt64, UInt64) {
        let (w3, b3) = a.3.subtractingReportingOverflow(b.3)
        let (t2, b2a) = a.2.subtractingReportingOverflow(b.2)
        let (w2, b2b) = t2.subtractingReportingOverflow(b3 ? 1 : 0)
        let (t1, b1a) = a.1.subtractingReportingOverflow(b.1)
        let (w1, b1b) = t1.subtractingReportingOverflow((b2a || b2b) ? 1 : 0)
        let w0 = a.0 &- b.0 &- ((b1a || b1b) ? 1 : 0)
        return (w0, w1, w2, w3)
    }
}
