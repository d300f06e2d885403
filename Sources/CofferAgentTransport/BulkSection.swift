public import Foundation

/// Values that cross the agent's socket in bulk: each written as bytes of its own into the frame's
/// bulk section, and read back from them, instead of through `JSONEncoder` and `JSONDecoder` on the
/// whole array (a quarter of a 100,000-row import, most of listing 100,000 items).
public protocol SectionElement: Codable, Sendable, Equatable {
    /// Appends `element`'s bytes.
    static func write(_ element: Self, into bytes: inout [UInt8])
    /// The elements `objects` hold, in order; throws for any that does not read.
    static func read(_ objects: [Data]) throws -> [Self]
    /// Every element's bytes, in order, for a type that writes many faster at once (on every core);
    /// `nil` has them written one by one with ``write(_:into:)``.
    static func objects(_ elements: [Self]) -> [[UInt8]]?
}

extension SectionElement {
    /// One by one, unless the type says otherwise.
    public static func objects(_ elements: [Self]) -> [[UInt8]]? { nil }
}

/// Many values in the frame's bulk section; the JSON envelope holds only the batch's number.
/// Outside a frame (an encoder without a bulk section) it is a plain array.
public struct Batch<Element: SectionElement>: Codable, Sendable, Equatable {
    /// The values, in order.
    public var elements: [Element]

    /// A batch of `elements`.
    public init(_ elements: [Element]) { self.elements = elements }

    /// Adds the elements to the frame's bulk section and encodes the batch's number, or encodes
    /// the elements themselves outside a frame.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let section = encoder.userInfo[BulkSection.key] as? BulkSection.Writer else {
            return try container.encode(elements)
        }
        if let objects = Element.objects(elements) { return try container.encode(section.add(objects)) }
        try container.encode(section.add(elements, Element.write))
    }

    /// Reads the batch the number names from the frame's bulk section, or an array outside a frame.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let section = decoder.userInfo[BulkSection.key] as? BulkSection.Reader else {
            elements = try container.decode([Element].self)
            return
        }
        elements = try Element.read(section.objects(ofBatch: try container.decode(Int.self)))
    }
}

/// The part of a frame after its JSON envelope: batches, each a 4-byte count followed by that many
/// objects, each a 4-byte length and the object's bytes (an item's JSON, a summary's fields).
enum BulkSection {
    static let key = CodingUserInfoKey(rawValue: "coffer.bulkSection")!

    /// Collects the batches an envelope's encoding adds.
    ///
    /// `@unchecked Sendable` is sound: `bytes` and `batches` are only touched under `lock`; the
    /// encoder that holds it runs on one thread, the lock only satisfies `userInfo`'s `Sendable`.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        private var batches = 0

        /// Appends `elements`, each as `write` appends it to the section, and returns the batch's
        /// number. Each element is written in place, after room for its length that is filled in
        /// once it is written: no element is copied again. `reserving` makes room for that many more
        /// bytes first, when the caller knows the total.
        func add<Element>(
            _ elements: [Element], reserving extra: Int = 0, _ write: (Element, inout [UInt8]) -> Void
        ) throws -> Int {
            try lock.withLock {
                guard elements.count <= UInt32.max else { throw TransportFailure.tooLarge }
                bytes.reserveCapacity(bytes.count + extra)
                Self.appendLength(elements.count, to: &bytes)
                for element in elements {
                    let lengthAt = bytes.count
                    Self.appendLength(0, to: &bytes)
                    write(element, &bytes)
                    let length = bytes.count - lengthAt - 4
                    guard length <= UInt32.max else { throw TransportFailure.tooLarge }
                    withUnsafeBytes(of: UInt32(length).bigEndian) { field in
                        for offset in 0..<4 { bytes[lengthAt + offset] = field[offset] }
                    }
                }
                batches += 1
                return batches - 1
            }
        }

        /// Appends objects already written and returns the batch's number.
        func add(_ objects: [[UInt8]]) throws -> Int {
            try add(objects, reserving: 4 + objects.reduce(0) { $0 + 4 + $1.count }) { object, bytes in bytes += object
            }
        }

        var byteCount: Int { lock.withLock { bytes.count } }

        func append(to frame: inout Data) { lock.withLock { frame.append(contentsOf: bytes) } }

        private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: UInt32(length).bigEndian) { bytes += $0 }
        }
    }

    /// Reads the batches of a received frame, each once; every length is checked against what is
    /// left, so a damaged or hostile frame is refused, never read past.
    struct Reader: Sendable {
        private let batches: [[Data]]?

        init(_ section: Data) {
            var batches: [[Data]] = []
            var cursor = section.startIndex
            func length() -> Int? {
                guard section.endIndex - cursor >= 4 else { return nil }
                let value = section[cursor..<(cursor + 4)].reduce(0) { $0 << 8 | Int($1) }
                cursor += 4
                return value
            }
            while cursor < section.endIndex {
                // Every item takes at least its 4-byte length, which bounds the count before any allocation.
                guard let count = length(), count <= (section.endIndex - cursor) / 4 else {
                    self.batches = nil
                    return
                }
                var objects: [Data] = []
                objects.reserveCapacity(count)
                for _ in 0..<count {
                    guard let size = length(), size <= section.endIndex - cursor else {
                        self.batches = nil
                        return
                    }
                    objects.append(section[cursor..<(cursor + size)])
                    cursor += size
                }
                batches.append(objects)
            }
            self.batches = batches
        }

        /// The objects of batch `number`, each the bytes one element was written as.
        func objects(ofBatch number: Int) throws -> [Data] {
            guard let batches, batches.indices.contains(number) else { throw TransportFailure.malformedFrame }
            return batches[number]
        }
    }
}
