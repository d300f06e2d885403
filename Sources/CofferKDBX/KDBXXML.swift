import Foundation

/// Maps KeePass XML (the decrypted KDBX 4 payload after the inner header) to `KDBXDatabase` and back.
enum KDBXXML {
    /// Reads the document; protected values are revealed with `stream` in document order, and
    /// attachment references point into `binaries` (the inner header's list).
    static func database(from xml: [UInt8], stream: inout InnerStream, binaries: [[UInt8]]) throws(KDBXError)
        -> KDBXDatabase
    {
        let document = try XMLTree.parse(Data(xml))
        guard document.name == "KeePassFile" else { throw .damaged("its XML is not a KeePassFile") }
        try reveal(document, &stream)
        return try database(from: document, binaries: binaries)
    }

    /// Reads KeePass's unencrypted XML export: values in clear (`ProtectInMemory` marks the secret
    /// ones) and attachments in `Meta/Binaries`, base64 and optionally gzip-compressed.
    ///
    /// KeePassXC leaves attachment contents out of the XML export of a KDBX 4 database while keeping
    /// the references; those attachments are dropped from their entries and named in the answer
    /// ("Title: name") so the import can say so instead of refusing the whole file.
    static func database(fromPlainXML xml: Data) throws(KDBXError) -> (
        database: KDBXDatabase, absentAttachments: [String]
    ) {
        let document = try XMLTree.parse(xml)
        guard document.name == "KeePassFile" else { throw .damaged("its XML is not a KeePassFile") }
        if containsProtectedValue(document) {
            throw .damaged(
                "it holds values encrypted for a KDBX file; export the database again as plain XML, or import the .kdbx itself"
            )
        }
        let ordered = try metaBinaries(document)
        var absent: [String] = []
        for entry in document.allElements where entry.name == "Entry" {
            let title = entry.children("String").first { $0.child("Key")?.text == "Title" }?.child("Value")?.text ?? ""
            entry.removeChildren { binary in
                guard binary.name == "Binary", let reference = binary.child("Value")?.attributes["Ref"],
                    !(Int(reference).map(ordered.indices.contains) ?? false)
                else { return false }
                let note = "\(title): \(binary.child("Key")?.text ?? "an attachment")"
                if !absent.contains(note) { absent.append(note) }
                return true
            }
        }
        return (try database(from: document, binaries: ordered), absent)
    }

    /// Reads a KDBX 3.1 payload's XML: protected values revealed with `stream` in document order
    /// (attachments in `Meta/Binaries` included), then attachments taken from there.
    static func database(fromKDBX3 xml: [UInt8], stream: inout InnerStream) throws(KDBXError) -> KDBXDatabase {
        let document = try XMLTree.parse(Data(xml))
        guard document.name == "KeePassFile" else { throw .damaged("its XML is not a KeePassFile") }
        try reveal(document, &stream)
        return try database(from: document, binaries: try metaBinaries(document))
    }

    /// The attachments in `Meta/Binaries` (KDBX 3.1 and XML exports), base64 and optionally gzip,
    /// in ID order; references are list positions, so the IDs must be 0, 1, … without a gap.
    private static func metaBinaries(_ document: XMLTree) throws(KDBXError) -> [[UInt8]] {
        var binaries: [(id: Int, content: [UInt8])] = []
        for binary in document.child("Meta")?.child("Binaries")?.children("Binary") ?? [] {
            guard let id = binary.attributes["ID"].flatMap({ Int($0) }), id >= 0,
                let decoded = Data(base64Encoded: binary.text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw .damaged("an attachment in Meta/Binaries has no ID or is not base64") }
            let compressed = binary.attributes["Compressed"]?.lowercased() == "true"
            binaries.append((id, compressed ? try Gzip.decompress(Array(decoded)) : Array(decoded)))
        }
        var ordered: [[UInt8]] = []
        for (position, binary) in binaries.sorted(by: { $0.id < $1.id }).enumerated() {
            guard binary.id == position else { throw .damaged("the attachment IDs in Meta/Binaries have a gap") }
            ordered.append(binary.content)
        }
        return ordered
    }

    private static func containsProtectedValue(_ element: XMLTree) -> Bool {
        element.attributes["Protected"]?.lowercased() == "true"
            || element.children.contains(where: containsProtectedValue)
    }

