import Foundation

/// KeePass's typed key–value map (KDBX 4 "VariantDictionary"), which carries the key-derivation
/// parameters: version u16, then entries of type u8, name and value with i32 lengths, then a 0 byte.
struct VariantDictionary: Equatable {
    enum Value: Equatable {
        case uint32(UInt32)
        case uint64(UInt64)
        case bool(Bool)
        case int32(Int32)
        case int64(Int64)
        case string(String)
        case bytes([UInt8])
    }

    private(set) var entries: [(name: String, value: Value)] = []

    static func == (lhs: VariantDictionary, rhs: VariantDictionary) -> Bool {
        lhs.entries.map(\.name) == rhs.entries.map(\.name) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }

    subscript(name: String) -> Value? {
        get { entries.first { $0.name == name }?.value }
        set {
            entries.removeAll { $0.name == name }
            if let newValue { entries.append((name, newValue)) }
        }
    }

    init() {}

    init(parsing bytes: [UInt8]) throws(KDBXError) {
        var reader = ByteReader(bytes)
        let version = try reader.integer(UInt16.self, "the key-derivation parameters' version")
        guard version >> 8 == 1 else {
            throw .damaged("its key-derivation parameters have version \(version >> 8), not 1")
        }
        while true {
            let type = try reader.integer(UInt8.self, "a key-derivation parameter")
            if type == 0 { break }
            let name = String(
                decoding: try reader.take(try reader.length("a parameter name"), "a parameter name"), as: UTF8.self)
            let raw = try reader.take(try reader.length("parameter \(name)"), "parameter \(name)")
            var value = ByteReader(raw)
            func exact(_ size: Int) throws(KDBXError) {
                guard raw.count == size else { throw .damaged("parameter \(name) has \(raw.count) bytes, not \(size)") }
            }
            switch type {
            case 0x04:
                try exact(4)
                self[name] = .uint32(try value.integer(UInt32.self, name))
            case 0x05:
                try exact(8)
                self[name] = .uint64(try value.integer(UInt64.self, name))
            case 0x08:
                try exact(1)
                self[name] = .bool(raw[0] != 0)
            case 0x0C:
                try exact(4)
                self[name] = .int32(try value.integer(Int32.self, name))
            case 0x0D:
                try exact(8)
                self[name] = .int64(try value.integer(Int64.self, name))
            case 0x18: self[name] = .string(String(decoding: raw, as: UTF8.self))
            case 0x42: self[name] = .bytes(raw)
            default: throw .damaged("parameter \(name) has unknown type \(type)")
            }
        }
    }

    var serialized: [UInt8] {
        var writer = ByteWriter()
        writer.integer(UInt16(0x0100))
        for (name, value) in entries {
            let (type, raw): (UInt8, [UInt8]) =
                switch value {
                case .uint32(let number): (0x04, number.littleEndianBytes)
                case .uint64(let number): (0x05, number.littleEndianBytes)
                case .bool(let flag): (0x08, [flag ? 1 : 0])
                case .int32(let number): (0x0C, number.littleEndianBytes)
                case .int64(let number): (0x0D, number.littleEndianBytes)
                case .string(let text): (0x18, Array(text.utf8))
                case .bytes(let bytes): (0x42, bytes)
                }
            writer.integer(type)
            writer.integer(UInt32(name.utf8.count))
            writer.append(name.utf8)
            writer.integer(UInt32(raw.count))
            writer.append(raw)
        }
        writer.integer(UInt8(0))
        return writer.bytes
    }

    func unsigned(_ name: String) -> UInt64? {
        switch self[name] {
        case .uint32(let value): UInt64(value)
        case .uint64(let value): value
        case .int32(let value) where value >= 0: UInt64(value)
        case .int64(let value) where value >= 0: UInt64(value)
        default: nil
        }
    }

    func bytes(_ name: String) -> [UInt8]? {
        if case .bytes(let value) = self[name] { return value }
        return nil
    }
}
