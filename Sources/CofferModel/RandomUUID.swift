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
}
