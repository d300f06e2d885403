public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension UUID {
    /// A random (version 4, RFC 9562) UUID from the system's generator.
    ///
    /// Foundation's `UUID()` opens `/dev/urandom` for every UUID on Linux; making the 100,000 items of
    /// a large import spent more time in those `open` calls than in reading the file.
    public static func random() -> UUID {
        var bytes = RandomPool.shared.next()
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40  // version 4
            raw[8] = (raw[8] & 0x3F) | 0x80  // RFC 9562 variant
            return UUID(uuid: raw.load(as: uuid_t.self))
        }
    }

    /// Parses the 36-character text form (`8-4-4-4-12` hexadecimal digits, either case), as
    /// `UUID(uuidString:)` does, without Foundation's `sscanf`: opening 100,000 items parsed two
    /// ids each, and the parse was a twentieth of unlocking.
    public init?(text: some StringProtocol) {
        var text = String(text)
        guard let bytes = text.withUTF8(Self.parse) else { return nil }
        self.init(uuid: bytes)
    }

    /// The bytes of the text form in `utf8`, read in place (no iterator, no allocation: the parse of
    /// every id in a 100,000-record read was a tenth of making a backup through a generic iterator).
    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard utf8.count == 36 else { return nil }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &bytes) { raw -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard utf8[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = hexValue(utf8[position]), let low = hexValue(utf8[position + 1]) else { return false }
                raw[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return parsed ? bytes : nil
    }

    /// The 36-character lowercase text form, as `uuidString.lowercased()` writes it, without
    /// Foundation's `snprintf` and the second string lowercasing makes.
    public var lowercasedText: String { text(letters: UInt8(ascii: "a")) }

    /// The 36-character text form `uuidString` writes (upper case), without its `snprintf`: every
    /// item's JSON holds its id, and a backup of 100,000 items wrote each through it.
    public var uppercasedText: String { text(letters: UInt8(ascii: "A")) }

    /// The text form with hex digits past 9 starting at `letters`.
    private func text(letters: UInt8) -> String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { text in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = Self.hexDigit(raw[index] >> 4, letters)
                    text[position + 1] = Self.hexDigit(raw[index] & 0x0F, letters)
                    position += 2
                }
                return position
            }
        }
    }

    /// Whether this id's ``lowercasedText`` sorts before `other`'s, without making either text: the
    /// text is the bytes in order, written in hex digits that sort as their values do.
    public func sortsBefore(_ other: UUID) -> Bool {
        let (mine, theirs) = (bigEndianHalves, other.bigEndianHalves)
        return mine.high < theirs.high || (mine.high == theirs.high && mine.low < theirs.low)
    }

    private var bigEndianHalves: (high: UInt64, low: UInt64) {
        withUnsafeBytes(of: uuid) { raw in
            (
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
    }

    private static func hexDigit(_ value: UInt8, _ letters: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : letters + value - 10
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Random bytes for ids, taken from the system's generator 4 KiB at a time: sixteen `getrandom`
/// calls per 256 ids instead of two per id (a tenth of reading a 100,000-row import). The bytes are the
/// kernel's CSPRNG output all the same; each is handed out once.
private final class RandomPool: Sendable {
    static let shared = RandomPool()
    private static let size = 4096
    private let state = Mutex<(bytes: [UInt8], next: Int)>(([], size))

    /// The next 16 bytes.
    func next() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 16 > Self.size {
                state.bytes = Self.fill()
                state.next = 0
            }
            defer { state.next += 16 }
            return state.bytes.withUnsafeBytes { raw in
                (
                    raw.loadUnaligned(fromByteOffset: state.next, as: UInt64.self),
                    raw.loadUnaligned(fromByteOffset: state.next + 8, as: UInt64.self)
                )
            }
        }
    }

    private static func fill() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < size {
                #if canImport(Glibc)
                    // getentropy(3): the kernel's getrandom, at most 256 bytes a call.
                    if getentropy(raw.baseAddress! + offset, 256) == 0 {
                        offset += 256
                        continue
                    }
                #endif
                // No getentropy (or it failed): the standard library's generator, 8 bytes at a time.
                raw.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
        }
        return bytes
    }
}
