public import Foundation

/// A small element tree read by ``XMLReader``: KeePass XML is read whole, and the protected values
/// must be visited in document order to undo the inner stream cipher.
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

    func appendText(_ part: String) { textParts.append(part) }

    func append(_ child: XMLTree) { children.append(child) }

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
    /// a hostile file would make a parser expand a few bytes into gigabytes. Bytes that are not
    /// UTF-8 are refused before parsing too: KeePass writes UTF-8, and names and text are read as it.
    public static func parse(_ data: Data) throws(KDBXError) -> XMLTree {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw .damaged("its XML is not valid UTF-8")
        }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil {
            throw .damaged("its XML declares a document type, which KeePass never writes")
        }
        do {
            return try XMLReader.read(data)
        } catch {
            throw .damaged("its XML is broken at line \(error.line): \(error.reason)")
        }
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
            // A reader turns a raw carriage return into a line feed; a reference keeps it.
            case "\r": result += "&#13;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value >= 0x20 && !(0xFFFE...0xFFFF).contains(value) { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
