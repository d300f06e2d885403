/// Reads the SSH wire encoding (RFC 4251 §5): big-endian `uint32`, length-prefixed `string` and
/// `mpint`. Every length is checked against what is left before anything is allocated, so a
/// hostile file or agent client can only produce an error.
struct SSHReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether everything has been read.
    var isAtEnd: Bool { offset == bytes.count }
    /// The bytes not read yet.
    var remaining: [UInt8] { Array(bytes[offset...]) }

    mutating func byte() throws(SSHWireError) -> UInt8 { try take(1)[0] }

    mutating func uint32() throws(SSHWireError) -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() throws(SSHWireError) -> [UInt8] {
        try take(Int(try uint32()))
    }

    /// A string that must be UTF-8 text (names, comments).
    mutating func text() throws(SSHWireError) -> String {
        guard let text = String(validating: try string(), as: UTF8.self) else { throw SSHWireError() }
        return text
    }

    /// A non-negative `mpint` as its big-endian magnitude, without leading zero bytes.
    mutating func mpint() throws(SSHWireError) -> [UInt8] {
        let raw = try string()
        guard raw.first.map({ $0 & 0x80 == 0 }) ?? true else { throw SSHWireError() }
        return Array(raw.drop { $0 == 0 })
    }

    mutating func take(_ count: Int) throws(SSHWireError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else { throw SSHWireError() }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}

/// The input ended early or held a value that cannot be there; callers say which input it was.
struct SSHWireError: Error {}

/// Writes the SSH wire encoding.
struct SSHWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func uint32(_ value: UInt32) { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }

    mutating func string(_ value: some Collection<UInt8>) {
        uint32(UInt32(value.count))
        bytes += value
    }

    mutating func string(_ value: String) { string(Array(value.utf8)) }

    /// A non-negative integer given as its big-endian magnitude.
    mutating func mpint(_ magnitude: [UInt8]) {
        let trimmed = Array(magnitude.drop { $0 == 0 })
        string(trimmed.first.map { $0 & 0x80 != 0 } == true ? [0] + trimmed : trimmed)
    }

    /// Appends bytes as they are, without a length.
    mutating func raw(_ value: some Collection<UInt8>) { bytes += value }
}
