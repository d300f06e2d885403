public import Foundation

/// Coffer's compact item encoding, content format 2: the plaintext sealed in an item's content box,
/// in about a third of the bytes of its JSON (format 1) and read without parsing text.
///
/// Decision (issue "Speed at 100,000 items", item encoding and one copy on disk): at 100,000
/// generated logins a record's JSON is 487 bytes, more than half of vault.sqlite. This encoding
/// writes the same values as tagged, length-prefixed bytes. It is not compressed, so a record's
/// length still depends only on the lengths of its values (a server that sees lengths learns
/// nothing it did not learn from JSON). A vault writes it only when no older Coffer can be reading
/// the account (``ItemContentFormat``); every build from this one reads both formats, told apart by
/// the first byte (JSON's is `{`).
///
/// Layout (docs/formats/vault.md): the marker `0x02`; the revision; the type; a flags byte; title,
/// fields, custom fields, URLs, notes, tags, created, modified, password history; then the trash
/// date, attachments and members a newer Coffer added, each only when its flag is set. Integers are
/// LEB128 varints (signed ones zigzag), strings and byte strings a length and their bytes, lists a
/// count and their elements. The item's id is not repeated: the box binds it already, and the reader
/// is given it. Codes for types, kinds and common field names are fixed here: they are the format.
public enum ItemCompactEncoding {
    /// The first byte of content in this format.
    public static let marker: UInt8 = 0x02

    /// Why bytes are not an item in this format, for an error that names the record.
    public struct Malformed: Error, Equatable, Sendable {
        /// What is wrong, e.g. "the field kind 9 is unknown".
        public let reason: String
    }

    /// The plaintext sealed in an item's content box for `revision`.
    public static func sealedContent(revision: Int64, item: Item) -> Data {
        var writer = Writer()
        writer.output.reserveCapacity(128 + item.title.utf8.count + item.notes.utf8.count)
        writer.byte(marker)
        writer.signed(revision)
        writer.byte(Codes.code(of: item.type))
        var flags: UInt8 = 0
        if item.isFavorite { flags |= Flags.favorite }
        if item.trashedAt != nil { flags |= Flags.trashed }
        if !item.attachments.isEmpty { flags |= Flags.attachments }
        if !item.unknownMembers.isEmpty { flags |= Flags.unknownMembers }
        writer.byte(flags)
        writer.string(item.title)
        writer.fields(item.fields)
        writer.fields(item.customFields)
        writer.list(item.urls) { $0.string($1) }
        writer.string(item.notes)
        writer.list(item.tags) { $0.string($1) }
        writer.date(item.created)
        writer.date(item.modified, after: item.created)
        writer.list(item.passwordHistory) { writer, entry in
            writer.fieldName(entry.fieldName)
            writer.string(entry.value)
            writer.date(entry.replacedAt)
        }
        if let trashedAt = item.trashedAt { writer.date(trashedAt) }
        if !item.attachments.isEmpty {
            writer.list(item.attachments) { writer, attachment in
                writer.string(attachment.name)
                writer.bytes(attachment.data)
            }
        }
        if !item.unknownMembers.isEmpty { writer.members(item.unknownMembers) }
        return Data(writer.output)
    }

