public import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A small element tree built with Foundation's XMLParser: KeePass XML is read whole, and the
/// protected values must be visited in document order to undo the inner stream cipher.
///
/// Public because other XML exports (SafeInCloud) need the same hardened reading: no DTDs, UTF-8
/// checked first. It belongs in a module of its own once a third reader needs it.
public final class XMLTree {
    /// The element's name.
    public let name: String
    /// Its attributes.
    public let attributes: [String: String]
    /// Its child elements, in document order.
    public private(set) var children: [XMLTree] = []
    fileprivate var textParts: [String] = []

    init(name: String, attributes: [String: String] = [:], text: String = "") {
        self.name = name
        self.attributes = attributes
        if !text.isEmpty { textParts = [text] }
    }

    /// The element's text content (without its children's).
    public var text: String { textParts.count == 1 ? textParts[0] : textParts.joined() }

    /// The first child called `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }
    /// Every child called `name`.
    public func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    func setText(_ value: String) { textParts = [value] }

    func removeChildren(where shouldRemove: (XMLTree) -> Bool) { children.removeAll(where: shouldRemove) }

    /// This element and every element below it, depth first.
    var allElements: [XMLTree] { [self] + children.flatMap(\.allElements) }

    @discardableResult
    func add(_ name: String, _ text: String = "", attributes: [String: String] = [:]) -> XMLTree {
        let element = XMLTree(name: name, attributes: attributes, text: text)
        children.append(element)
        return element
    }

    /// Parses a document into its root element, or says where it is broken.
    ///
    /// Documents with a DTD are refused: KeePass never writes one, and entity definitions are how
    /// a hostile file would make the parser expand a few bytes into gigabytes. Bytes that are not
    /// UTF-8 are refused before parsing too: KeePass writes UTF-8, and Foundation's parser traps on
    /// an element name that is not (found by the fuzzer).
    public static func parse(_ data: Data) throws(KDBXError) -> XMLTree {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw .damaged("its XML is not valid UTF-8")
        }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil {
            throw .damaged("its XML declares a document type, which KeePass never writes")
        }
        let builder = Builder()
        // Fed from a stream, the parser gets the document in small chunks. Given whole, libxml2 refuses
        // any document over 10 MB as a "huge input lookup" (30,000 KeePass entries are more).
        let parser = XMLParser(stream: InputStream(data: data))
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let error = parser.parserError.map { "\($0.localizedDescription)" } ?? "it is not XML"
            throw .damaged("its XML is broken at line \(parser.lineNumber): \(error)")
        }
        guard builder.isComplete else { throw .damaged("its XML stops before the document ends (cut short)") }
        return root
    }

    /// The document as UTF-8 XML with a declaration.
    func serialized() -> Data {
        var output = "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n"
        write(into: &output, depth: 0)
        return Data(output.utf8)
    }

    private func write(into output: inout String, depth: Int) {
        let indent = String(repeating: "\t", count: depth)
        output += indent + "<" + name
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            output += " \(key)=\"\(Self.escape(value))\""
        }
        if children.isEmpty {
            let value = text
            output += value.isEmpty ? " />\n" : ">" + Self.escape(value) + "</" + name + ">\n"
            return
        }
        output += ">\n"
        for child in children { child.write(into: &output, depth: depth + 1) }
        output += indent + "</" + name + ">\n"
    }

    /// Escapes markup characters and drops characters XML 1.0 cannot hold (KeePass does the same).
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value >= 0x20 && !(0xFFFE...0xFFFF).contains(value) { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLTree?
        private var stack: [XMLTree] = []
        /// Whether every element opened was closed (Foundation's parser accepts a cut-short document).
        var isComplete: Bool { root != nil && stack.isEmpty }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            let element = XMLTree(name: elementName, attributes: attributes)
            if let parent = stack.last { parent.children.append(element) } else if root == nil { root = element }
            stack.append(element)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.textParts.append(string)
        }
    }
}