    private static func database(from document: XMLTree, binaries: [[UInt8]]) throws(KDBXError) -> KDBXDatabase {
        guard let rootGroup = document.child("Root")?.child("Group") else {
            throw .damaged("its XML has no Root/Group")
        }
        let meta = document.child("Meta")
        let recycleBin =
            meta?.child("RecycleBinEnabled")?.text.lowercased() == "false"
            ? nil : meta?.child("RecycleBinUUID").flatMap { uuid($0.text) }
        return KDBXDatabase(
            name: meta?.child("DatabaseName")?.text ?? "",
            root: try group(rootGroup, binaries: binaries), recycleBinID: recycleBin)
    }

    /// Writes the document; protected values are hidden with `stream` and attachments are
    /// collected into `binaries` (one copy of each distinct content).
    static func document(for database: KDBXDatabase, stream: inout InnerStream, binaries: inout [[UInt8]])
        throws(KDBXError) -> Data
    {
        let document = XMLTree(name: "KeePassFile")
        let meta = document.add("Meta")
        meta.add("Generator", "Coffer")
        meta.add("DatabaseName", database.name)
        let protection = meta.add("MemoryProtection")
        for (name, value) in [
            ("ProtectTitle", "False"), ("ProtectUserName", "False"), ("ProtectPassword", "True"),
            ("ProtectURL", "False"), ("ProtectNotes", "False"),
        ] {
            protection.add(name, value)
        }
        if let bin = database.recycleBinID {
            meta.add("RecycleBinEnabled", "True")
            meta.add("RecycleBinUUID", base64(bin))
        }
        var writer = Writer(stream: stream, binaries: binaries)
        try writer.add(database.root, to: document.add("Root"))
        stream = writer.stream
        binaries = writer.binaries
        return document.serialized()
    }

    // MARK: Reading

    private static func reveal(_ element: XMLTree, _ stream: inout InnerStream) throws(KDBXError) {
        if element.attributes["Protected"]?.lowercased() == "true" {
            let text = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let hidden = Data(base64Encoded: text) else {
                throw .damaged("a protected value is not base64")
            }
            let clear = try stream.apply(Array(hidden))
            // A protected attachment (KDBX 3.1 Meta/Binaries) is bytes, kept base64 for metaBinaries.
            element.setText(
                element.name == "Binary" ? Data(clear).base64EncodedString() : String(decoding: clear, as: UTF8.self))
        }
        for child in element.children { try reveal(child, &stream) }
    }

    private static func group(_ element: XMLTree, binaries: [[UInt8]]) throws(KDBXError) -> KDBXGroup {
        var result = KDBXGroup(
            uuid: element.child("UUID").flatMap { uuid($0.text) } ?? UUID(), name: element.child("Name")?.text ?? "")
        for child in element.children {
            switch child.name {
            case "Entry": result.entries.append(try entry(child, binaries: binaries))
            case "Group": result.groups.append(try group(child, binaries: binaries))
            default: continue
            }
        }
        return result
    }

    private static func entry(_ element: XMLTree, binaries: [[UInt8]]) throws(KDBXError) -> KDBXEntry {
        var result = KDBXEntry(uuid: element.child("UUID").flatMap { uuid($0.text) } ?? UUID())
        let tags = element.child("Tags")?.text ?? ""
        result.tags = tags.split(whereSeparator: { $0 == ";" || $0 == "," }).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        let times = element.child("Times")
        result.created = times?.child("CreationTime").flatMap { date($0.text) }
        result.modified = times?.child("LastModificationTime").flatMap { date($0.text) }
        for string in element.children("String") {
            guard let key = string.child("Key")?.text else { continue }
            let value = string.child("Value")
            result.strings.append(
                KDBXEntry.StringField(
                    key: key, value: value?.text ?? "",
                    // `ProtectInMemory` marks the secret values of an unencrypted XML export.
                    isProtected: value?.attributes["Protected"]?.lowercased() == "true"
                        || value?.attributes["ProtectInMemory"]?.lowercased() == "true"))
        }
        for binary in element.children("Binary") {
            guard let name = binary.child("Key")?.text, let value = binary.child("Value") else { continue }
            if let reference = value.attributes["Ref"] {
                guard let index = Int(reference), binaries.indices.contains(index) else {
                    throw .damaged("attachment \(name) refers to binary \(reference), which the file does not hold")
                }
                result.attachments.append(KDBXEntry.Attachment(name: name, data: Data(binaries[index])))
            } else if let inline = Data(base64Encoded: value.text) {
                result.attachments.append(KDBXEntry.Attachment(name: name, data: inline))
            }
        }
        if let history = element.child("History") {
            result.history = try history.children("Entry").map { (entry) throws(KDBXError) in
                try Self.entry(entry, binaries: binaries)
            }
        }
        return result
    }

