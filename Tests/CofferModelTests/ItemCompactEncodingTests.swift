import Foundation
import Testing

@testable import CofferModel

/// Content format 2 gives back exactly what format 1 (JSON) gives, in far fewer bytes, and refuses
/// every malformed input with a reason instead of trapping.
@Suite("Compact item encoding")
struct ItemCompactEncodingTests {
    /// What the JSON format gives back for `item` (read by `JSONDecoder`, which takes every shape):
    /// the reference every compact reading must equal.
    static func throughJSON(_ item: Item, revision: Int64) throws -> (revision: Int64, item: Item) {
        let content = try ItemJSONWriterTests.decode(ItemJSONWriter.sealedContent(revision: revision, item: item))
        return (content.revision, content.item)
    }

    static func roundTrip(_ item: Item, revision: Int64) throws -> (revision: Int64, item: Item) {
        try ItemCompactEncoding.sealedContent(
            ItemCompactEncoding.sealedContent(revision: revision, item: item), itemID: item.id)
    }

    /// Samples of every type and field kind, with awkward text, dates and attachments, plus members
    /// a newer Coffer added of every JSON kind.
    static func samples() -> [Item] {
        var items = ItemJSONWriterTests.samples()
        var newer = Item(type: .login, title: "newer", now: Date(timeIntervalSince1970: 1_700_000_000))
        newer.unknownMembers = [
            "passkeys": .array([.object(["relyingParty": .string("example.com"), "counter": .integer(7)])]),
            "big": .integer(9_007_199_254_740_993), "small": .integer(.min), "weight": .number(-0.25e-3),
            "flag": .bool(true), "off": .bool(false), "nothing": .null, "empty": .object([:]), "list": .array([]),
            "émoji 🔑": .string("värde"),
        ]
        items.append(newer)
        var extremes = Item(type: .card, title: "", now: Date(timeIntervalSince1970: -62_135_596_800))
        extremes.modified = Date(timeIntervalSince1970: 253_402_300_799.999)
        extremes.customFields = [
            Field(name: "", kind: .date, value: ""), Field(name: "username", kind: .url, value: "x"),
        ]
        extremes.passwordHistory = [
            PasswordHistoryEntry(
                fieldName: "a name no template has", value: "old", replacedAt: Date(timeIntervalSince1970: 0.0001))
        ]
        extremes.attachments = [
            Attachment(name: "", data: Data()), Attachment(name: "zeros", data: Data(count: 70_000)),
        ]
        items.append(extremes)
        items.append(
            Item(type: .password, title: "never edited", now: Date(timeIntervalSince1970: 1_764_000_000.000_4)))
        return items
    }

    @Test("every sample reads back equal to what the JSON format gives back, at any revision")
    func sameAsJSON() throws {
        for (index, item) in Self.samples().enumerated() {
            for revision: Int64 in [1, 0, -1, 127, 128, Int64(index) * 1_000_000_007, .max, .min] {
                let compact = try Self.roundTrip(item, revision: revision)
                let json = try Self.throughJSON(item, revision: revision)
                #expect(compact.revision == revision && compact.item == json.item, "\(item.type) at \(revision)")
            }
        }
    }

