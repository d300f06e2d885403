public import CofferAgentTransport
public import CofferModel
import CofferVault
public import Foundation

/// Whole items (an import, a listing for export, recovered items).
public typealias ItemBatch = Batch<Item>

/// Item summaries (`coffer list` and `coffer search`).
public typealias SummaryBatch = Batch<ItemSummary>

extension Item: SectionElement {
    /// The item's JSON as its sealed content has it (`ItemJSONWriter`).
    public static func write(_ element: Item, into bytes: inout [UInt8]) {
        ItemJSONWriter.write(element, into: &bytes)
    }

    /// Written on every core: a 100,000-row import's items were a fifth of the command's own work.
    public static func objects(_ elements: [Item]) -> [[UInt8]]? {
        ParallelMap.map(elements) { item in
            var bytes: [UInt8] = []
            ItemJSONWriter.write(item, into: &bytes)
            return bytes
        }
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
