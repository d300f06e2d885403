import Crypto
public import Foundation

/// An authenticated, key-committing ciphertext: `version ‖ commitment ‖ nonce ‖ ciphertext ‖ tag`.
///
/// ChaCha20-Poly1305 does not commit to its key, so each box also carries HMAC-SHA256 of a fixed
/// label under the key. It is checked first: a wrong key is told apart from tampering, and
/// partitioning-oracle attacks find nothing to exploit.
public struct SealedBox: Sendable, Equatable {
    /// The only format this build writes or reads.
    public static let formatVersion: UInt8 = 1
    static let commitmentLength = 32
    static let nonceLength = 12
    static let tagLength = 16
    static let overhead = 1 + commitmentLength + nonceLength + tagLength
    private static let commitmentLabel = Array("coffer/v1/key-commitment".utf8)

    /// The serialized box.
    public let bytes: Data

    /// Parses a serialized box, checking its length and version.
    public init(bytes: Data) throws(CofferCryptoError) {
        guard bytes.count >= Self.overhead else { throw .malformed("\(bytes.count) bytes is too short") }
        let version = bytes[bytes.startIndex]
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        self.bytes = bytes
    }

    /// Seals `plaintext` under `key`, binding `context`.
    public static func seal<Role: SealingKeyRole>(
        _ plaintext: some DataProtocol, with key: CofferKey<Role>, context: SealContext
    ) -> SealedBox {
        seal(plaintext, with: CommittedKey(key), context: context)
    }

    /// Seals `plaintext` under a key whose commitment was computed once.
    public static func seal<Role: SealingKeyRole>(
        _ plaintext: some DataProtocol, with key: CommittedKey<Role>, context: SealContext
    ) -> SealedBox {
        let nonce = ChaChaPoly.Nonce()
        // Sealing with a fresh random nonce and a 256-bit key cannot fail.
        guard
            let box = try? ChaChaPoly.seal(
                plaintext, using: key.key.symmetricKey, nonce: nonce,
                authenticating: context.associatedData)
        else { preconditionFailure("ChaChaPoly.seal failed with valid inputs") }
        var out = Data([formatVersion])
        out.append(contentsOf: key.commitment)
        out.append(box.combined)
        // Force-unwrap-free construction: the length and version are correct by construction.
        return SealedBox(unchecked: out)
    }

    private init(unchecked bytes: Data) { self.bytes = bytes }

    /// The key commitment this box carries: the same in every box sealed under one key, so a store
    /// of many of them may keep it once (``detached``, ``init(attaching:to:)``).
    public var commitment: Data { bytes[(bytes.startIndex + 1)..<(bytes.startIndex + 1 + Self.commitmentLength)] }

    /// The box after its version and commitment: nonce, ciphertext and tag.
    public var detached: Data { bytes[(bytes.startIndex + 1 + Self.commitmentLength)...] }

    /// The box that ``detached`` came from, given its key's commitment; checked as parsing checks.
    public init(attaching commitment: Data, to detached: Data) throws(CofferCryptoError) {
        guard commitment.count == Self.commitmentLength else {
            throw .malformed("a key commitment of \(commitment.count) bytes")
        }
        var bytes = Data([Self.formatVersion])
        bytes.reserveCapacity(1 + commitment.count + detached.count)
        bytes.append(commitment)
        bytes.append(detached)
        try self.init(bytes: bytes)
    }

    /// Opens the box with `key`, checking the commitment and then the tag against `context`.
    public func open<Role: SealingKeyRole>(
        with key: CofferKey<Role>, context: SealContext
    ) throws(CofferCryptoError) -> Data {
        try open(with: CommittedKey(key), context: context)
    }

    /// Opens the box with a key whose commitment was computed once, for a key that opens many boxes.
    public func open<Role: SealingKeyRole>(
        with key: CommittedKey<Role>, context: SealContext
    ) throws(CofferCryptoError) -> Data {
        let start = bytes.startIndex
        let storedCommitment = bytes[(start + 1)..<(start + 1 + Self.commitmentLength)]
        guard constantTimeEquals(Array(storedCommitment), key.commitment) else { throw .wrongKey }
        let combined = bytes[(start + 1 + Self.commitmentLength)...]
        do {
            let box = try ChaChaPoly.SealedBox(combined: combined)
            return try ChaChaPoly.open(box, using: key.key.symmetricKey, authenticating: context.associatedData)
        } catch {
            throw .tampered
        }
    }

    fileprivate static func commitment(for key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: commitmentLabel, using: key))
    }
}

/// A sealing key with its commitment (the HMAC every box it seals carries) computed once.
///
/// The account key opens every item key of a vault: at 100,000 items, recomputing the same HMAC for
/// each was a tenth of unlocking.
public struct CommittedKey<Role: SealingKeyRole>: Sendable {
    /// The key.
    public let key: CofferKey<Role>
    /// HMAC-SHA256 of the commitment label under `key`: no secret, every box sealed under `key`
    /// carries it.
    public let commitment: [UInt8]

    /// Computes `key`'s commitment.
    public init(_ key: CofferKey<Role>) {
        self.key = key
        commitment = SealedBox.commitment(for: key.symmetricKey)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

/// Random bytes from the system CSPRNG.
public func secureRandomBytes(count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
