import Foundation
import Testing

@testable import CofferKDBX

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Coffer's own XML reader, checked against Foundation's `XMLParser` (libxml2), which it replaced.
@Suite("XML reader: what KeePass and SafeInCloud write, the same as libxml2 reads it")
struct XMLReaderTests {
    /// An element as libxml2 (through Foundation) reads it: name, attributes, all text, children.
    struct Node: Equatable, CustomStringConvertible {
        var name: String
        var attributes: [String: String]
        var text: String
        var children: [Node]

        init(_ tree: XMLTree) {
            name = tree.name
            attributes = tree.attributes
            text = tree.text
            children = tree.children.map(Node.init)
        }

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
            text = ""
            children = []
        }

        var description: String { "<\(name) \(attributes)>\(text.debugDescription)\(children)</\(name)>" }
    }

    /// Foundation's reading of `text`, as the tree Coffer's reader should give.
    final class Reference: NSObject, XMLParserDelegate {
        private var stack: [Node] = []
        var root: Node?

        static func read(_ text: String) -> Node? {
            let reference = Reference()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = reference
            return parser.parse() ? reference.root : nil
        }

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(Node(name: elementName, attributes: attributes))
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            let done = stack.removeLast()
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: block, as: UTF8.self) }
        }
    }

    static let documents: [String] = [
        // KeePass 2 XML as KeePass and KeePassXC write it: declaration, BOM-less, tabs, protected values.
        """
        <?xml version="1.0" encoding="utf-8" standalone="yes"?>
        <KeePassFile>
        \t<Meta><Generator>KeePass</Generator><DatabaseName>Mine &amp; yours</DatabaseName></Meta>
        \t<Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAA==</UUID><Name>Root</Name>
        \t\t<Entry><String><Key>Title</Key><Value>Bank &lt;main&gt; &quot;acct&quot; &apos;1&apos;</Value></String>
        \t\t<String><Key>Password</Key><Value Protected="True">c2VjcmV0</Value></String>
        \t\t<String><Key>Notes</Key><Value>line one\r\nline two\rline three\nend&#13;&#10;&#x1F511;&#233;</Value></String>
        \t\t<String><Key>Empty</Key><Value /></String><Times><Expires>False</Expires></Times></Entry>
        \t</Group></Root>
        </KeePassFile>
        """,
        // SafeInCloud's shape: attributes carry the data, single and double quotes, entities in both.
        """
        <?xml version='1.0' encoding='UTF-8'?>
        <!-- exported -->
        <database><card title='Mail &amp; "chat"' id="1" star="true" template="false">
        <field name="Login" type='login'>me@example.org</field>
        <field name="Website" type="website">https://a.example/?x=1&amp;y=2</field>
        <notes><![CDATA[raw <b>bold</b> & kept]]> after</notes>
        <?pi inside?><label_id>3</label_id><!-- note --></card>
        <label name="Tab&#9;and&#xA;line" id="3"/></database>
        """,
        "<a>\u{FEFF}ü 🔑 日本 ‮rtl</a>",
        "<a  x = \"1\"\n\ty='two\nlines'\r\n/>",
        "<a><b/><b></b><b>t</b>tail<c><d><e>deep</e></d></c></a>",
    ]

    @Test("each document reads as libxml2 reads it: names, attributes, text with line ends and references, order")
    func sameAsLibxml2() throws {
        for document in Self.documents {
            let expected = try #require(Reference.read(document), "libxml2 reads: \(document)")
            #expect(Node(try XMLTree.parse(Data(document.utf8))) == expected)
        }
    }

    @Test("a byte-order mark and comments or instructions around the root are fine")
    func prologue() throws {
        let tree = try XMLTree.parse(
            Data([0xEF, 0xBB, 0xBF] + Array("<?xml version='1.0'?><!--c--><r>v</r><!--after-->\n".utf8)))
        #expect(tree.name == "r" && tree.text == "v")
    }

    @Test("broken documents are refused with the line and what is wrong, and nothing is guessed")
    func refusals() {
        let cases: [(String, String)] = [
            ("<a><b></a>", "</a> closes <b>"),
            ("<a>\n\n<b>", "cut short"),
            ("<a>x &nbsp; y</a>", "&nbsp;"),
            ("<a>&#0;</a>", "not a character"),
            ("<a>&#xD800;</a>", "not a character"),
            ("<a>& b</a>", "reference"),
            ("<a x='1' x='2'/>", "twice"),
            ("<a x=1/>", "quotes"),
            ("<a x='<'/>", "holds <"),
            ("text", "does not start with an element"),
            ("<a><![CDATA[never closed</a>", "CDATA"),
            ("<a><!-- never closed</a>", "comment"),
            ("<a><!ELEMENT x ANY></a>", "never writes"),
            ("<a b='1'c='2'/>", "separated by spaces"),
            ("<1a/>", "name is missing"),
        ]
        for (document, reason) in cases {
            #expect(Reference.read(document) == nil, "libxml2 refuses \(document.debugDescription) too")
            do {
                _ = try XMLTree.parse(Data(document.utf8))
                Issue.record("accepted: \(document)")
            } catch {
                #expect(error.description.contains(reason), "\(document): \(error.description)")
            }
        }
        // Foundation's parser took a second root element and dropped it; Coffer refuses the document.
        #expect(Reference.read("<a/><b/>") != nil)
        #expect(throws: KDBXError.self) { try XMLTree.parse(Data("<a/><b/>".utf8)) }
        do {
            _ = try XMLTree.parse(Data("<a>\n<b>\n</c></a>".utf8))
        } catch {
            #expect(error.description.contains("line 3"), "\(error.description)")
        }
    }

    @Test("nesting past 256 levels is refused without recursion; 256 levels read")
    func depth() throws {
        let deep = { (levels: Int) in
            Data((String(repeating: "<e>", count: levels) + String(repeating: "</e>", count: levels)).utf8)
        }
        var tree = try XMLTree.parse(deep(XMLReader.maximumDepth))
        var levels = 1
        while let child = tree.children.first {
            tree = child
            levels += 1
        }
        #expect(levels == XMLReader.maximumDepth)
        #expect(throws: KDBXError.self) { try XMLTree.parse(deep(XMLReader.maximumDepth + 1)) }
        #expect(throws: KDBXError.self) { try XMLTree.parse(deep(1_000_000)) }
    }

    @Test("every truncation of a document is refused, never read past its end")
    func truncations() {
        let document = Data(Self.documents[0].utf8)
        for length in 0..<document.count {
            #expect(throws: KDBXError.self) { try XMLTree.parse(document.prefix(length)) }
        }
    }

    @Test("serializing and reading again gives the same tree")
    func roundTrip() throws {
        for document in Self.documents {
            let tree = try XMLTree.parse(Data(document.utf8))
            let again = try XMLTree.parse(tree.serialized())
            #expect(Node(again).name == Node(tree).name)
            #expect(again.allElements.map(\.name) == tree.allElements.map(\.name))
            #expect(
                again.allElements.filter(\.children.isEmpty).map(\.text)
                    == tree.allElements.filter(\.children.isEmpty).map(\.text))
        }
    }
}
