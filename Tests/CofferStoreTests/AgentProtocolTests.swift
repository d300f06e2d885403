import CofferAgentTransport
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
            let frame = try AgentProtocol.frame(call: ImportItems(sent, duplicates: .merge, dryRun: true))
            guard let call = try AgentProtocol.call(from: frame) as? ImportItems else {
                Issue.record("another request came back")
                continue
            }
            #expect(call.items.elements == sent.map(Self.asSealed))
            #expect(call.duplicates == .merge && call.dryRun)
            for (item, received) in zip(sent, call.items.elements) {
                #expect(abs(item.modified.timeIntervalSince(received.modified)) < 1e-6)
            }
        }
    }

    @Test("an answer with items and an answer without items both round-trip")
    func answers() throws {
        let items = Self.variedItems(20)
        let listing = try AgentProtocol.answer(
            ItemBatch.self, from: AgentProtocol.frame(answer: .success(ItemBatch(items))))
        #expect(listing.elements == items.map(Self.asSealed))
        let single = try AgentProtocol.answer(Item.self, from: AgentProtocol.frame(answer: .success(items[1])))
        #expect(single == items[1])
    }

    @Test("summaries come back exactly, dates to the bit; every truncation and an impossible length are refused")
    func summaries() throws {
        let summaries = Self.variedItems(40).map(ItemSummary.init)
        let frame = AgentProtocol.frame(answer: .success(SummaryBatch(summaries)))
        #expect(try AgentProtocol.answer(SummaryBatch.self, from: frame).elements == summaries)
        for length in stride(from: 0, to: frame.count, by: 3) {
            #expect(throws: AgentFailure.self) {
                try AgentProtocol.answer(SummaryBatch.self, from: frame.prefix(length))
            }
        }
        // The first summary's type claims 2 GiB: refused whole, nothing read past the frame.
        let section = 4 + frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        var hostile = frame
        hostile.replaceSubrange((section + 8 + 16)..<(section + 8 + 20), with: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: AgentFailure.self) { try AgentProtocol.answer(SummaryBatch.self, from: hostile) }
    }

    @Test("every truncation of a frame is refused as malformed, never read past its end")
    func truncations() throws {
        let frame = try AgentProtocol.frame(call: MergeRecovered(Self.variedItems(12)))
        for length in 0..<frame.count {
            #expect(throws: AgentFailure.self) {
                try AgentProtocol.call(from: frame.prefix(length))
            }
        }
    }

    @Test("impossible counts and lengths in the item section are refused before any allocation")
    func hostileSection() throws {
        let frame = try AgentProtocol.frame(call: MergeRecovered(Self.variedItems(2)))
        let envelopeLength = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let section = 4 + envelopeLength
        for (offset, bytes) in [
            (section, [0xFF, 0xFF, 0xFF, 0xFF]),  // the batch claims four billion items
            (section + 4, [0x7F, 0xFF, 0xFF, 0xFF]),  // the first item claims 2 GiB
            (section + 4, [0, 0, 0, 0]),  // the first item is empty
        ] as [(Int, [UInt8])] {
            var hostile = frame
            hostile.replaceSubrange(offset..<(offset + 4), with: bytes)
            #expect(throws: AgentFailure.self) { try AgentProtocol.call(from: hostile) }
        }
        var trailing = frame
        trailing.append(contentsOf: [0, 0, 0, 9])
        #expect(throws: AgentFailure.self) { try AgentProtocol.call(from: trailing) }
        var numbered = frame
        let envelope = String(decoding: frame[4..<section], as: UTF8.self)
        let renumbered = Data(envelope.replacingOccurrences(of: ":0}", with: ":1}").utf8)
        numbered.replaceSubrange(4..<section, with: renumbered)
        #expect(renumbered != frame[4..<section], "the batch number was found in the envelope")
        #expect(throws: AgentFailure.self) { try AgentProtocol.call(from: numbered) }
    }

    @Test("a peer of protocol version 5 (envelope only) or 6 (a framed request enum) is told the versions")
    func olderPeers() {
        let version5 = Data(#"{"version":5,"body":{"status":{}}}"#.utf8)
        let envelope6 = Data(#"{"version":6,"body":{"status":{}}}"#.utf8)
        let version6 = Data([0, 0, 0, UInt8(envelope6.count)]) + envelope6
        for (frame, version) in [(version5, 5), (version6, 6)] {
            do {
                _ = try AgentProtocol.call(from: frame)
                Issue.record("a version \(version) frame was accepted")
            } catch {
                #expect(error.message.contains("protocol version \(version)"))
                #expect(error.message.contains("speaks \(AgentProtocol.version)"))
            }
        }
    }

    @Test("every call has a name of its own and comes back as the call it was")
    func vocabulary() throws {
        #expect(AgentCalls.byName.count == AgentCalls.all.count, "two calls share a name")
        let calls: [any AgentCall] = [
            ReadStatus(), ResolveItem("github", scope: .trash), SyncNow(healsServer: true), CancelDeletion(id: UUID()),
            UnlockVault(accountKey: Data(repeating: 7, count: 32), idleTimeoutSeconds: 90), LockVault(),
        ]
        for call in calls {
            let back = try AgentProtocol.call(from: AgentProtocol.frame(call: call))
            #expect(type(of: back) == type(of: call))
            #expect(String(describing: back) == String(describing: call))
        }
    }

    @Test("an unknown call, a body that does not fit its name, and an answer of another type are refused")
    func mismatches() throws {
        let unknown = try AgentProtocol.frame(call: ReadStatus())
        let renamed = Self.replacing(#""call":"status""#, with: #""call":"format-disk""#, in: unknown)
        #expect(throws: AgentFailure.self) { try AgentProtocol.call(from: renamed) }
        do {
            _ = try AgentProtocol.call(from: renamed)
        } catch {
            #expect(error.message.contains("format-disk"))
        }
        // A body that is not the named call's: a trash call's id read as an update's item.
        let trash = try AgentProtocol.frame(call: TrashItem(id: UUID()))
        let misnamed = Self.replacing(#""call":"trash""#, with: #""call":"update""#, in: trash)
        #expect(throws: AgentFailure.self) { try AgentProtocol.call(from: misnamed) }
        // An answer of one type read as another, and an envelope with neither answer nor failure.
        let count = AgentProtocol.frame(answer: Result<[String], AgentFailure>.success(["a"]))
        #expect(throws: AgentFailure.self) { try AgentProtocol.answer(Item.self, from: count) }
        let empty = Data(#"{"version":\#(AgentProtocol.version)}"#.utf8)
        #expect(throws: AgentFailure.self) {
            try AgentProtocol.answer(Done.self, from: Data([0, 0, 0, UInt8(empty.count)]) + empty)
        }
    }

    @Test("a failure answers any call with that failure, whole")
    func failures() throws {
        let failure = AgentFailure(.ambiguous, "Which one?", candidates: Self.variedItems(3).map(ItemSummary.init))
        let frame = AgentProtocol.frame(answer: Result<Item, AgentFailure>.failure(failure))
        #expect(throws: failure) { try AgentProtocol.answer(Item.self, from: frame) }
    }

    @Test("every byte of a call or an answer changed in two ways is refused or read, never a crash")
    func everyByteDamaged() throws {
        let call = try AgentProtocol.frame(call: MergeRecovered(Self.variedItems(3)))
        let answer = AgentProtocol.frame(answer: .success(SummaryBatch(Self.variedItems(3).map(ItemSummary.init))))
        for (frame, read) in [
            (call, { (data: Data) throws(AgentFailure) in _ = try AgentProtocol.call(from: data) }),
            (
                answer,
                { (data: Data) throws(AgentFailure) in _ = try AgentProtocol.answer(SummaryBatch.self, from: data) }
            ),
        ] {
            try read(frame)
            var refused = 0
            for position in frame.indices {
                for change in [{ (byte: UInt8) in byte ^ 0x5A }, { _ in 0xFF }] {
                    var damaged = frame
                    damaged[position] = change(frame[position])
                    // A changed letter in a title may still read; what matters is that nothing traps.
                    if case .failure = Result(catching: { () throws(AgentFailure) in try read(damaged) }) {
                        refused += 1
                    }
                }
            }
            #expect(refused > frame.count / 4, "most damage is refused: \(refused) of \(2 * frame.count)")
        }
    }

    /// `frame` with `old` replaced by `new` in its JSON envelope, the length prefix adjusted.
    static func replacing(_ old: String, with new: String, in frame: Data) -> Data {
        let length = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let envelope = String(decoding: frame[4..<(4 + length)], as: UTF8.self).replacingOccurrences(of: old, with: new)
        let bytes = Data(envelope.utf8)
        var count = UInt32(bytes.count).bigEndian
        return Data(bytes: &count, count: 4) + bytes + frame[(4 + length)...]
    }
}