    @Test("random items of random shapes read back equal to the JSON format's reading")
    func randomItems() throws {
        var random = SeededGenerator(seed: 0xC0FFE2)
        let alphabet = Array("aZ09 -_\"\\/\n\té中🔑\u{0}")
        func text(_ limit: Int) -> String {
            String((0..<Int.random(in: 0...limit, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        }
        func date() -> Date {
            Bool.random(using: &random)
                ? Date(
                    timeIntervalSince1970: Double(
                        Int64.random(in: -4_000_000_000_000...4_000_000_000_000, using: &random)) / 1000)
                : Date(timeIntervalSince1970: Double.random(in: -1e10...1e10, using: &random))
        }
        func fields() -> [Field] {
            (0..<Int.random(in: 0...6, using: &random)).map { _ in
                let name =
                    Bool.random(using: &random)
                    ? ItemCompactEncoding.Codes.fieldNames.randomElement(using: &random)! : text(12)
                return Field(name: name, kind: FieldKind.allCases.randomElement(using: &random)!, value: text(40))
            }
        }
        for _ in 0..<400 {
            var item = Item(type: ItemType.allCases.randomElement(using: &random)!, title: text(30), now: date())
            item.fields = fields()
            item.customFields = fields()
            item.urls = (0..<Int.random(in: 0...3, using: &random)).map { _ in text(30) }
            item.notes = text(200)
            item.tags = (0..<Int.random(in: 0...3, using: &random)).map { _ in text(8) }
            item.isFavorite = Bool.random(using: &random)
            item.modified = date()
            item.passwordHistory = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                PasswordHistoryEntry(fieldName: text(10), value: text(20), replacedAt: date())
            }
            if Bool.random(using: &random) { item.trashedAt = date() }
            if Int.random(in: 0..<4, using: &random) == 0 {
                item.attachments = [
                    Attachment(
                        name: text(10),
                        data: Data(
                            (0..<Int.random(in: 0...500, using: &random)).map { _ in
                                UInt8.random(in: 0...255, using: &random)
                            }))
                ]
            }
            let revision = Int64.random(in: .min ... .max, using: &random)
            let compact = try Self.roundTrip(item, revision: revision)
            let json = try Self.throughJSON(item, revision: revision)
            #expect(compact.revision == revision && compact.item == json.item)
        }
    }

    /// What `ItemJSONWriter` writes for `item`.
    static func writerJSON(_ item: Item) -> Data {
        var output: [UInt8] = []
        ItemJSONWriter.write(item, into: &output)
        return Data(output)
    }

    @Test(
        "the JSON made straight from compact content is byte for byte the writer's JSON of its item, samples and random"
    )
    func straightToJSON() throws {
        var random = SeededGenerator(seed: 0xBAC_C0FF)
        var items = Self.samples()
        for index in 0..<300 {
            var item = Item(
                type: ItemType.allCases.randomElement(using: &random)!, title: "Item \(index) \\ \"é\"",
                now: Date(timeIntervalSince1970: Double.random(in: 0...2e9, using: &random)))
            item.tags = ["b \(index % 3)", "a", "a"]
            item.isFavorite = Bool.random(using: &random)
            if Bool.random(using: &random) { item.modified = Date(timeIntervalSince1970: 2e9 + Double(index)) }
            items.append(item)
        }
        for item in items {
            let compact = ItemCompactEncoding.sealedContent(revision: 42, item: item)
            let json = try ItemCompactEncoding.itemJSON(inSealedContent: compact, itemID: item.id, revision: 42)
            #expect(json == Self.writerJSON(item), "\(item.title)")
        }
    }

    @Test("the straight-to-JSON path refuses another revision and every truncation, never trapping")
    func straightToJSONRefuses() throws {
        for item in Self.samples() {
            let bytes = Array(ItemCompactEncoding.sealedContent(revision: 9, item: item))
            #expect(throws: ItemCompactEncoding.Malformed(reason: "it holds another revision")) {
                try ItemCompactEncoding.itemJSON(inSealedContent: Data(bytes), itemID: item.id, revision: 10)
            }
            for end in stride(from: 0, to: bytes.count, by: bytes.count < 4096 ? 1 : 53) {
                #expect(throws: ItemCompactEncoding.Malformed.self) {
                    try ItemCompactEncoding.itemJSON(inSealedContent: Data(bytes[..<end]), itemID: item.id, revision: 9)
                }
            }
        }
    }

    @Test("a typical login takes under a third of its JSON's bytes")
    func compact() throws {
        var item = Item(type: .login, title: "Site 12345", now: Date(timeIntervalSince1970: 1_764_000_000.123))
        item.setValue("user12345@example.com", of: "username")
        item.setValue("pw-00012345-Xy!", of: "password")
        item.urls = ["https://site12345.example.com/login"]
        item.notes = "note 12345"
        item.tags = ["Group 45"]
        let json = ItemJSONWriter.sealedContent(revision: 1, item: item).count
        let compact = ItemCompactEncoding.sealedContent(revision: 1, item: item).count
        #expect(compact * 3 < json, "\(compact) bytes against \(json)")
    }

