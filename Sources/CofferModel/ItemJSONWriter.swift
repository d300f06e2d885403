public import Foundation

/// Writes items as JSON directly into bytes: the same JSON values `Item`'s `Codable` conformance
/// gives under a `JSONEncoder` with `.millisecondsSince1970` dates (the sealed content's format), so
/// every existing reader reads it, without the encoder's generic containers.
///
/// Foundation's encoder was a quarter of the agent's time when sealing a 100,000-item import; this
/// writer took that to a tenth. JSON stays the content format of vaults whose account may have
/// older devices, and of backups and agent frames (``ItemCompactEncoding`` says when a vault writes
/// format 2). Keys are written in `Item.CodingKeys` order; an item without attachments has no
/// `attachments` key, as before.
public enum ItemJSONWriter {
    /// `{"revision":N,"item":{…}}`: the plaintext sealed in an item's content box.
    public static func sealedContent(revision: Int64, item: Item) -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(512 + item.notes.utf8.count)
        output.append(contentsOf: #"{"revision":"#.utf8)
        output.append(contentsOf: String(revision).utf8)
        output.append(contentsOf: #","item":"#.utf8)
        write(item, into: &output)
        output.append(UInt8(ascii: "}"))
        return Data(output)
    }

    /// Appends `item` as a JSON object.
    public static func write(_ item: Item, into output: inout [UInt8]) {
        var object = ObjectWriter(output: output)
        object.key("id")
        object.string(item.id.uppercasedText)
        object.key("type")
        object.string(item.type.rawValue)
        object.key("title")
        object.string(item.title)
        object.key("fields")
        object.fields(item.fields)
        object.key("customFields")
        object.fields(item.customFields)
        object.key("urls")
        object.strings(item.urls)
        object.key("notes")
        object.string(item.notes)
        object.key("tags")
        object.strings(item.tags)
        object.key("isFavorite")
        object.raw(item.isFavorite ? "true" : "false")
        object.key("created")
        object.date(item.created)
        object.key("modified")
        object.date(item.modified)
        object.key("passwordHistory")
        object.array(item.passwordHistory) { writer, entry in
            writer.open()
            writer.key("fieldName")
            writer.string(entry.fieldName)
            writer.key("value")
            writer.string(entry.value)
            writer.key("replacedAt")
            writer.date(entry.replacedAt)
            writer.close()
        }
        if let trashedAt = item.trashedAt {
            object.key("trashedAt")
            object.date(trashedAt)
        }
        if !item.attachments.isEmpty {
            object.key("attachments")
            object.array(item.attachments) { writer, attachment in
                writer.open()
                writer.key("name")
                writer.string(attachment.name)
                writer.key("data")
                writer.string(attachment.data.base64EncodedString())
                writer.close()
            }
        }
        if !item.unknownMembers.isEmpty {
            for key in item.unknownMembers.keys.sorted() {
                object.memberKey(key)
                object.json(item.unknownMembers[key] ?? .null)
            }
        }
        output = object.finish()
    }

    /// Writes one JSON object (and the arrays and objects nested in it), keeping track of commas.
    struct ObjectWriter {
        var output: [UInt8]
        /// Whether the innermost open object or array has a member yet.
        private var hasMember: [Bool] = [false]

        init(output: [UInt8]) {
            self.output = output
            self.output.append(UInt8(ascii: "{"))
        }

        mutating func finish() -> [UInt8] {
            output.append(UInt8(ascii: "}"))
            return output
        }

        mutating func open() { begin(UInt8(ascii: "{")) }

        mutating func close() { end(UInt8(ascii: "}")) }

        /// Opens an array whose elements the caller writes one by one; ``endArray()`` closes it.
        mutating func beginArray() { begin(UInt8(ascii: "[")) }

        mutating func endArray() { end(UInt8(ascii: "]")) }

        private mutating func begin(_ bracket: UInt8) {
            separate()
            output.append(bracket)
            hasMember.append(false)
        }

        private mutating func end(_ bracket: UInt8) {
            hasMember.removeLast()
            output.append(bracket)
        }

        private mutating func separate() {
            if hasMember[hasMember.count - 1] { output.append(UInt8(ascii: ",")) }
            hasMember[hasMember.count - 1] = true
        }

        mutating func key(_ name: StaticString) {
            separate()
            output.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { output.append(contentsOf: $0) }
            output.append(contentsOf: #"":"#.utf8)
            // The value that follows is this member, not another.
            hasMember[hasMember.count - 1] = false
        }

        /// A member whose name is only known when the item is read (``Item/unknownMembers``).
        mutating func memberKey(_ name: String) {
            separate()
            ItemJSONWriter.appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            hasMember[hasMember.count - 1] = false
        }

        /// Any JSON value, as `JSONValue`'s `Codable` conformance writes it.
        mutating func json(_ value: JSONValue) {
            switch value {
            case .null: raw("null")
            case .bool(let flag): raw(flag ? "true" : "false")
            case .integer(let number):
                separate()
                output.append(contentsOf: String(number).utf8)
            case .number(let number):
                separate()
                // JSON has no infinities or NaN; a value read from JSON never is one.
                output.append(contentsOf: (number.isFinite ? "\(number)" : "null").utf8)
            case .string(let text): string(text)
            case .array(let elements): array(elements) { writer, element in writer.json(element) }
            case .object(let members):
                open()
                for name in members.keys.sorted() {
                    memberKey(name)
                    json(members[name] ?? .null)
                }
                close()
            }
        }

        mutating func raw(_ text: StaticString) {
            separate()
            text.withUTF8Buffer { output.append(contentsOf: $0) }
        }

        mutating func date(_ date: Date) {
            separate()
            let milliseconds = date.timeIntervalSince1970 * 1000
            // Whole milliseconds (nearly every date) print as integers; the rest round-trip as Double.
            if milliseconds == milliseconds.rounded(), abs(milliseconds) < 9.0e15 {
                output.append(contentsOf: String(Int64(milliseconds)).utf8)
            } else {
                output.append(contentsOf: "\(milliseconds)".utf8)
            }
        }

        mutating func string(_ text: String) {
            separate()
            ItemJSONWriter.appendString(text, to: &output)
        }

        /// A string given as UTF-8 bytes the caller has checked.
        mutating func string(utf8: UnsafeRawBufferPointer) {
            separate()
            ItemJSONWriter.appendString(utf8: utf8.bindMemory(to: UInt8.self), to: &output)
        }

        mutating func strings(_ texts: [String]) {
            array(texts) { writer, text in writer.string(text) }
        }

        mutating func fields(_ fields: [Field]) {
            array(fields) { writer, field in
                writer.open()
                writer.key("name")
                writer.string(field.name)
                writer.key("kind")
                writer.string(field.kind.rawValue)
                writer.key("value")
                writer.string(field.value)
                writer.close()
            }
        }

        mutating func array<Element>(_ elements: [Element], _ write: (inout ObjectWriter, Element) -> Void) {
            beginArray()
            for element in elements { write(&self, element) }
            endArray()
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything else
    /// as its UTF-8 bytes.
    static func appendString(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: $0, to: &output) }
    }

    /// ``appendString(_:to:)`` for text given as its UTF-8 bytes.
    static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape (nearly all of them) are copied whole.
        var runStart = 0
        for (index, byte) in bytes.enumerated()
        where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscape(byte, to: &output)
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
        case UInt8(ascii: "\n"): output.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): output.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): output.append(UInt8(ascii: "t"))
        default:
            output.append(contentsOf: "u00".utf8)
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
