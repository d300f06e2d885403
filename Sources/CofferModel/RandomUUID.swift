public import Foundation

extension UUID {
    /// A random (version 4, RFC 9562) UUID from the system's generator.
    ///
    /// Foundation's `UUID()` opens `/dev/urandom` for every UUID on Linux; making the 100,000 items of
    /// a large import spent more time in those `open` calls than in reading the file.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
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
        var utf8 = text.utf8.makeIterator()
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &bytes) { raw -> Bool in
            for index in 0..<16 {
                if [4, 6, 8, 10].contains(index) {
                    guard utf8.next() == UInt8(ascii: "-") else { return false }
                }
                guard let high = utf8.next().flatMap(Self.hexValue), let low = utf8.next().flatMap(Self.hexValue) else {
                    return false
                }
                raw[index] = high << 4 | low
            }
            return utf8.next() == nil
        }
        guard parsed else { return nil }
        self.init(uuid: bytes)
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
