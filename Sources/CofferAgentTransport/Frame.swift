public import Foundation

/// What travels in one message on the agent's socket: a JSON envelope, then the bulk section that
/// ``Batch`` values write their elements into.
///
/// The bytes are a 4-byte big-endian length of the envelope, the envelope (`JSONEncoder`), then the
/// bulk section. What an envelope holds (versions, calls, answers) is the application's business.
public enum Frame {
    /// The largest message either side accepts (a listing of a very large vault fits).
    public static let maximumLength = 512 * 1024 * 1024

    /// The frame of `envelope`, its batches written into the bulk section.
    public static func encode(_ envelope: some Encodable) throws -> Data {
        let section = BulkSection.Writer()
        let encoder = JSONEncoder()
        encoder.userInfo[BulkSection.key] = section
        let json = try encoder.encode(envelope)
        var length = UInt32(json.count).bigEndian
        var frame = Data(bytes: &length, count: 4)
        frame.reserveCapacity(4 + json.count + section.byteCount)
        frame.append(json)
        section.append(to: &frame)
        return frame
    }

    /// A frame split into its envelope's JSON and its bulk section; `nil` when the lengths do not add up.
    public struct Parts: Sendable {
        /// The envelope's JSON.
        public let envelope: Data
        let bulk: Data

        /// The parts of `frame`.
        public init?(_ frame: Data) {
            guard frame.count >= 4 else { return nil }
            let start = frame.startIndex
            let length = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            guard length <= frame.count - 4 else { return nil }
            envelope = frame[(start + 4)..<(start + 4 + length)]
            bulk = frame[(start + 4 + length)...]
        }

        /// Decodes the envelope as `type`, its batches read from the bulk section; every length is
        /// checked, so a damaged or hostile frame throws instead of being read past.
        public func decode<Envelope: Decodable>(_ type: Envelope.Type) throws -> Envelope {
            let decoder = JSONDecoder()
            decoder.userInfo[BulkSection.key] = BulkSection.Reader(bulk)
            return try decoder.decode(type, from: envelope)
        }
    }
}
