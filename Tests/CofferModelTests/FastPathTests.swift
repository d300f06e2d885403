import CofferModel
import Foundation
import Testing

/// The allocation-free paths a large import runs 100,000 times agree with the plain definitions.
@Suite("Fast paths: random UUIDs, field names, trimming, tags")
struct FastPathTests {
    @Test("UUID.random is version 4 with the RFC 9562 variant, and 10,000 of them are distinct")
    func randomUUIDs() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let text = id.uuidString
            let version = text[text.index(text.startIndex, offsetBy: 14)]
            let variant = text[text.index(text.startIndex, offsetBy: 19)]
            #expect(version == "4" && "89AB".contains(variant), "\(text)")
        }
    }

    @Test("field names match ignoring case, spaces, dashes and underscores, ASCII or not")
    func fieldNames() {
        let field = Field(name: "first-name", kind: .text, value: "")
        for same in ["first-name", "First Name", "FIRST_NAME", "firstname", " first - name "] {
            #expect(field.matches(name: same), "\(same)")
        }
        for other in ["first", "first-names", "last-name", "", "firstnamé"] {
            #expect(!field.matches(name: other), "\(other)")
        }
        let accented = Field(name: "Prénom", kind: .text, value: "")
        #expect(
            accented.matches(name: "PRÉNOM") && accented.matches(name: "pré nom") && !accented.matches(name: "prenom"))
    }

    @Test("trimming removes Unicode white space and line breaks at both ends only, and keeps untouched text as is")
    func trimming() {
        #expect("  a b \n".trimmingWhitespace() == "a b")
        #expect("\u{00A0}\u{2003}x\u{3000}\t\r\n".trimmingWhitespace() == "x")
        #expect(" \n\t ".trimmingWhitespace() == "" && "".trimmingWhitespace() == "")
        #expect("plain".trimmingWhitespace() == "plain" && "é  ü".trimmingWhitespace() == "é  ü")
        #expect(Substring(" s ").trimmingWhitespace() == "s")
        // The ASCII shortcut agrees with Unicode's White_Space on every ASCII character.
        for value in UInt8(0)..<128 {
            let scalar = Unicode.Scalar(value)
            let text = "\(scalar)x\(scalar)"
            let expected = scalar.properties.isWhitespace ? "x" : text
            #expect(text.trimmingWhitespace() == expected, "\(value)")
        }
    }

    @Test("tags are trimmed, de-duplicated and sorted, whether or not they came in order")
    func tags() {
        var item = Item(type: .note, title: "t", now: Date(timeIntervalSince1970: 0))
        item.tags = ["b", "a", " a ", "", "c\n"]
        #expect(item.tags == ["a", "b", "c"])
        item.tags = ["a", "b"]
        #expect(item.tags == ["a", "b"])
        item.tags = ["a", "a"]
        #expect(item.tags == ["a"])
    }
}
