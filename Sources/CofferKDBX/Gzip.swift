import CCofferZlib
import Foundation

/// The gzip framing KDBX uses for its payload, streamed through the system's zlib so the size
/// need not be known in advance.
enum Gzip {
    /// The largest payload inflated: 1 GiB, well past any real database, short of a zip bomb.
    static let maximumInflatedSize = 1 << 30

    static func compress(_ input: [UInt8]) throws(KDBXError) -> [UInt8] {
        try run(input, inflating: false)
    }

    static func decompress(_ input: [UInt8]) throws(KDBXError) -> [UInt8] {
        try run(input, inflating: true)
    }

    private static func run(_ input: [UInt8], inflating: Bool) throws(KDBXError) -> [UInt8] {
        var stream = z_stream()
        let windowBits: Int32 = 15 + 16  // gzip header and trailer
        let initStatus =
            inflating
            ? inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            : deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw .damaged("zlib could not start (status \(initStatus))") }
        defer { _ = inflating ? inflateEnd(&stream) : deflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(inflating ? input.count * 4 : input.count / 2 + 64)
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            var status: Int32 = Z_OK
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return inflating ? inflate(&stream, Z_NO_FLUSH) : deflate(&stream, Z_FINISH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maximumInflatedSize { return Z_MEM_ERROR }
                if inflating, status == Z_OK, produced == 0, stream.avail_in == 0 { return Z_BUF_ERROR }
            } while status == Z_OK
            return status
        }
        guard status == Z_STREAM_END else {
            if status == Z_MEM_ERROR { throw .damaged("its payload inflates past \(maximumInflatedSize >> 20) MiB") }
            throw .damaged(inflating ? "its payload does not decompress (truncated or not gzip)" : "compression failed")
        }
        return output
    }
}
