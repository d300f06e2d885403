import CofferModel
import Foundation
import Testing

/// The direct writer gives the same JSON values as `Codable` under the sealed content's encoder, so
/// vaults written before and after it read the same.
@Suite("Item JSON writer")
struct ItemJSONWriterTests {
    struct Content: Codable, Equatable {
        var revision: Int64
        var item: Item
    }

    static func codableJSON(_ content: Content) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return try encoder.encode(content)
    }

    static func decode(_ data: Data) throws -> Content {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(Content.self, from: data)
    }

    /// Items of every type with every kind of awkward value.
    static func samples() -> [Item] {
        let awkward = [
            "", "plain", #"quote " and backslash \ and slash /"#, "line\nbreak\r\ttab", "\u{0}\u{1}\u{1F}\u{7F}",
            "émoji 🔑 and 中文", "\u{2028}\u{2029}", String(repeating: "long ", count: 2000),
        ]
        var items: [Item] = []
        for (index, type) in ItemType.allCases.enumerated() {
            var item = Item(
                type: type, title: awkward[index % awkward.count], now: Date(timeIntervalSince1970: 1_606_923_754.123))
            for (position, field) in item.fields.enumerated() {
                item.fields[position].value = awkward[(index + position) % awkward.count]
                _ = field
            }
            item.customFields = FieldKind.allCases.map { Field(name: "\($0)", kind: $0, value: awkward[index % 3 + 1]) }
            item.urls = ["https://a.example/x?y=1&z=\"2\"", "android://hash@pkg/"]
            item.notes = awkward[(index + 2) % awkward.count]
            item.tags = ["Work/Projects", "ü"]
            item.isFavorite = index.isMultiple(of: 2)
            item.modified = Date(timeIntervalSince1970: Double(index) * 1e9 + 0.0005)
            item.passwordHistory = [
                PasswordHistoryEntry(
                    fieldName: "password", value: awkward[3], replacedAt: Date(timeIntervalSince1970: -5))
            ]
            if index.isMultiple(of: 3) { item.trashedAt = Date(timeIntervalSince1970: 2_000_000_000) }
            if index.isMultiple(of: 4) {
                item.attachments = [Attachment(name: "a\"b.bin", data: Data((0..<300).map { UInt8($0 % 256) }))]
            }
            items.append(item)
        }
        return items
    }

    @Test("every sample reads back equal, and its JSON value equals what Codable writes")
    func sameValues() throws {
        for (index, item) in Self.samples().enumerated() {
            let content = Content(revision: Int64(index) * 1_000_000_007, item: item)
            let fast = ItemJSONWriter.sealedContent(revision: content.revision, item: item)
            #expect(try Self.decode(fast) == content, "\(item.type)")
            let expected = try JSONSerialization.jsonObject(with: Self.codableJSON(content)) as? NSDictionary
            let actual = try JSONSerialization.jsonObject(with: fast) as? NSDictionary
            #expect(expected != nil && expected == actual, "\(item.type)")
        }
    }

    @Test("an item without attachments or trash date has neither key, as before attachments existed")
    func optionalKeys() throws {
        let item = Item(type: .login, title: "t", now: Date(timeIntervalSince1970: 0))
        let object = try #require(
            try JSONSerialization.jsonObject(with: ItemJSONWriter.sealedContent(revision: 1, item: item))
                as? [String: Any])
        let keys = try #require(object["item"] as? [String: Any]).keys
        #expect(!keys.contains("attachments") && !keys.contains("trashedAt"))
        #expect(keys.count == 12)
    }
}

/// The direct reader gives what `JSONDecoder` gives, for what either encoder writes, and declines
/// (for `JSONDecoder` to handle) anything else.
@Suite("Item JSON reader")
struct ItemJSONReaderTests {
    @Test("every sample, as the writer and as Codable write it, reads back equal to JSONDecoder's reading")
    func sameItems() throws {
        for (index, item) in ItemJSONWriterTests.samples().enumerated() {
            let content = ItemJSONWriterTests.Content(revision: Int64(index) * 1_000_000_007, item: item)
            for data in [
                ItemJSONWriter.sealedContent(revision: content.revision, item: item),
                try ItemJSONWriterTests.codableJSON(content),
            ] {
                let read = try #require(ItemJSONReader.sealedContent(data), "\(item.type)")
                let decoded = try ItemJSONWriterTests.decode(data)
                #expect(read.revision == decoded.revision && read.item == decoded.item, "\(item.type)")
            }
        }
    }

