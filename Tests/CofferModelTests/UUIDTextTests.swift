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
