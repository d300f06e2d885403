import Foundation

/// Reads an XML document into an ``XMLTree``: the part of XML 1.0 that KeePass, KeePassXC and
/// SafeInCloud write (elements, attributes, text, CDATA, comments, processing instructions,
/// character and the five predefined entity references).
///
/// Decision (issue "Speed at 100,000 items", start-up): Foundation's `XMLParser` links libxml2 and,
/// through it, ICU and liblzma into `coffer`, and the loader mapped and relocated all of them on
/// every command, `coffer --version` included. A reader of what these files need is small, has no
/// parser of DTDs or external entities to harden (a DTD is refused), and reads the bytes once.
///
/// Like any XML processor it turns line ends into `\n` (a `&#13;` stays a carriage return) and
/// attribute whitespace into spaces. Nesting is limited to 256 levels, as libxml2's default is.
struct XMLReader {
    /// Why a document cannot be read and the line where that was found.
    struct Failure: Error {
        let line: Int
        let reason: String
    }

    static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var line = 1

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The document's root element.
    static func read(_ data: Data) throws(Failure) -> XMLTree {
        let result: Result<XMLTree, Failure> = data.withUnsafeBytes { raw in
            var reader = XMLReader(bytes: raw.bindMemory(to: UInt8.self))
            return Result { () throws(Failure) in try reader.document() }
        }
        return try result.get()
    }

    // MARK: Structure

    private mutating func document() throws(Failure) -> XMLTree {
        if starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
        try skipMisc()
        guard peek == UInt8(ascii: "<") else { throw fail("it does not start with an element") }
        let root = try element()
        try skipMisc()
        guard index == bytes.count else { throw fail("something follows the document's root element") }
        return root
    }

    /// Whitespace, comments and processing instructions (the XML declaration among them).
    private mutating func skipMisc() throws(Failure) {
        while true {
            skipWhitespace()
            if try skipCommentOrInstruction() {
                continue
            } else if starts(with: "<!") {
                throw fail("it declares a document type or other markup KeePass never writes")
            } else {
                return
            }
        }
    }

    /// An element and everything inside it, read without recursion so nesting cannot exhaust the stack.
    private mutating func element() throws(Failure) -> XMLTree {
        let root = try startTag()
        guard root.isOpen else { return root.element }
        var stack: [XMLTree] = [root.element]
        var text: [UInt8] = []
        while let open = stack.last {
            guard index < bytes.count else { throw fail("it stops before <\(open.name)> is closed (cut short)") }
            if bytes[index] != UInt8(ascii: "<") {
                try characterData(into: &text)
            } else if starts(with: "</") {
                flush(&text, into: open)
                index += 2
                let name = try self.name()
                skipWhitespace()
                guard consume(">") else { throw fail("the end tag </\(name)> is not closed with >") }
                guard name == open.name else { throw fail("</\(name)> closes <\(open.name)>") }
                stack.removeLast()
            } else if starts(with: "<![CDATA[") {
                index += 9
                guard let end = find("]]>") else { throw fail("a CDATA section is not closed") }
                countLines(upTo: end)
                normalizeLineEnds(bytes[index..<end], into: &text)
                index = end + 3
            } else if try skipCommentOrInstruction() {
                continue
            } else if starts(with: "<!") {
                throw fail("markup KeePass never writes (<!…) inside <\(open.name)>")
            } else {
                flush(&text, into: open)
                guard stack.count < Self.maximumDepth else {
                    throw fail("elements are nested more than \(Self.maximumDepth) deep")
                }
                let child = try startTag()
                open.append(child.element)
                if child.isOpen { stack.append(child.element) }
            }
        }
        return root.element
    }

    /// Skips a comment or a processing instruction where one starts; `false` when none does.
    private mutating func skipCommentOrInstruction() throws(Failure) -> Bool {
        if starts(with: "<!--") {
            try skip(past: "-->", what: "a comment")
        } else if starts(with: "<?") {
            try skip(past: "?>", what: "a processing instruction")
        } else {
            return false
        }
        return true
    }

    private func flush(_ text: inout [UInt8], into element: XMLTree) {
        guard !text.isEmpty else { return }
        element.appendText(String(decoding: text, as: UTF8.self))
        text.removeAll(keepingCapacity: true)
    }

    /// `<name attributes…>` or `<name …/>`.
    private mutating func startTag() throws(Failure) -> (element: XMLTree, isOpen: Bool) {
        index += 1
        let name = try self.name()
        var attributes: [String: String] = [:]
        while true {
            let spaced = skipWhitespace()
            if consume("/") {
                guard consume(">") else { throw fail("<\(name)/ is not followed by >") }
                return (XMLTree(name: name, attributes: attributes), false)
            }
            if consume(">") { return (XMLTree(name: name, attributes: attributes), true) }
            guard spaced else { throw fail("in <\(name)>, attributes must be separated by spaces") }
            let key = try self.name()
            skipWhitespace()
            guard consume("=") else { throw fail("the attribute \(key) of <\(name)> has no value") }
            skipWhitespace()
            guard attributes[key] == nil else { throw fail("<\(name)> has the attribute \(key) twice") }
            attributes[key] = try attributeValue()
        }
    }

