import CofferModel
import CofferVault
import Foundation
import Testing

@testable import CofferAgent

@Suite("agent protocol: frames, item batches, damage")
struct AgentProtocolTests {
    /// `count` items cycling through every type, each with every field kind and the awkward parts
    /// (escapes, emoji, attachments, history, trash, sub-millisecond dates).
    static func variedItems(_ count: Int) -> [Item] {
        let types = ItemType.allCases
        return (0..<count).map { index in
            let moment = Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 0.0137)
            var item = Item(type: types[index % types.count], title: "Item \(index) \"q\" ✓ 🔑", now: moment)
            item.fields = FieldKind.allCases.map { Field(name: "f-\($0)", kind: $0, value: "\(index)\n\\\u{7}") }
            item.customFields = [Field(name: "extra", kind: .hidden, value: String(repeating: "x", count: index % 50))]
            item.urls = index.isMultiple(of: 4) ? [] : ["https://host\(index).example/path?a=\"b\""]
            item.tags = ["tag\(index % 7)", "Ü/sub"]
            item.isFavorite = index.isMultiple(of: 5)
            item.passwordHistory = [
                PasswordHistoryEntry(fieldName: "password", value: "old\(index)", replacedAt: moment - 3600)
            ]
            if index.isMultiple(of: 3) { item.moveToTrash(at: moment + 0.0004) }
            if index.isMultiple(of: 11) {
                item.attachments = [Attachment(name: "a\(index).bin", data: Data([0, 255]))]
            }
            return item
        }
    }

    /// `item` as its sealed content keeps it: dates are milliseconds since 1970, so a date with a
    /// fraction of a millisecond may come back a few nanoseconds off, as it does from the vault file.
    static func asSealed(_ item: Item) -> Item {
        var bytes: [UInt8] = []
        ItemJSONWriter.write(item, into: &bytes)
        return ItemJSONReader.item(Data(bytes))!
    }

    @Test("an import request comes back as sealed content keeps items, small or past the parallel threshold")
    func batchesRoundTrip() throws {
        for count in [0, 3, ParallelMap.threshold + 517] {
            let sent = Self.variedItems(count)
            let frame = try AgentProtocol.encode(
                AgentRequest.importItems(ItemBatch(sent), duplicates: .merge, dryRun: true))
            guard
                case .importItems(let batch, let duplicates, let dryRun) = try AgentProtocol.decode(
                    AgentRequest.self, from: frame)
            else {
                Issue.record("another request came back")
                continue
            }
            #expect(batch.elements == sent.map(Self.asSealed))
            #expect(duplicates == .merge && dryRun)
            for (item, received) in zip(sent, batch.elements) {
                #expect(abs(item.modified.timeIntervalSince(received.modified)) < 1e-6)
            }
        }
    }

    @Test("an answer with items and an answer without items both round-trip")
    func answers() throws {
        let items = Self.variedItems(20)
        let listing = try AgentProtocol.decode(
            AgentResponse.self, from: AgentProtocol.encode(AgentResponse.items(ItemBatch(items))))
        guard case .items(let batch) = listing else { throw AgentFailure(.invalidInput, "not items") }
        #expect(batch.elements == items.map(Self.asSealed))
        let single = try AgentProtocol.decode(
            AgentResponse.self, from: AgentProtocol.encode(AgentResponse.item(items[1])))
        guard case .item(let item) = single else { throw AgentFailure(.invalidInput, "not an item") }
        #expect(item == items[1])
    }

    @Test("summaries come back exactly, dates to the bit; every truncation and an impossible length are refused")
    func summaries() throws {
        let summaries = Self.variedItems(40).map(ItemSummary.init)
        let frame = try AgentProtocol.encode(AgentResponse.summaries(SummaryBatch(summaries)))
        guard case .summaries(let batch) = try AgentProtocol.decode(AgentResponse.self, from: frame) else {
            throw AgentFailure(.invalidInput, "not summaries")
        }
        #expect(batch.elements == summaries)
        for length in stride(from: 0, to: frame.count, by: 3) {
            #expect(throws: AgentFailure.self) {
                try AgentProtocol.decode(AgentResponse.self, from: frame.prefix(length))
            }
        }
        // The first summary's type claims 2 GiB: refused whole, nothing read past the frame.
        let section = 4 + frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        var hostile = frame
        hostile.replaceSubrange((section + 8 + 16)..<(section + 8 + 20), with: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: AgentFailure.self) { try AgentProtocol.decode(AgentResponse.self, from: hostile) }
    }

    @Test("every truncation of a frame is refused as malformed, never read past its end")
    func truncations() throws {
        let frame = try AgentProtocol.encode(AgentRequest.mergeRecovered(ItemBatch(Self.variedItems(12))))
        for length in 0..<frame.count {
            #expect(throws: AgentFailure.self) {
                try AgentProtocol.decode(AgentRequest.self, from: frame.prefix(length))
            }
        }
    }

    @Test("impossible counts and lengths in the item section are refused before any allocation")
    func hostileSection() throws {
        let frame = try AgentProtocol.encode(AgentRequest.mergeRecovered(ItemBatch(Self.variedItems(2))))
        let envelopeLength = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let section = 4 + envelopeLength
        for (offset, bytes) in [
            (section, [0xFF, 0xFF, 0xFF, 0xFF]),  // the batch claims four billion items
            (section + 4, [0x7F, 0xFF, 0xFF, 0xFF]),  // the first item claims 2 GiB
            (section + 4, [0, 0, 0, 0]),  // the first item is empty
        ] as [(Int, [UInt8])] {
            var hostile = frame
            hostile.replaceSubrange(offset..<(offset + 4), with: bytes)
            #expect(throws: AgentFailure.self) { try AgentProtocol.decode(AgentRequest.self, from: hostile) }
        }
        var trailing = frame
        trailing.append(contentsOf: [0, 0, 0, 9])
        #expect(throws: AgentFailure.self) { try AgentProtocol.decode(AgentRequest.self, from: trailing) }
        var numbered = frame
        let envelope = String(decoding: frame[4..<section], as: UTF8.self)
        let renumbered = Data(envelope.replacingOccurrences(of: ":0}", with: ":1}").utf8)
        numbered.replaceSubrange(4..<section, with: renumbered)
        #expect(renumbered != frame[4..<section], "the batch number was found in the envelope")
        #expect(throws: AgentFailure.self) { try AgentProtocol.decode(AgentRequest.self, from: numbered) }
    }

    @Test("a peer of protocol version 5 (envelope only) is told the versions, not a parse error")
    func olderPeer() {
        let old = Data(#"{"version":5,"body":{"status":{}}}"#.utf8)
        do {
            _ = try AgentProtocol.decode(AgentRequest.self, from: old)
            Issue.record("a version 5 frame was accepted")
        } catch {
            #expect(error.message.contains("protocol version 5"))
            #expect(error.message.contains("speaks \(AgentProtocol.version)"))
        }
    }
}