    @Test("bytes laid out by hand as docs/formats/vault.md describes format 2 read as the item they describe")
    func documentedLayout() throws {
        let id = UUID()
        func string(_ text: String) -> [UInt8] { [UInt8(text.utf8.count)] + Array(text.utf8) }
        var bytes: [UInt8] = [0x02, 6]  // marker, revision 3 (zigzag)
        bytes += [1, 1]  // login; flags: favourite
        bytes += string("Mail")
        bytes += [2, 1, 1] + string("me")  // two fields: "username" (name code 1), text
        bytes += [0] + string("Code") + [6] + string("otpauth://x")  // a name written out, totp
        bytes += [0]  // no custom fields
        bytes += [1] + string("https://mail.example")
        bytes += string("n")
        bytes += [1] + string("work")
        bytes += [0xA0, 0x1F]  // created: 1,000 ms is zigzag 2,000, shifted left: 4,000 as a varint
        bytes += [0x9A, 0x1F]  // modified: 1 ms, 999 ms before created: zigzag 1,997, shifted: 3,994
        bytes += [1, 2] + string("old") + [0]  // history: "password" (code 2), "old", at 1970
        let read = try ItemCompactEncoding.sealedContent(Data(bytes), itemID: id)
        #expect(read.revision == 3)
        let item = read.item
        #expect(item.id == id && item.type == .login && item.isFavorite && item.title == "Mail")
        #expect(
            item.fields == [
                Field(name: "username", kind: .text, value: "me"),
                Field(name: "Code", kind: .totp, value: "otpauth://x"),
            ])
        #expect(
            item.customFields.isEmpty && item.urls == ["https://mail.example"] && item.notes == "n"
                && item.tags == ["work"])
        #expect(item.created == Date(timeIntervalSince1970: 1) && item.modified == Date(timeIntervalSince1970: 0.001))
        #expect(
            item.passwordHistory == [
                PasswordHistoryEntry(fieldName: "password", value: "old", replacedAt: Date(timeIntervalSince1970: 0))
            ])
        #expect(item.trashedAt == nil && item.attachments.isEmpty && item.unknownMembers.isEmpty)
        // Modified 3: the same date as created.
        let created = bytes.firstIndex(of: 0xA0)!
        let unedited = Array(bytes[..<(created + 2)]) + [3] + Array(bytes[(created + 4)...])
        #expect(
            try ItemCompactEncoding.sealedContent(Data(unedited), itemID: id).item.modified
                == Date(timeIntervalSince1970: 1))
    }

    static func reason(_ bytes: [UInt8]) -> String? {
        do {
            _ = try ItemCompactEncoding.sealedContent(Data(bytes), itemID: UUID())
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("every truncation of every sample is refused, never trapped on")
    func truncations() throws {
        for item in Self.samples() {
            let bytes = Array(ItemCompactEncoding.sealedContent(revision: 9, item: item))
            // Every cut of a small sample; of a large one, enough to cross each of its parts.
            for end in stride(from: 0, to: bytes.count, by: bytes.count < 4096 ? 1 : 53) {
                #expect(Self.reason(Array(bytes[..<end])) != nil, "\(item.type) cut at \(end)")
            }
            #expect(Self.reason(bytes + [0]) == "1 bytes follow the item")
        }
    }

    @Test("every single-byte change of a sample is refused or reads as some item, never trapped on")
    func byteChanges() throws {
        let item = Self.samples()[9]
        let bytes = Array(ItemCompactEncoding.sealedContent(revision: 9, item: item))
        for position in bytes.indices {
            for value: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF, bytes[position] ^ 0x01] {
                var changed = bytes
                changed[position] = value
                _ = Self.reason(changed)
            }
        }
    }

    @Test("hostile numbers, codes, text and nesting are refused with the reason")
    func hostileInput() throws {
        let huge: [UInt8] = Array(repeating: 0xFF, count: 8) + [0x7F]  // 2^63 - 1
        let head: [UInt8] = [0x02, 2, 1, 0]  // revision 1, login, no flags
        #expect(Self.reason([0x7B]) == "it does not start with the format 2 marker")
        #expect(Self.reason([0x02] + Array(repeating: 0xFF, count: 9) + [0x02]) == "a number is too large")
        #expect(
            Self.reason([0x02] + [0x80] + [0x80] + Array(repeating: 0x80, count: 9) + [1]) == "a number is too large")
        #expect(Self.reason(head + huge) == "a length runs past the end")
        #expect(Self.reason([0x02, 2, 10, 0]) == "the item type 10 is unknown")
        #expect(Self.reason([0x02, 2, 1, 16]) == "the flags 16 are unknown")
        #expect(Self.reason(head + [2, 0xC3, 0x28]) == "a text is not valid UTF-8")
        #expect(Self.reason(head + [0, 1, 99, 1, 0]) == "the field name 99 is unknown")
        #expect(Self.reason(head + [0, 1, 1, 9, 0]) == "the field kind 9 is unknown")
        let body: [UInt8] = [0, 0, 0, 0, 0, 0]  // title, fields, custom fields, URLs, notes, tags
        #expect(
            Self.reason(head + body + [3, 0, 0]) == "a date has an unknown form", "3 means \"as created\" only after it"
        )
        #expect(Self.reason(head + body + [0, 5, 0]) == "a date has an unknown form")
        #expect(
            Self.reason(head + body + [1] + withUnsafeBytes(of: Double.nan.bitPattern.littleEndian, Array.init))
                == "a date is not a finite time")
        let members: [UInt8] = [0x02, 2, 1, 8] + body + [0, 0, 0]
        #expect(Self.reason(members + [2, 1, 0x61, 0, 1, 0x61, 0]) == "a member name appears twice")
        #expect(
            Self.reason(members + [1, 5] + Array("title".utf8) + [0])
                == "a member a newer Coffer added has the name of a known one")
        #expect(Self.reason(members + [1, 1, 0x61, 9]) == "the value code 9 is unknown")
        let deep = members + [1, 1, 0x61] + Array(repeating: [6, 1], count: 600).flatMap { $0 } + [0]
        #expect(Self.reason(deep) == "values are nested too deeply")
        let allowed = members + [1, 1, 0x61] + Array(repeating: [6, 1], count: 500).flatMap { $0 } + [0]
        #expect(Self.reason(allowed) == nil)
    }
}

/// A small deterministic generator, so a failing random case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
