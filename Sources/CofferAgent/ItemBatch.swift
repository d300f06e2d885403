public import CofferModel
import CofferVault
public import Foundation

/// Values that cross the agent's socket in bulk: each written as bytes of its own into the frame's
/// item section, and read back from them, instead of through `JSONEncoder` and `JSONDecoder` on the
/// whole array (a quarter of a 100,000-row import, most of listing 100,000 items).
public protocol SectionElement: Codable, Sendable, Equatable {
    /// Appends `element`'s bytes.
    static func write(_ element: Self, into bytes: inout [UInt8])
    /// The elements `objects` hold, in order; `AgentProtocol.malformed` for any that does not read.
    static func read(_ objects: [Data]) throws -> [Self]
}

/// Many values in the frame's item section; the JSON envelope holds only the batch's number.
/// Outside a frame (an encoder without an item section) it is a plain array.
public struct Batch<Element: SectionElement>: Codable, Sendable, Equatable {
    /// The values, in order.
    public var elements: [Element]

    /// A batch of `elements`.
    public init(_ elements: [Element]) { self.elements = elements }

    /// Adds the elements to the frame's item section and encodes the batch's number, or encodes
    /// the elements themselves outside a frame.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let section = encoder.userInfo[ItemSection.key] as? ItemSection.Writer else {
            return try container.encode(elements)
        }
        try container.encode(section.add(elements, Element.write))
    }

    /// Reads the batch the number names from the frame's item section, or an array outside a frame.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let section = decoder.userInfo[ItemSection.key] as? ItemSection.Reader else {
            elements = try container.decode([Element].self)
            return
        }
        elements = try Element.read(section.objects(ofBatch: try container.decode(Int.self)))
    }
}

/// Whole items (an import, a listing for export, recovered items).
public typealias ItemBatch = Batch<Item>

/// Item summaries (`coffer list` and `coffer search`).
public typealias SummaryBatch = Batch<ItemSummary>

extension Item: SectionElement {
    /// The item's JSON as its sealed content has it (`ItemJSONWriter`).
    public static func write(_ element: Item, into bytes: inout [UInt8]) {
        ItemJSONWriter.write(element, into: &bytes)
    }

    /// Read on every core with `ItemJSONReader`; anything not in its exact shape goes to `JSONDecoder`.
    public static func read(_ objects: [Data]) throws -> [Item] {
        try ParallelMap.map(objects) { object in
            if let item = ItemJSONReader.item(object) { return item }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            do {
                return try decoder.decode(Item.self, from: object)
            } catch {
                throw AgentProtocol.malformed
            }
        }
    }
}

extension ItemSummary: SectionElement {
    /// Appends the summary's fields (see `write(into:)`).
    public static func write(_ element: ItemSummary, into bytes: inout [UInt8]) { element.write(into: &bytes) }

    /// Reads each summary's fields, refusing any that do not add up exactly.
    public static func read(_ objects: [Data]) throws -> [ItemSummary] {
        try objects.map { object in
            var fields = FieldReader(object)
            guard let summary = ItemSummary(reading: &fields), fields.isAtEnd else { throw AgentProtocol.malformed }
            return summary
        }
    }
}

extension ItemSummary {
    /// Id (16 bytes), type, title, subtitle, tag count and tags, flags (1: favourite, 2: trashed),
    /// modified (the bits of seconds since 2001, so the date comes back exactly).
    fileprivate func write(into bytes: inout [UInt8]) {
        withUnsafeBytes(of: id.uuid) { bytes += $0 }
        for text in [type.rawValue, title, subtitle] { FieldReader.append(text, to: &bytes) }
        FieldReader.append(UInt32(tags.count), to: &bytes)
        for tag in tags { FieldReader.append(tag, to: &bytes) }
        bytes.append((isFavorite ? 1 : 0) | (isTrashed ? 2 : 0))
        withUnsafeBytes(of: modified.timeIntervalSinceReferenceDate.bitPattern.bigEndian) { bytes += $0 }
    }

    fileprivate init?(reading fields: inout FieldReader) {
        guard
            let id = fields.bytes(16).map({ bytes in
                Array(bytes).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
            }),
            let type = fields.string().flatMap(ItemType.init(rawValue:)), let title = fields.string(),
            let subtitle = fields.string(), let tagCount = fields.integer()
        else { return nil }
        var tags: [String] = []
        for _ in 0..<tagCount {
            guard let tag = fields.string() else { return nil }
            tags.append(tag)
        }
        guard let flags = fields.bytes(1)?.first, let modified = fields.bytes(8) else { return nil }
        self.id = id
        self.type = type
        self.title = title
        self.subtitle = subtitle
        self.tags = tags
        isFavorite = flags & 1 != 0
        isTrashed = flags & 2 != 0
        self.modified = Date(
            timeIntervalSinceReferenceDate: Double(bitPattern: modified.reduce(0) { $0 << 8 | UInt64($1) }))
    }
}

/// Reads length-prefixed fields, refusing any length past the end instead of reading it.
private struct FieldReader {
    private let data: Data
    private var cursor: Data.Index

    init(_ data: Data) {
        self.data = data
        cursor = data.startIndex
    }

    var isAtEnd: Bool { cursor == data.endIndex }

    mutating func bytes(_ count: Int) -> Data? {
        guard count >= 0, data.endIndex - cursor >= count else { return nil }
        defer { cursor += count }
        return data[cursor..<(cursor + count)]
    }

    mutating func integer() -> Int? { bytes(4).map { $0.reduce(0) { $0 << 8 | Int($1) } } }

    mutating func string() -> String? {
        guard let length = integer(), let bytes = bytes(length) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    static func append(_ text: String, to bytes: inout [UInt8]) {
        append(UInt32(truncatingIfNeeded: text.utf8.count), to: &bytes)
        bytes += text.utf8
    }
}

/// The part of a frame after its JSON envelope: batches, each a 4-byte count followed by that many
/// objects, each a 4-byte length and the object's bytes (an item's JSON, a summary's fields).
enum ItemSection {
    static let key = CodingUserInfoKey(rawValue: "coffer.itemSection")!

    /// Collects the batches an envelope's encoding adds.
    ///
    /// `@unchecked Sendable` is sound: `bytes` and `batches` are only touched under `lock`; the
    /// encoder that holds it runs on one thread, the lock only satisfies `userInfo`'s `Sendable`.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        private var batches = 0

        /// Appends `elements`, each as `write` puts it into bytes, and returns the batch's number.
        func add<Element>(_ elements: [Element], _ write: (Element, inout [UInt8]) -> Void) throws -> Int {
            try lock.withLock {
                guard elements.count <= UInt32.max else { throw EncodingError.tooLarge }
                Self.appendLength(elements.count, to: &bytes)
                var object: [UInt8] = []
                for element in elements {
                    object.removeAll(keepingCapacity: true)
                    write(element, &object)
                    guard object.count <= UInt32.max else { throw EncodingError.tooLarge }
                    Self.appendLength(object.count, to: &bytes)
                    bytes += object
                }
                batches += 1
                return batches - 1
            }
        }

        var byteCount: Int { lock.withLock { bytes.count } }

        func append(to frame: inout Data) { lock.withLock { frame.append(contentsOf: bytes) } }

        private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: UInt32(length).bigEndian) { bytes += $0 }
        }
    }

    enum EncodingError: Error { case tooLarge }

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
            guard let batches, batches.indices.contains(number) else { throw AgentProtocol.malformed }
            return batches[number]
        }
    }
}
