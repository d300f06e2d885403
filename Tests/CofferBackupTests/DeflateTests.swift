import Foundation
import Testing

@testable import CofferBackup

/// A large backup body is deflated in pieces on every core; the pieces must join into one ordinary
/// zlib stream (zlib's own `uncompress` checks it, checksum included) that compresses as well.
@Suite("Deflate in pieces")
struct DeflateTests {
    /// Text like a backup body: items' JSON, alike but never equal.
    static func itemLikeText(_ count: Int) -> Data {
        var text = Data()
        var index = 0
        while text.count < count {
            text.append(
                contentsOf: Array(
                    #"{"id":"\#(index)","title":"Site \#(index)","fields":[{"name":"username","value":"user\#(index)@example.com"}]},"#
                        .utf8))
            index += 1
        }
        return text.prefix(count)
    }

    static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    @Test("every size around the piece boundaries round-trips, text and incompressible bytes alike")
    func roundTrips() throws {
        let piece = Deflate.pieceSize
        for count in [0, 1, 2 * piece - 1, 2 * piece, 2 * piece + 1, 3 * piece, 5 * piece + 12_345] {
            for data in [Self.itemLikeText(count), Self.randomBytes(count)] {
                let compressed = try Deflate.compress(data)
                #expect(try Deflate.decompress(compressed, expectedCount: data.count) == data, "\(count) bytes")
            }
        }
    }

    @Test("the pieces, each primed with the text before it, compress within 1% of one stream")
    func compressesAsWell() throws {
        let data = Self.itemLikeText(12 * Deflate.pieceSize + 777)
        let pieces = try Deflate.compress(data).count
        let whole = try Deflate.compressWhole(data).count
        #expect(Double(pieces) <= Double(whole) * 1.01, "\(pieces) bytes in pieces, \(whole) in one stream")
    }

    @Test("a damaged joined stream is refused, never read past")
    func damage() throws {
        let data = Self.itemLikeText(3 * Deflate.pieceSize)
        var compressed = try Deflate.compress(data)
        compressed[compressed.count - 2] ^= 0x01  // the checksum
        #expect(throws: BackupError.self) { try Deflate.decompress(compressed, expectedCount: data.count) }
    }
}
