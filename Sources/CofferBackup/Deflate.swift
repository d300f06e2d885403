import CCofferZlib
import CofferModel
import Foundation

/// zlib (RFC 1950) compression of a backup body, through the system's libz.
enum Deflate {
    /// Input per piece compressed in parallel (see ``compress(_:)``).
    static let pieceSize = 1 << 20
    /// What each piece after the first is primed with: deflate's whole window.
    static let windowSize = 32 * 1024

    /// Compresses `data` at the default level. A large body (an automatic backup of 100,000 items is
    /// about 40 MB) is compressed a piece at a time on every core, as pigz does: each piece is
    /// primed with the 32 KiB before it, ends on a byte boundary (a sync flush), and the last one
    /// ends the stream, so the pieces joined are one ordinary zlib stream that any reader, and every
    /// earlier Coffer, opens. It was half of making a backup.
    static func compress(_ data: Data) throws(BackupError) -> Data {
        guard data.count >= 2 * pieceSize else { return try compressWhole(data) }
        let starts = Array(stride(from: 0, to: data.count, by: pieceSize))
        let pieces = try data.withUnsafeBytes { whole in
            let bytes = SendableBytes(whole.bindMemory(to: UInt8.self))
            return Result { () throws(BackupError) in
                try ParallelMap.map(starts, threshold: 1) { start throws(BackupError) -> [UInt8] in
                    let end = min(start + pieceSize, bytes.buffer.count)
                    let primer = UnsafeBufferPointer(rebasing: bytes.buffer[max(0, start - windowSize)..<start])
                    let piece = UnsafeBufferPointer(rebasing: bytes.buffer[start..<end])
                    return try rawDeflate(piece, primedWith: primer, finishing: end == bytes.buffer.count)
                }
            }
        }.get()
        var output = Data([0x78, 0x9C])  // zlib header: deflate, 32 KiB window, default level
        output.reserveCapacity(2 + pieces.reduce(0) { $0 + $1.count } + 4)
        for piece in pieces { output.append(contentsOf: piece) }
        let checksum = data.withUnsafeBytes { raw in
            UInt32(adler32(1, raw.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count)))
        }
        withUnsafeBytes(of: checksum.bigEndian) { output.append(contentsOf: $0) }
        return output
    }

    /// Raw deflate (no zlib header or trailer) of `piece`, with `primer` as the preceding text; a
    /// sync flush ends it on a byte boundary unless it is the last piece.
    private static func rawDeflate(
        _ piece: UnsafeBufferPointer<UInt8>, primedWith primer: UnsafeBufferPointer<UInt8>, finishing: Bool
    ) throws(BackupError) -> [UInt8] {
        var stream = z_stream()
        let started = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        guard started == Z_OK else { throw .io("compression failed (zlib status \(started))") }
        defer { deflateEnd(&stream) }
        if !primer.isEmpty {
            let primed = deflateSetDictionary(&stream, primer.baseAddress, uInt(primer.count))
            guard primed == Z_OK else { throw .io("compression failed (zlib status \(primed))") }
        }
        // A sync flush adds at most a few bytes past the bound.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(piece.count))) + 16)
        let status = output.withUnsafeMutableBufferPointer { target in
            stream.next_in = UnsafeMutablePointer(mutating: piece.baseAddress)
            stream.avail_in = uInt(piece.count)
            stream.next_out = target.baseAddress
            stream.avail_out = uInt(target.count)
            return deflate(&stream, finishing ? Z_FINISH : Z_SYNC_FLUSH)
        }
        guard status == (finishing ? Z_STREAM_END : Z_OK), stream.avail_in == 0 else {
            throw .io("compression failed (zlib status \(status))")
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// `data` compressed in one piece.
    static func compressWhole(_ data: Data) throws(BackupError) -> Data {
        var bound = compressBound(uLong(data.count))
        var output = Data(count: Int(bound))
        let status = output.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                compress2(
                    target.bindMemory(to: Bytef.self).baseAddress, &bound,
                    source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw .io("compression failed (zlib status \(status))") }
        output.count = Int(bound)
        return output
    }

    /// Decompresses into exactly `expectedCount` bytes; anything else is a damaged backup.
    static func decompress(_ data: Data, expectedCount: Int) throws(BackupError) -> Data {
        guard expectedCount >= 0, expectedCount <= BackupFormat.maximumBodySize else {
            throw .damaged("its body claims \(expectedCount) bytes, more than a backup may hold")
        }
        var length = uLongf(expectedCount)
        var output = Data(count: max(expectedCount, 1))
        let status = output.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                uncompress(
                    target.bindMemory(to: Bytef.self).baseAddress, &length,
                    source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count))
            }
        }
        guard status == Z_OK, Int(length) == expectedCount else {
            throw .damaged("its body does not decompress (zlib status \(status))")
        }
        output.count = expectedCount
        return output
    }
}

/// The body's bytes, read by the pieces' workers.
///
/// `@unchecked Sendable` is sound: the buffer is only read, and only while `compress` waits for the
/// workers inside `withUnsafeBytes`.
private struct SendableBytes: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>

    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }
}
