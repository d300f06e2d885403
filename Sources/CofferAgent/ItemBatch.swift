public import CofferModel
import Foundation

/// Many whole items crossing the agent's socket (an import, a listing for export).
///
/// Written by `ItemJSONWriter` into the frame's item section, one length-prefixed JSON object per
/// item, and read back with `ItemJSONReader` on every core; the JSON envelope holds only the batch's
/// number. `JSONEncoder` and `JSONDecoder` on `[Item]` were a quarter of a 100,000-row import.
/// Outside a frame (an encoder without an item section) it is a plain array of items.
public struct ItemBatch: Codable, Sendable, Equatable {
    /// The items, in order.
    public var items: [Item]

    /// A batch of `items`.
    public init(_ items: [Item]) { self.items = items }

    /// Adds the items to the frame's item section and encodes the batch's number, or encodes the
    /// items themselves outside a frame.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let section = encoder.userInfo[ItemSection.key] as? ItemSection.Writer else {
            return try container.encode(items)
        }
        try container.encode(section.add(items))
    }

    /// Reads the batch the number names from the frame's item section, or an array of items
    /// outside a frame.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let section = decoder.userInfo[ItemSection.key] as? ItemSection.Reader else {
            items = try container.decode([Item].self)
            return
        }
        items = try section.batch(try container.decode(Int.self))
    }
}

/// The part of a frame after its JSON envelope: batches of items, each a 4-byte count followed by
/// that many items, each a 4-byte length and the item's JSON.
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

        /// Appends `items` and returns the batch's number.
        func add(_ items: [Item]) throws -> Int {
            try lock.withLock {
                guard items.count <= UInt32.max else { throw EncodingError.tooLarge }
                Self.appendLength(items.count, to: &bytes)
                var object: [UInt8] = []
                for item in items {
                    object.removeAll(keepingCapacity: true)
                    ItemJSONWriter.write(item, into: &object)
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

        /// The items of batch `number`, read on every core when there are many.
        func batch(_ number: Int) throws -> [Item] {
            guard let batches, batches.indices.contains(number) else { throw AgentProtocol.malformed }
            return try ParallelMap.map(batches[number]) { object in
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
}