    @Test("escapes, surrogate pairs, white space and null trash dates read as JSON says")
    func jsonDetails() throws {
        let text = #"""
             { "revision" : 7 , "item" : {"id":"6F3C1A52-9A0B-4C3D-8E1F-0A1B2C3D4E5F","type":"login",
              "title":"a\"b\\c\/d\u00e9\ud83d\udd11\n","fields":[],"customFields":[],"urls":[],"notes":"",
              "tags":[],"isFavorite":false,"created":1.5e12,"modified":-1000,"passwordHistory":[],"trashedAt":null} }
            """#
        let read = try #require(ItemJSONReader.sealedContent(Data(text.utf8)))
        #expect(read.revision == 7 && read.item.title == "a\"b\\c/dé🔑\n" && read.item.trashedAt == nil)
        #expect(read.item.created == Date(timeIntervalSince1970: 1.5e9))
        #expect(read.item.modified == Date(timeIntervalSince1970: -1))
    }

    @Test("unknown keys, missing keys, wrong types, bad escapes and every truncation are declined, never trapped on")
    func declines() throws {
        let item = ItemJSONWriterTests.samples()[3]
        let good = ItemJSONWriter.sealedContent(revision: 1, item: item)
        let text = String(decoding: good, as: UTF8.self)
        let variants = [
            text.replacingOccurrences(of: #""notes":"#, with: #""future":1,"notes":"#),
            text.replacingOccurrences(of: #""isFavorite":true,"#, with: "").replacingOccurrences(
                of: #""isFavorite":false,"#, with: ""),
            text.replacingOccurrences(of: #""revision":1"#, with: #""revision":"1""#),
            text.replacingOccurrences(of: #""title":""#, with: #""title":"\x"#),
            text.replacingOccurrences(of: #""title":""#, with: #""title":"\ud800"#),
            text + "x",
        ]
        for variant in variants {
            #expect(ItemJSONReader.sealedContent(Data(variant.utf8)) == nil, "\(variant.prefix(80))")
        }
        for length in stride(from: 0, to: good.count, by: 3) {
            #expect(ItemJSONReader.sealedContent(good.prefix(length)) == nil)
        }
    }
}

/// The item JSON a backup takes straight from sealed content, and a backup body read back directly.
@Suite("Item JSON in sealed content and backup bodies")
struct ItemJSONFramingTests {
    @Test("the item inside the writer's sealed content is exactly what the writer writes for the item")
    func itemInsideSealedContent() throws {
        for (index, item) in ItemJSONWriterTests.samples().enumerated() {
            let revision = Int64(index) * 7 + 1
            let content = ItemJSONWriter.sealedContent(revision: revision, item: item)
            var expected: [UInt8] = []
            ItemJSONWriter.write(item, into: &expected)
            #expect(ItemJSONReader.itemJSON(inSealedContent: content, revision: revision).map(Array.init) == expected)
            // Another revision, or another frame (Codable's key order), is not taken as it is.
            #expect(ItemJSONReader.itemJSON(inSealedContent: content, revision: revision + 1) == nil)
            #expect(ItemJSONReader.itemJSON(inSealedContent: content, revision: revision * 10) == nil)
            let codable = try ItemJSONWriterTests.codableJSON(.init(revision: revision, item: item))
            if !codable.starts(with: Array(#"{"revision":"#.utf8)) {
                #expect(ItemJSONReader.itemJSON(inSealedContent: codable, revision: revision) == nil)
            }
        }
        for damaged in ["", "{", #"{"revision":1,"item":"#, #"{"revision":1,"item":}"#, #"{"revision":1,"item":[]}"#] {
            #expect(ItemJSONReader.itemJSON(inSealedContent: Data(damaged.utf8), revision: 1) == nil, "\(damaged)")
        }
    }

    @Test("a backup body reads directly when it is in the writer's shape, and not at all otherwise")
    func itemList() throws {
        let items = ItemJSONWriterTests.samples()
        var body = Array(#"{"items":["#.utf8)
        for (index, item) in items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            ItemJSONWriter.write(item, into: &body)
        }
        body += Array("]}".utf8)
        #expect(ItemJSONReader.itemList(Data(body)) == items)
        #expect(ItemJSONReader.itemList(Data(#"{"items":[]}"#.utf8)) == [])
        for other in [#"{"items":[],"more":1}"#, #"{"things":[]}"#, #"{"items":[{}]}"#, #"{"items":[]} x"#, "[]"] {
            #expect(ItemJSONReader.itemList(Data(other.utf8)) == nil, "\(other)")
        }
        for cut in stride(from: 0, to: body.count, by: 97) {
            #expect(ItemJSONReader.itemList(Data(body[..<cut])) == nil)
        }
    }
}
