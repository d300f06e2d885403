public import Foundation

/// Reads the sealed content's JSON (`{"revision":N,"item":{…}}`) straight into an `Item`, for
/// opening a vault of 100,000 items without `JSONDecoder`'s generic containers.
///
/// It takes only the exact shape `Item`'s `Codable` conformance writes (`ItemJSONWriter` or
/// `JSONEncoder` with `.millisecondsSince1970` dates) and gives `nil` for anything else, including
/// keys it does not know: the caller then decodes with `JSONDecoder`, which keeps today's behaviour
/// and error reporting for every unusual input. It never traps on any bytes.
public enum ItemJSONReader {
    /// The revision and item, or `nil` when the bytes are not in the expected shape.
    public static func sealedContent(_ data: Data) -> (revision: Int64, item: Item)? {
        data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self))
            return parser.sealedContent()
        }
    }

    /// One item as `ItemJSONWriter.write` writes it, or `nil` when the bytes are not in that shape.
    public static func item(_ data: Data) -> Item? {
        data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self))
            guard let item = parser.item() else { return nil }
            parser.skipWhitespace()
            return parser.index == parser.bytes.count ? item : nil
        }
    }

    /// The item's JSON inside sealed content that `ItemJSONWriter.sealedContent(revision:item:)`
    /// wrote for `revision` (`{"revision":N,"item":` and `}` around it), or `nil` when the bytes do
    /// not have exactly that frame. Only the frame is checked: the caller passes the item on.
    public static func itemJSON(inSealedContent data: Data, revision: Int64) -> Data? {
        let prefix = Array(#"{"revision":\#(revision),"item":"#.utf8)
        guard data.count > prefix.count + 2, data.starts(with: prefix), data.last == UInt8(ascii: "}"),
            data[data.startIndex + prefix.count] == UInt8(ascii: "{")
        else { return nil }
        return data[(data.startIndex + prefix.count)..<(data.endIndex - 1)]
    }

    /// The items of `{"items":[…]}` (a backup's body, as `ItemJSONWriter` writes each item), or
    /// `nil` when the bytes are not in exactly that shape.
    public static func itemList(_ data: Data) -> [Item]? {
        data.withUnsafeBytes { raw in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self))
            var items: [Item]?
            let complete = parser.object { parser, key in
                guard key == "items", items == nil else { return false }
                items = parser.array { $0.item() }
                return items != nil
            }
            parser.skipWhitespace()
            return complete && parser.index == parser.bytes.count ? items : nil
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func sealedContent() -> (Int64, Item)? {
            var revision: Int64?
            var item: Item?
            let complete = object { parser, key in
                switch key {
                case "revision":
                    revision = parser.integer()
                    return revision != nil
                case "item":
                    item = parser.item()
                    return item != nil
                default: return false
                }
            }
            skipWhitespace()
            guard complete, index == bytes.count, let revision, let item else { return nil }
            return (revision, item)
        }

        // MARK: The item

        mutating func item() -> Item? {
            var id: UUID?
            var type: ItemType?
            var title: String?
            var fields: [Field]?
            var customFields: [Field]?
            var urls: [String]?
            var notes: String?
            var tags: [String]?
            var isFavorite: Bool?
            var created: Date?
            var modified: Date?
            var history: [PasswordHistoryEntry]?
            var trashedAt: Date?
            var attachments: [Attachment] = []
            let complete = object { parser, key in
                switch key {
                case "id":
                    id = parser.string().flatMap { UUID(text: $0) }
                    return id != nil
                case "type":
                    type = parser.string().flatMap(ItemType.init(rawValue:))
                    return type != nil
                case "title":
                    title = parser.string()
                    return title != nil
                case "fields":
                    fields = parser.fieldList()
                    return fields != nil
                case "customFields":
                    customFields = parser.fieldList()
                    return customFields != nil
                case "urls":
                    urls = parser.array { $0.string() }
                    return urls != nil
                case "notes":
                    notes = parser.string()
                    return notes != nil
                case "tags":
                    tags = parser.array { $0.string() }
                    return tags != nil
                case "isFavorite":
                    isFavorite = parser.bool()
                    return isFavorite != nil
                case "created":
                    created = parser.date()
                    return created != nil
                case "modified":
                    modified = parser.date()
                    return modified != nil
                case "passwordHistory":
                    history = parser.array { $0.historyEntry() }
                    return history != nil
                case "trashedAt":
                    // Foundation's encoder leaves a nil date out; `null` is read as nil all the same.
                    if parser.null() { return true }
                    trashedAt = parser.date()
                    return trashedAt != nil
                case "attachments":
                    guard let list = parser.array({ $0.attachment() }) else { return false }
                    attachments = list
                    return true
                default: return false
                }
            }
            guard complete, let id, let type, let title, let fields, let customFields, let urls, let notes, let tags,
                let isFavorite, let created, let modified, let history
            else { return nil }
            var item = Item(id: id, type: type, title: title, now: created)
            item.fields = fields
            item.customFields = customFields
            item.urls = urls
            item.notes = notes
            item.tags = tags
            item.isFavorite = isFavorite
            item.modified = modified
            item.passwordHistory = history
            item.trashedAt = trashedAt
            item.attachments = attachments
            return item
        }

        mutating func fieldList() -> [Field]? {
            array { parser in
                var name: String?
                var kind: FieldKind?
                var value: String?
                let complete = parser.object { parser, key in
                    switch key {
                    case "name":
                        name = parser.string()
                        return name != nil
                    case "kind":
                        kind = parser.string().flatMap(FieldKind.init(rawValue:))
                        return kind != nil
                    case "value":
                        value = parser.string()
                        return value != nil
                    default: return false
                    }
                }
                guard complete, let name, let kind, let value else { return nil }
                return Field(name: name, kind: kind, value: value)
            }
        }

        mutating func historyEntry() -> PasswordHistoryEntry? {
            var fieldName: String?
            var value: String?
            var replacedAt: Date?
            let complete = object { parser, key in
                switch key {
                case "fieldName":
                    fieldName = parser.string()
                    return fieldName != nil
                case "value":
                    value = parser.string()
                    return value != nil
                case "replacedAt":
                    replacedAt = parser.date()
                    return replacedAt != nil
                default: return false
                }
            }
            guard complete, let fieldName, let value, let replacedAt else { return nil }
            return PasswordHistoryEntry(fieldName: fieldName, value: value, replacedAt: replacedAt)
        }

        mutating func attachment() -> Attachment? {
            var name: String?
            var data: Data?
            let complete = object { parser, key in
                switch key {
                case "name":
                    name = parser.string()
                    return name != nil
                case "data":
                    data = parser.string().flatMap { Data(base64Encoded: $0) }
                    return data != nil
                default: return false
                }
            }
            guard complete, let name, let data else { return nil }
            return Attachment(name: name, data: data)
        }

        mutating func date() -> Date? {
            guard let milliseconds = number(), milliseconds.isFinite else { return nil }
            return Date(timeIntervalSince1970: milliseconds / 1000)
        }

        // MARK: JSON

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Reads an object, handing each key to `member`, which reads the value and says whether it
        /// could. A member that reads nothing or fails makes the whole object fail.
        mutating func object(_ member: (inout Parser, String) -> Bool) -> Bool {
            guard consume(UInt8(ascii: "{")) else { return false }
            if consume(UInt8(ascii: "}")) { return true }
            while true {
                guard let key = string(), consume(UInt8(ascii: ":")), member(&self, key) else { return false }
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}"))
            }
        }

        /// Reads an array whose every element `element` reads; `nil` if one cannot be read.
        mutating func array<Element>(_ element: (inout Parser) -> Element?) -> [Element]? {
            guard consume(UInt8(ascii: "[")) else { return nil }
            var elements: [Element] = []
            if consume(UInt8(ascii: "]")) { return elements }
            while true {
                guard let value = element(&self) else { return nil }
                elements.append(value)
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]")) ? elements : nil
            }
        }

        mutating func bool() -> Bool? {
            if literal("true") { return true }
            if literal("false") { return false }
            return nil
        }

        mutating func null() -> Bool { literal("null") }

        mutating func literal(_ word: StaticString) -> Bool {
            skipWhitespace()
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { expected in
                (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
            }
            if matches { index += count }
            return matches
        }

        /// A JSON integer that fits an Int64, read exactly.
        mutating func integer() -> Int64? {
            skipWhitespace()
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index - start <= 20 else { return nil }
            return Int64(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        /// A JSON number as a Double (what `JSONDecoder` gives dates), from its exact text.
        mutating func number() -> Double? {
            skipWhitespace()
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                    UInt8(ascii: "e"), UInt8(ascii: "E"):
                    index += 1
                default:
                    guard index > start, index - start <= 64 else { return nil }
                    return Double(String(decoding: bytes[start..<index], as: UTF8.self))
                }
            }
            return nil
        }

        /// A JSON string, its escapes undone; `nil` for a malformed one or unpaired surrogates.
        mutating func string() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var highBits: UInt8 = 0
            // The common case: no escapes, decoded in one step.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                if bytes[index] < 0x20 { return nil }
                highBits |= bytes[index]
                index += 1
            }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") {
                defer { index += 1 }
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII is valid UTF-8 as it stands; only other text needs the (slower) validation.
                return highBits < 0x80 ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
            }
            var scalars = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escaped)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        scalars.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                case 0..<0x20: return nil
                default: scalars.append(byte)
                }
            }
            return nil
        }

        /// The scalar of `\uXXXX` (the `\u` read), joining a surrogate pair.
        mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let first = hexQuad() else { return nil }
            if (0xD800...0xDBFF).contains(first) {
                guard literal("\\u"), let second = hexQuad(), (0xDC00...0xDFFF).contains(second) else { return nil }
                return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            }
            return Unicode.Scalar(first)
        }

        mutating func hexQuad() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
    }
}
