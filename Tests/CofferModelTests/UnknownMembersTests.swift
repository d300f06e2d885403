import CofferModel
import Foundation
import Testing

/// What a newer Coffer adds to an item's JSON survives an older one reading and writing it.
@Suite("Unknown members of an item's JSON are kept")
struct UnknownMembersTests {
    /// Sealed content as a newer Coffer might write it: today's members, then ones this build does
    /// not know, of every JSON kind.
    static let newerContent = #"""
        {"revision":3,"item":{"id":"6F3C1A52-9A0B-4C3D-8E1F-0A1B2C3D4E5F","type":"login","title":"Mail",
        "fields":[{"name":"password","kind":"hidden","value":"hunter2"}],"customFields":[],"urls":[],
        "notes":"","tags":[],"isFavorite":false,"created":1700000000000,"modified":1700000000500,
        "passwordHistory":[],
        "passkeys":[{"relyingParty":"example.com","counter":7,"backedUp":true,"handle":null,"weight":1.5}],
        "colour":"red","nested":{"a":{"b":[1,"two",false,-0.25e-3]}},"big":9007199254740993,"empty":{}}}
        """#

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()

    struct Content: Codable {
        var revision: Int64
        var item: Item
    }

    /// The item object inside sealed content, as Foundation reads any JSON.
    static func itemObject(_ data: Data) throws -> NSDictionary {
        let content = try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
        return try #require(content["item"] as? NSDictionary)
    }

    @Test("read, edited and written again by the direct writer or by Codable, the unknown members come back unchanged")
    func survivesAnEdit() throws {
        let original = Data(Self.newerContent.utf8)
        var item = try Self.decoder.decode(Content.self, from: original).item
        #expect(
            Set(item.unknownMembers.keys) == ["passkeys", "colour", "nested", "big", "empty"],
            "\(item.unknownMembers.keys)")
        #expect(item.unknownMembers["big"] == .integer(9_007_199_254_740_993), "kept exactly, past a Double's 2^53")
        item.setValue("correct horse", of: "password")
        for written in [
            ItemJSONWriter.sealedContent(revision: 4, item: item),
            try Self.encoder.encode(Content(revision: 4, item: item)),
        ] {
            let before = try Self.itemObject(original)
            let after = try Self.itemObject(written)
            for key in item.unknownMembers.keys {
                #expect(after[key] as? NSObject == before[key] as? NSObject, "\(key)")
            }
            #expect((after["big"] as? NSNumber)?.int64Value == 9_007_199_254_740_993)
            // And reading it again gives the same item, unknown members included.
            #expect(try Self.decoder.decode(Content.self, from: written).item == item)
        }
    }

    @Test("an item this build made has no unknown members and writes exactly today's keys")
    func noneOfItsOwn() throws {
        let item = Item(type: .note, title: "n", now: Date(timeIntervalSince1970: 0))
        #expect(item.unknownMembers.isEmpty)
        let object = try Self.itemObject(ItemJSONWriter.sealedContent(revision: 1, item: item))
        #expect(object.count == 12)
    }
}

@Suite("A sync merge keeps what a newer Coffer added")
struct UnknownMembersMergeTests {
    static func item(_ members: [String: JSONValue]) -> Item {
        var item = Item(
            id: UUID(uuidString: "6F3C1A52-9A0B-4C3D-8E1F-0A1B2C3D4E5F")!, type: .login, title: "Mail",
            now: Date(timeIntervalSince1970: 1_700_000_000))
        item.unknownMembers = members
        return item
    }

    @Test("members changed, added or removed on one side each merge without a conflict")
    func disjoint() {
        let base = Self.item(["kept": .integer(1), "changed": .integer(1), "removed": .bool(true)])
        let local = Self.item(["kept": .integer(1), "changed": .integer(2), "addedHere": .string("l")])
        let remote = Self.item([
            "kept": .integer(1), "changed": .integer(1), "removed": .bool(true), "addedThere": .string("r"),
        ])
        let outcome = ItemMerge.merge(base: base, local: local, remote: remote, deviceName: "d", now: Date())
        #expect(outcome.conflictCopy == nil)
        #expect(
            outcome.merged.unknownMembers == [
                "kept": .integer(1), "changed": .integer(2), "addedHere": .string("l"), "addedThere": .string("r"),
            ])
    }

    @Test("a member both sides changed differently takes the remote value and keeps the local item as a copy")
    func conflict() throws {
        let base = Self.item(["colour": .string("red")])
        let local = Self.item(["colour": .string("blue")])
        let remote = Self.item(["colour": .string("green")])
        let outcome = ItemMerge.merge(base: base, local: local, remote: remote, deviceName: "d", now: Date())
        #expect(outcome.merged.unknownMembers == ["colour": .string("green")])
        #expect(try #require(outcome.conflictCopy).unknownMembers == ["colour": .string("blue")])
    }
}