    private mutating func attributeValue() throws(Failure) -> String {
        guard let quote = peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
            throw fail("an attribute value is not in quotes")
        }
        index += 1
        var value: [UInt8] = []
        while index < bytes.count, bytes[index] != quote {
            switch bytes[index] {
            case UInt8(ascii: "<"): throw fail("an attribute value holds <")
            case UInt8(ascii: "&"): try reference(into: &value)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                // A CR LF pair is one line end, and one space.
                if bytes[index] == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                    index += 1
                    line += 1
                }
                value.append(UInt8(ascii: " "))
                index += 1
            default:
                value.append(bytes[index])
                index += 1
            }
        }
        guard consume(quote) else { throw fail("an attribute value is not closed") }
        return String(decoding: value, as: UTF8.self)
    }

    /// Text up to the next markup, references replaced and line ends made `\n`.
    private mutating func characterData(into text: inout [UInt8]) throws(Failure) {
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            switch bytes[index] {
            case UInt8(ascii: "&"):
                try reference(into: &text)
            case UInt8(ascii: "\r"):
                text.append(UInt8(ascii: "\n"))
                line += 1
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "\n"):
                text.append(UInt8(ascii: "\n"))
                line += 1
                index += 1
            default:
                text.append(bytes[index])
                index += 1
            }
        }
    }

    /// `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;`, `&#N;` or `&#xH;`, appended as UTF-8.
    private mutating func reference(into output: inout [UInt8]) throws(Failure) {
        let start = index + 1
        var end = start
        while end < bytes.count, end - start <= 10, bytes[end] != UInt8(ascii: ";") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";"), end > start else {
            throw fail("an & is not the start of a reference such as &amp;")
        }
        let body = String(decoding: bytes[start..<end], as: UTF8.self)
        let scalar: Unicode.Scalar?
        switch body {
        case "lt": scalar = "<"
        case "gt": scalar = ">"
        case "amp": scalar = "&"
        case "quot": scalar = "\""
        case "apos": scalar = "'"
        default:
            if body.hasPrefix("#x") {
                scalar = UInt32(body.dropFirst(2), radix: 16).flatMap(Self.characterScalar)
            } else if body.hasPrefix("#") {
                scalar = UInt32(body.dropFirst(), radix: 10).flatMap(Self.characterScalar)
            } else {
                throw fail("&\(body); is not an entity XML defines, and KeePass defines no others")
            }
            guard scalar != nil else { throw fail("&\(body); is not a character XML allows") }
        }
        if let scalar { output.append(contentsOf: String(scalar).utf8) }
        index = end + 1
    }

    /// A character a reference may name (XML 1.0's `Char`).
    private static func characterScalar(_ value: UInt32) -> Unicode.Scalar? {
        switch value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: Unicode.Scalar(value)
        default: nil
        }
    }

    /// An element or attribute name: letters, digits, `_`, `-`, `.`, `:` and anything beyond ASCII.
    private mutating func name() throws(Failure) -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isNameByte =
                byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (index > start && byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                || (index > start && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")))
            guard isNameByte else { break }
            index += 1
        }
        guard index > start else { throw fail("a name is missing after < or in a tag") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: Bytes

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func starts(with prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { starts(with: $0) }
    }

    private func starts(with prefix: some Collection<UInt8>) -> Bool {
        guard bytes.count - index >= prefix.count else { return false }
        for (offset, byte) in prefix.enumerated() where bytes[index + offset] != byte { return false }
        return true
    }

    private mutating func consume(_ character: Unicode.Scalar) -> Bool { consume(UInt8(character.value)) }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Skips spaces, tabs and line ends; returns whether there were any.
    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): index += 1
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
            default: return index > start
            }
        }
        return index > start
    }

    /// The position of `terminator` at or after the current one.
    private func find(_ terminator: StaticString) -> Int? {
        let pattern = terminator.withUTF8Buffer { Array($0) }
        var position = index
        while position + pattern.count <= bytes.count {
            if bytes[position] == pattern[0], bytes[position..<(position + pattern.count)].elementsEqual(pattern) {
                return position
            }
            position += 1
        }
        return nil
    }

    private mutating func skip(past terminator: StaticString, what: String) throws(Failure) {
        guard let end = find(terminator) else { throw fail("\(what) is not closed") }
        countLines(upTo: end)
        index = end + terminator.utf8CodeUnitCount
    }

    private mutating func countLines(upTo end: Int) {
        for position in index..<end where bytes[position] == UInt8(ascii: "\n") { line += 1 }
    }

    private func normalizeLineEnds(_ slice: Slice<UnsafeBufferPointer<UInt8>>, into text: inout [UInt8]) {
        var position = slice.startIndex
        while position < slice.endIndex {
            if slice[position] == UInt8(ascii: "\r") {
                text.append(UInt8(ascii: "\n"))
                if position + 1 < slice.endIndex, slice[position + 1] == UInt8(ascii: "\n") { position += 1 }
            } else {
                text.append(slice[position])
            }
            position += 1
        }
    }

    private func fail(_ reason: String) -> Failure { Failure(line: line, reason: reason) }
}
