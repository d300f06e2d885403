import Foundation

/// Reads little-endian integers and byte runs from a buffer, failing with `KDBXError.damaged`
/// (naming what was being read) instead of reading past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func take(_ count: Int, _ what: String) throws(KDBXError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .damaged("it ends inside \(what) (needs \(count) bytes, \(max(remaining, 0)) left)")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws(KDBXError) -> T {
        let raw = try take(MemoryLayout<T>.size, what)
        return raw.reversed().reduce(T(0)) { ($0 << 8) | T($1) }
    }

    /// One type–length–value field of a KDBX 4 header (outer or inner): id u8, length u32, value.
    mutating func field(_ what: String) throws(KDBXError) -> (id: UInt8, value: [UInt8]) {
        let id = try integer(UInt8.self, "a field of \(what)")
        return (id, try take(try length("field \(id) of \(what)"), "field \(id) of \(what)"))
    }

    /// A u32 length that must fit in what is left.
    mutating func length(_ what: String) throws(KDBXError) -> Int {
        let value = try integer(UInt32.self, "the length of \(what)")
        guard Int(value) <= remaining else {
            throw .damaged("\(what) claims \(value) bytes but only \(remaining) are left")
        }
        return Int(value)
    }
}

/// Appends little-endian integers and byte runs; the writing side of `ByteReader`.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ more: some Sequence<UInt8>) { bytes.append(contentsOf: more) }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a type–length–value header field, the writing side of `ByteReader.field`.
    mutating func field(_ id: UInt8, _ value: [UInt8]) {
        integer(id)
        integer(UInt32(value.count))
        append(value)
    }
}

extension FixedWidthInteger {
    /// The value's little-endian bytes, as KDBX stores every integer.
    var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
