import CofferCrypto
import CofferFiles
import CofferVault
import Foundation

/// The session's index, sealed on disk beside the vault file, so that unlocking a large vault opens
/// only the records that changed since it was written instead of every one (at 100,000 items,
/// opening was three quarters of unlocking).
///
/// It is a cache, never an authority. Each entry carries the SHA-256 of the sealed record it was
/// made from, and a session uses an entry only for a record whose content hashes the same and has
/// just passed the whole-file check against the vault's sealed digest. So a stale, older, foreign or
/// damaged cache makes unlocking slower, never wrong: it cannot add, hide, change or roll back an
/// item. It is sealed under the account key (purpose `index-cache`, bound to the account, the key
/// epoch and the format) and holds what the index holds — titles, subtitles, tags, types, flags,
/// dates and the folded search text of subtitle, URLs and tags — never a password, note or field
/// value. Writing it is best effort: a file that cannot be written is simply not there next time.
struct IndexCache {
    /// Bump when an entry's fields or `FuzzyMatcher.fold` change: caches in another format are ignored.
    static let formatVersion: UInt8 = 1
    private static let magic = Array("coffer-index".utf8)

    /// The cache file.
    let path: String

    /// The cache of the vault file at `vaultFile`: beside it, named after it as SQLite names its own
    /// companions (`vault.sqlite-index`).
    init(vaultFile: String) { path = vaultFile + "-index" }

    /// The cached index, with the fingerprint of the record each entry was made from by position;
    /// `nil` when there is no cache, or it is of another account, epoch or format, or does not open,
    /// or does not read exactly.
    func load(keyring: Keyring) -> (index: SearchIndex, fingerprints: [ContentFingerprint])? {
        guard let file = FileManager.default.contents(atPath: path), file.count > Self.magic.count + 1,
            file.prefix(Self.magic.count).elementsEqual(Self.magic),
            file[file.startIndex + Self.magic.count] == Self.formatVersion,
            let box = try? SealedBox(bytes: Data(file.dropFirst(Self.magic.count + 1))),
            let plaintext = try? box.open(with: keyring.accountKey, context: Self.context(keyring))
        else { return nil }
        return plaintext.withUnsafeBytes { SearchIndex.decoded($0) }
    }

    /// Writes `index` (each entry with the fingerprint `fingerprint` gives its record) in place of
    /// the cache, with ``OwnerOnlyFile``: a reader sees the old cache or the new one.
    func save(_ index: SearchIndex, fingerprint: (UUID) -> ContentFingerprint?, keyring: Keyring) throws {
        let box = SealedBox.seal(
            index.encoded(fingerprint: fingerprint), with: keyring.accountKey, context: Self.context(keyring))
        var file = Data(Self.magic)
        file.append(Self.formatVersion)
        file.append(box.bytes)
        try OwnerOnlyFile.write(file, to: path, existing: .replace)
    }

    private static func context(_ keyring: Keyring) -> SealContext {
        SealContext(purpose: .indexCache, accountID: keyring.accountID, epoch: keyring.epoch, extra: [formatVersion])
    }
}

/// SHA-256 of a record's sealed content, as four words: compared without an allocation per record.
struct ContentFingerprint: Equatable, Sendable {
    static let byteCount = 32
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The fingerprint of a 32-byte hash.
    init(_ hash: [UInt8]) {
        precondition(hash.count == Self.byteCount, "a content fingerprint is a SHA-256 hash")
        func word(_ at: Int) -> UInt64 { hash[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        words = (word(0), word(8), word(16), word(24))
    }

    /// The hash, as the bytes it was made from.
    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for word in [words.0, words.1, words.2, words.3] { withUnsafeBytes(of: word.bigEndian) { bytes += $0 } }
        return bytes
    }

    static func == (lhs: ContentFingerprint, rhs: ContentFingerprint) -> Bool { lhs.words == rhs.words }
}
