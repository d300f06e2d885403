import Foundation

/// The wire form of `GET /api/v2/changes`: server-sent events whose only content is "the account
/// changed up to sequence N". Written by the server, read by devices, defined once here.
public enum ChangeAnnouncement {
    /// The first bytes of a stream, so the device knows the server accepted it.
    public static let greeting = ": connected\n\n"
    /// A comment that keeps the connection alive.
    public static let heartbeat = ": keep-alive\n\n"

    /// The event for `sequence`.
    public static func event(sequence: Int64) -> String {
        "event: changed\ndata: {\"sequence\":\(sequence)}\n\n"
    }

    /// The sequence a `data:` line of a `changed` event carries; `nil` for any other line, and for
    /// numbers no server writes (negative, or longer than 18 digits).
    public static func sequence(fromLine line: some Sequence<UInt8>) -> Int64? {
        let text = String(decoding: Array(line), as: UTF8.self)
        guard text.hasPrefix("data:"), let range = text.range(of: "\"sequence\":") else { return nil }
        let digits = text[range.upperBound...].drop { $0 == " " }.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        return Int64(digits)
    }
}
