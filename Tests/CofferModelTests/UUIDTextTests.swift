import CofferModel
import Foundation
import Testing

@Suite("UUID text: the fast parse agrees with Foundation's")
struct UUIDTextTests {
    @Test("random ids in upper and lower case parse to the same UUID as UUID(uuidString:)")
    func agrees() {
        for _ in 0..<2000 {
            let id = UUID()
            for text in [id.uuidString, id.uuidString.lowercased()] {
                #expect(UUID(text: text) == id)
                #expect(UUID(text: text) == UUID(uuidString: text))
            }
        }
    }

    @Test("the fast texts are Foundation's text and its lowercase, for random and extreme ids")
    func lowercaseText() {
        let extremes =
            [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))] + [
                UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
            ]
        for id in extremes + (0..<2000).map({ _ in UUID() }) {
            #expect(id.lowercasedText == id.uuidString.lowercased())
            #expect(id.uppercasedText == id.uuidString)
            #expect(UUID(text: id.lowercasedText) == id)
        }
    }

    @Test("ids sorted by their bytes are in the order of their lowercase text")
    func byteOrderIsTextOrder() {
        var ids = (0..<3000).map { _ in UUID() }
        // Ids that differ only late, or only in a digit against a letter, in both halves.
        ids += [
            "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-000000000009",
            "00000000-0000-000a-0000-000000000000", "00000000-0000-0009-ffff-ffffffffffff",
        ].compactMap(UUID.init(uuidString:))
        let byBytes = ids.sorted { $0.sortsBefore($1) }
        #expect(byBytes.map(\.lowercasedText) == ids.map(\.lowercasedText).sorted())
        #expect(!ids[0].sortsBefore(ids[0]))
    }

    @Test("anything but the 36-character form is refused, as Foundation refuses it")
    func refusals() {
        let good = "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"
        var cases = [
            "", "E621E1F8C36C495A93FC0C247A3E6E5F", "{\(good)}", good + " ", " " + good, good + "0",
            String(good.dropLast()), good.replacingOccurrences(of: "-", with: "_"),
            good.replacingOccurrences(of: "E", with: "G"), "E621E1F8-C36C-495A-93FC0-C247A3E6E5F",
            "é621E1F8-C36C-495A-93FC-0C247A3E6E5F",
        ]
        for index in good.indices { cases.append(String(good[..<index])) }
        for text in cases {
            #expect(UUID(text: text) == nil, "\(text)")
            #expect(UUID(uuidString: text) == nil, "Foundation agrees on \(text)")
        }
    }
}

@Suite("Random ids")
struct RandomUUIDTests {
    @Test("random ids are version 4, RFC 9562 variant, and never repeat, also from several threads at once")
    func versionVariantUnique() async {
        let ids = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<4 { group.addTask { (0..<5_000).map { _ in UUID.random() } } }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
        }
        // The pool hands out different bytes every time, so the bits outside the version and variant
        // vary: every position takes both values somewhere in 20,000 ids.
        let bytes = ids.map { withUnsafeBytes(of: $0.uuid) { Array($0) } }
        for position in 0..<16 {
            let seen = bytes.reduce(into: (or: UInt8(0), and: UInt8(0xFF))) {
                $0.or |= $1[position]
                $0.and &= $1[position]
            }
            let fixed: UInt8 = position == 6 ? 0xF0 : position == 8 ? 0xC0 : 0
            #expect((seen.or ^ seen.and) | fixed == 0xFF, "byte \(position) never changes in some bit")
        }
    }
}
