import CCofferZlib
import Foundation

/// zlib (RFC 1950) compression of a backup body, through the system's libz.
enum Deflate {
    /// Compresses `data` at the default level.
    static func compress(_ data: Data) throws(BackupError) -> Data {
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