    // MARK: Writing

    private struct Writer {
        var stream: InnerStream
        var binaries: [[UInt8]]
        private var binaryIndex: [[UInt8]: Int] = [:]

        init(stream: InnerStream, binaries: [[UInt8]]) {
            self.stream = stream
            self.binaries = binaries
        }

        mutating func add(_ group: KDBXGroup, to parent: XMLTree) throws(KDBXError) {
            let element = parent.add("Group")
            element.add("UUID", base64(group.uuid))
            element.add("Name", group.name)
            element.add("IconID", "48")
            for entry in group.entries { try add(entry, to: element, isHistory: false) }
            for child in group.groups { try add(child, to: element) }
        }

        mutating func add(_ entry: KDBXEntry, to parent: XMLTree, isHistory: Bool) throws(KDBXError) {
            let element = parent.add("Entry")
            element.add("UUID", base64(entry.uuid))
            element.add("IconID", "0")
            element.add("Tags", entry.tags.joined(separator: ";"))
            let times = element.add("Times")
            let modified = entry.modified ?? Date()
            times.add("CreationTime", text(entry.created ?? modified))
            times.add("LastModificationTime", text(modified))
            times.add("LastAccessTime", text(modified))
            times.add("ExpiryTime", text(modified))
            times.add("Expires", "False")
            times.add("UsageCount", "0")
            times.add("LocationChanged", text(modified))
            for string in entry.strings {
                let field = element.add("String")
                field.add("Key", string.key)
                if string.isProtected {
                    let hidden = try stream.apply(Array(string.value.utf8))
                    field.add("Value", Data(hidden).base64EncodedString(), attributes: ["Protected": "True"])
                } else {
                    field.add("Value", string.value)
                }
            }
            for attachment in entry.attachments {
                let bytes = Array(attachment.data)
                let index = binaryIndex[bytes] ?? binaries.count
                if index == binaries.count {
                    binaries.append(bytes)
                    binaryIndex[bytes] = index
                }
                let field = element.add("Binary")
                field.add("Key", attachment.name)
                field.add("Value", attributes: ["Ref": String(index)])
            }
            if !isHistory, !entry.history.isEmpty {
                let history = element.add("History")
                for old in entry.history { try add(old, to: history, isHistory: true) }
            }
        }
    }

    // MARK: Values

    /// Seconds from 0001-01-01 to 1970-01-01: KDBX 4 stores times as seconds since year 1.
    private static let secondsBeforeUnixEpoch: Int64 = 62_135_596_800

    static func date(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let bytes = Data(base64Encoded: trimmed), bytes.count == 8 {
            let seconds = bytes.reversed().reduce(Int64(0)) { ($0 << 8) | Int64($1) }
            // Any 64-bit value may be in a file; one that does not fit the arithmetic is no date.
            let (unix, overflow) = seconds.subtractingReportingOverflow(secondsBeforeUnixEpoch)
            return overflow ? nil : Date(timeIntervalSince1970: TimeInterval(unix))
        }
        return try? Date(trimmed, strategy: .iso8601)
    }

    /// The latest moment written: year 9999, as KeePass's own range ends there.
    static let latestWritable: TimeInterval = 253_402_300_799

    static func text(_ date: Date) -> String {
        // A date imported from anywhere may be far outside what KeePass can hold; clamp, never trap.
        let clamped = min(max(date.timeIntervalSince1970, -Double(secondsBeforeUnixEpoch)), latestWritable)
        let seconds = Int64(clamped.rounded(.down)) + secondsBeforeUnixEpoch
        return Data(seconds.littleEndianBytes).base64EncodedString()
    }

    static func uuid(_ text: String) -> UUID? {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 16
        else { return nil }
        return UUID(uuid: bytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) })
    }

    static func base64(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { Data($0) }.base64EncodedString()
    }
}