    /// Reads content this encoding wrote for the item `itemID`: its revision and the item.
    public static func sealedContent(_ data: Data, itemID: UUID) throws(Malformed) -> (revision: Int64, item: Item) {
        // A struct, not a tuple or a `Result`, crosses the generic closure: its type needs no
        // metadata made at run time, which a backup of 100,000 items paid for on every record.
        let read = data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw)
            do throws(Malformed) {
                return Read(content: try reader.sealedContent(itemID: itemID), failure: nil)
            } catch {
                return Read(content: nil, failure: error)
            }
        }
        if let failure = read.failure { throw failure }
        guard let content = read.content else { throw Malformed(reason: "it could not be read") }
        return (content.revision, content.item)
    }

    /// The JSON of the item that content written by this encoding for `itemID` at `revision` holds,
    /// byte for byte what `ItemJSONWriter.write` writes for it, made without building the `Item`:
    /// a backup takes every item as JSON, and building each one only to write it again was a
    /// quarter of backing up 100,000 compact records. Malformed bytes, or another revision, throw.
    public static func itemJSON(inSealedContent data: Data, itemID: UUID, revision: Int64) throws(Malformed) -> Data {
        let written = data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw)
            do throws(Malformed) {
                return Written(json: try reader.itemJSON(itemID: itemID, revision: revision), failure: nil)
            } catch {
                return Written(json: [], failure: error)
            }
        }
        if let failure = written.failure { throw failure }
        return Data(written.json)
    }

    /// What the JSON transcoder made of the bytes, or why not.
    private struct Written {
        var json: [UInt8]
        var failure: Malformed?
    }

    /// What the reader made of the bytes: the content, or why not.
    private struct Read {
        var content: Content?
        var failure: Malformed?
    }

    /// A revision and its item.
    private struct Content {
        var revision: Int64
        var item: Item
    }

    private enum Flags {
        static let favorite: UInt8 = 1
        static let trashed: UInt8 = 2
        static let attachments: UInt8 = 4
        static let unknownMembers: UInt8 = 8
        static let known: UInt8 = 15
    }

    /// The fixed codes of format 2. Never renumber: a code means what it meant when it was sealed.
    enum Codes {
        static func code(of type: ItemType) -> UInt8 {
            switch type {
            case .login: 1
            case .note: 2
            case .card: 3
            case .identity: 4
            case .bankAccount: 5
            case .wifi: 6
            case .sshKey: 7
            case .license: 8
            case .password: 9
            }
        }

        static func type(_ code: UInt8) -> ItemType? {
            switch code {
            case 1: .login
            case 2: .note
            case 3: .card
            case 4: .identity
            case 5: .bankAccount
            case 6: .wifi
            case 7: .sshKey
            case 8: .license
            case 9: .password
            default: nil
            }
        }

        static func code(of kind: FieldKind) -> UInt8 {
            switch kind {
            case .text: 1
            case .hidden: 2
            case .url: 3
            case .email: 4
            case .date: 5
            case .totp: 6
            }
        }

        static func kind(_ code: UInt8) -> FieldKind? {
            switch code {
            case 1: .text
            case 2: .hidden
            case 3: .url
            case 4: .email
            case 5: .date
            case 6: .totp
            default: nil
            }
        }

        /// Field names written as one byte: the templates' names when format 2 was made. A name
        /// added to a template later is written out in full, which every reader reads.
        static let fieldNames = [
            "username", "password", "totp", "cardholder", "number", "expiry", "cvv", "pin", "brand",
            "first-name", "last-name", "email", "phone", "address", "birthday", "company", "passport", "bank",
            "holder", "account-number", "routing-number", "iban", "bic", "ssid", "security", "private-key",
            "public-key", "fingerprint", "passphrase", "product", "version", "license-key", "licensed-to",
        ]

        static let fieldNameCodes = Dictionary(
            uniqueKeysWithValues: fieldNames.enumerated().map { ($0.element, UInt64($0.offset + 1)) })
    }

    /// The codes of a member value a newer Coffer added (``JSONValue``).
    private enum ValueCode {
        static let null: UInt8 = 0
        static let `false`: UInt8 = 1
        static let `true`: UInt8 = 2
        static let integer: UInt8 = 3
        static let number: UInt8 = 4
        static let string: UInt8 = 5
        static let array: UInt8 = 6
        static let object: UInt8 = 7
    }

    /// How deep nested member values may go: a bound on the reader's recursion, far past any JSON a
    /// Coffer writes (the JSON reader's own limit is the same).
    static let maximumDepth = 512

    private struct Writer {
        var output: [UInt8] = []

        mutating func byte(_ value: UInt8) { output.append(value) }

        mutating func unsigned(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                output.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            output.append(UInt8(rest))
        }

        mutating func signed(_ value: Int64) {
            unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
        }

        mutating func string(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                unsigned(UInt64(utf8.count))
                output.append(contentsOf: utf8)
            }
        }

        mutating func bytes(_ data: Data) {
            unsigned(UInt64(data.count))
            output.append(contentsOf: data)
        }

        mutating func list<Element>(_ elements: [Element], _ write: (inout Writer, Element) -> Void) {
            unsigned(UInt64(elements.count))
            for element in elements { write(&self, element) }
        }

        /// A common name as its code, any other as 0 and the name.
        mutating func fieldName(_ name: String) {
            if let code = Codes.fieldNameCodes[name] {
                unsigned(code)
            } else {
                unsigned(0)
                string(name)
            }
        }

        mutating func fields(_ fields: [Field]) {
            list(fields) { writer, field in
                writer.fieldName(field.name)
                writer.byte(Codes.code(of: field.kind))
                writer.string(field.value)
            }
        }

        /// Whole milliseconds since 1970 (nearly every date) as `zigzag(ms) << 1`; any other time as
        /// 1 and the milliseconds' 8 bytes, so a date comes back as the JSON format gives it. With
        /// `origin`: 3 for the same date (an item never edited: its modification date is its
        /// creation date), else for a whole date after a whole origin the milliseconds between.
        mutating func date(_ date: Date, after origin: Date? = nil) {
            if let origin, date == origin { return unsigned(3) }
            let milliseconds = date.timeIntervalSince1970 * 1000
            guard let whole = wholeMilliseconds(milliseconds) else {
                unsigned(1)
                withUnsafeBytes(of: milliseconds.bitPattern.littleEndian) { output.append(contentsOf: $0) }
                return
            }
            let start = origin.flatMap { wholeMilliseconds($0.timeIntervalSince1970 * 1000) } ?? 0
            let offset = whole - start
            unsigned(UInt64(bitPattern: (offset << 1) ^ (offset >> 63)) << 1)
        }

        /// `milliseconds` as an integer when it is one (well inside ±2^53, so an offset between two
        /// of them cannot overflow once shifted).
        private func wholeMilliseconds(_ milliseconds: Double) -> Int64? {
            milliseconds == milliseconds.rounded() && abs(milliseconds) < 9.0e15 ? Int64(milliseconds) : nil
        }

        /// Members in key order, so equal items encode to equal bytes.
        mutating func members(_ members: [String: JSONValue]) {
            unsigned(UInt64(members.count))
            for key in members.keys.sorted() {
                string(key)
                value(members[key] ?? .null)
            }
        }

        mutating func value(_ value: JSONValue) {
            switch value {
            case .null: byte(ValueCode.null)
            case .bool(let flag): byte(flag ? ValueCode.true : ValueCode.false)
            case .integer(let number):
                byte(ValueCode.integer)
                signed(number)
            case .number(let number):
                byte(ValueCode.number)
                withUnsafeBytes(of: number.bitPattern.littleEndian) { output.append(contentsOf: $0) }
            case .string(let text):
                byte(ValueCode.string)
                string(text)
            case .array(let elements):
                byte(ValueCode.array)
                list(elements) { $0.value($1) }
            case .object(let object):
                byte(ValueCode.object)
                members(object)
            }
        }
    }

    /// Reads the layout back, checking every length against the bytes left: no input traps.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func sealedContent(itemID: UUID) throws(Malformed) -> Content {
            guard try byte() == marker else { throw Malformed(reason: "it does not start with the format 2 marker") }
            let revision = try signed()
            let typeCode = try byte()
            guard let type = Codes.type(typeCode) else {
                throw Malformed(reason: "the item type \(typeCode) is unknown")
            }
            let flags = try byte()
            guard flags & ~Flags.known == 0 else { throw Malformed(reason: "the flags \(flags) are unknown") }
            let title = try string()
            var item = Item(id: itemID, type: type, title: title, fields: try fields())
            item.customFields = try fields()
            item.urls = try list { reader throws(Malformed) in try reader.string() }
            item.notes = try string()
            item.tags = try list { reader throws(Malformed) in try reader.string() }
            item.isFavorite = flags & Flags.favorite != 0
            item.created = try date()
            item.modified = try date(after: item.created)
            item.passwordHistory = try list { reader throws(Malformed) in
                PasswordHistoryEntry(
                    fieldName: try reader.fieldName(), value: try reader.string(), replacedAt: try reader.date())
            }
            if flags & Flags.trashed != 0 { item.trashedAt = try date() }
            if flags & Flags.attachments != 0 {
                item.attachments = try list { reader throws(Malformed) in
                    Attachment(name: try reader.string(), data: Data(try reader.slice(reader.length())))
                }
            }
            if flags & Flags.unknownMembers != 0 {
                item.unknownMembers = try members(depth: 1)
                guard item.unknownMembers.keys.allSatisfy(Item.isUnknownMemberName) else {
                    throw Malformed(reason: "a member a newer Coffer added has the name of a known one")
                }
            }
            guard index == bytes.count else {
                throw Malformed(reason: "\(bytes.count - index) bytes follow the item")
            }
            return Content(revision: revision, item: item)
        }

        /// The same walk as ``sealedContent(itemID:)``, writing JSON in `ItemJSONWriter`'s member
        /// order as it goes (tags as stored: the writer stores them normalized, as an `Item` holds them).
        mutating func itemJSON(itemID: UUID, revision expected: Int64) throws(Malformed) -> [UInt8] {
            guard try byte() == marker else { throw Malformed(reason: "it does not start with the format 2 marker") }
            guard try signed() == expected else { throw Malformed(reason: "it holds another revision") }
            let typeCode = try byte()
            guard let type = Codes.type(typeCode) else {
                throw Malformed(reason: "the item type \(typeCode) is unknown")
            }
            let flags = try byte()
            guard flags & ~Flags.known == 0 else { throw Malformed(reason: "the flags \(flags) are unknown") }
            var json = ItemJSONWriter.ObjectWriter(output: [])
            json.output.reserveCapacity(2 * bytes.count + 320)
            json.key("id")
            json.string(itemID.uppercasedText)
            json.key("type")
            json.string(type.rawValue)
            json.key("title")
            json.string(utf8: try utf8())
            for key: StaticString in ["fields", "customFields"] {
                json.key(key)
                try fieldsJSON(into: &json)
            }
            json.key("urls")
            try stringsJSON(into: &json)
            json.key("notes")
            json.string(utf8: try utf8())
            json.key("tags")
            try stringsJSON(into: &json)
            json.key("isFavorite")
            json.raw(flags & Flags.favorite != 0 ? "true" : "false")
            let created = try date()
            json.key("created")
            json.date(created)
            json.key("modified")
            json.date(try date(after: created))
            json.key("passwordHistory")
            json.beginArray()
            for _ in 0..<(try length()) {
                json.open()
                json.key("fieldName")
                json.string(try fieldName())
                json.key("value")
                json.string(utf8: try utf8())
                json.key("replacedAt")
                json.date(try date())
                json.close()
            }
            json.endArray()
            if flags & Flags.trashed != 0 {
                json.key("trashedAt")
                json.date(try date())
            }
            if flags & Flags.attachments != 0 {
                json.key("attachments")
                json.beginArray()
                for _ in 0..<(try length()) {
                    json.open()
                    json.key("name")
                    json.string(utf8: try utf8())
                    json.key("data")
                    json.string(Data(try slice(length())).base64EncodedString())
                    json.close()
                }
                json.endArray()
            }
            if flags & Flags.unknownMembers != 0 {
                let members = try members(depth: 1)
                guard members.keys.allSatisfy(Item.isUnknownMemberName) else {
                    throw Malformed(reason: "a member a newer Coffer added has the name of a known one")
                }
                for key in members.keys.sorted() {
                    json.memberKey(key)
                    json.json(members[key] ?? .null)
                }
            }
            guard index == bytes.count else { throw Malformed(reason: "\(bytes.count - index) bytes follow the item") }
            return json.finish()
        }

        /// A string's UTF-8 bytes, checked as ``string()`` checks them, without making a `String`
        /// of the (nearly always) ASCII ones.
        mutating func utf8() throws(Malformed) -> UnsafeRawBufferPointer {
            let utf8 = try slice(length())
            guard utf8.allSatisfy({ $0 < 0x80 }) || String(validating: utf8, as: UTF8.self) != nil else {
                throw Malformed(reason: "a text is not valid UTF-8")
            }
            return utf8
        }

        mutating func fieldsJSON(into json: inout ItemJSONWriter.ObjectWriter) throws(Malformed) {
            json.beginArray()
            for _ in 0..<(try length()) {
                json.open()
                json.key("name")
                json.string(try fieldName())
                let code = try byte()
                guard let kind = Codes.kind(code) else { throw Malformed(reason: "the field kind \(code) is unknown") }
                json.key("kind")
                json.string(kind.rawValue)
                json.key("value")
                json.string(utf8: try utf8())
                json.close()
            }
            json.endArray()
        }

        mutating func stringsJSON(into json: inout ItemJSONWriter.ObjectWriter) throws(Malformed) {
            json.beginArray()
            for _ in 0..<(try length()) { json.string(utf8: try utf8()) }
            json.endArray()
        }

        mutating func byte() throws(Malformed) -> UInt8 {
            guard index < bytes.count else { throw Malformed(reason: "it ends early") }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func unsigned() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64, shift < 63 || next <= 1 else { throw Malformed(reason: "a number is too large") }
                value |= UInt64(next & 0x7F) << shift
                if next < 0x80 { return value }
                shift += 7
            }
        }

        mutating func signed() throws(Malformed) -> Int64 {
            let zigzag = try unsigned()
            return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        }

        /// A length or count, which can never exceed the bytes left (each element takes at least one).
        mutating func length() throws(Malformed) -> Int {
            let value = try unsigned()
            guard value <= UInt64(bytes.count - index) else { throw Malformed(reason: "a length runs past the end") }
            return Int(value)
        }

        mutating func slice(_ count: Int) throws(Malformed) -> UnsafeRawBufferPointer {
            guard count <= bytes.count - index else { throw Malformed(reason: "it ends early") }
            defer { index += count }
            return UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)])
        }

        mutating func string() throws(Malformed) -> String {
            let utf8 = try slice(length())
            guard let text = String(validating: utf8, as: UTF8.self) else {
                throw Malformed(reason: "a text is not valid UTF-8")
            }
            return text
        }

        mutating func list<Element>(
            _ element: (inout Reader) throws(Malformed) -> Element
        ) throws(Malformed) -> [Element] {
            let count = try length()
            var elements: [Element] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try element(&self)) }
            return elements
        }

        mutating func fieldName() throws(Malformed) -> String {
            let code = try unsigned()
            if code == 0 { return try string() }
            guard code <= UInt64(Codes.fieldNames.count) else {
                throw Malformed(reason: "the field name \(code) is unknown")
            }
            return Codes.fieldNames[Int(code) - 1]
        }

        mutating func fields() throws(Malformed) -> [Field] {
            try list { reader throws(Malformed) in
                let name = try reader.fieldName()
                let code = try reader.byte()
                guard let kind = Codes.kind(code) else { throw Malformed(reason: "the field kind \(code) is unknown") }
                return Field(name: name, kind: kind, value: try reader.string())
            }
        }

        mutating func double() throws(Malformed) -> Double {
            var bits: UInt64 = 0
            for (position, byte) in try slice(8).enumerated() { bits |= UInt64(byte) << (8 * UInt64(position)) }
            return Double(bitPattern: bits)
        }

        /// A date as the writer's `date(_:after:)` wrote it, with the same `origin`.
        mutating func date(after origin: Date? = nil) throws(Malformed) -> Date {
            let value = try unsigned()
            if value == 3, let origin { return origin }
            let milliseconds: Double
            if value == 1 {
                milliseconds = try double()
                guard milliseconds.isFinite else { throw Malformed(reason: "a date is not a finite time") }
            } else {
                guard value & 1 == 0 else { throw Malformed(reason: "a date has an unknown form") }
                let zigzag = value >> 1
                let offset = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
                let originMilliseconds = origin.map { $0.timeIntervalSince1970 * 1000 } ?? 0
                let start =
                    originMilliseconds == originMilliseconds.rounded() && abs(originMilliseconds) < 9.0e15
                    ? Int64(originMilliseconds) : 0
                let (whole, overflow) = start.addingReportingOverflow(offset)
                guard !overflow else { throw Malformed(reason: "a date is out of range") }
                milliseconds = Double(whole)
            }
            return Date(timeIntervalSince1970: milliseconds / 1000)
        }

        mutating func members(depth: Int) throws(Malformed) -> [String: JSONValue] {
            let count = try length()
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(count)
            for _ in 0..<count {
                let key = try string()
                guard members.updateValue(try value(depth: depth), forKey: key) == nil else {
                    throw Malformed(reason: "a member name appears twice")
                }
            }
            return members
        }

        mutating func value(depth: Int) throws(Malformed) -> JSONValue {
            guard depth <= maximumDepth else { throw Malformed(reason: "values are nested too deeply") }
            let code = try byte()
            switch code {
            case ValueCode.null: return .null
            case ValueCode.false: return .bool(false)
            case ValueCode.true: return .bool(true)
            case ValueCode.integer: return .integer(try signed())
            case ValueCode.number: return .number(try double())
            case ValueCode.string: return .string(try string())
            case ValueCode.array:
                return .array(try list { reader throws(Malformed) in try reader.value(depth: depth + 1) })
            case ValueCode.object: return .object(try members(depth: depth + 1))
            default: throw Malformed(reason: "the value code \(code) is unknown")
            }
        }
    }
}
