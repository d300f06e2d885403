import CofferKDBX
public import CofferModel
public import Foundation

/// A record of the file that could not become an item, and why (shown in the preview).
public struct SkippedRecord: Sendable, Equatable, Codable {
    /// The CSV line, when the file has lines.
    public var line: Int?
    /// The JSON path or column, when known.
    public var field: String?
    /// Why.
    public var reason: String

    /// A record left out (the import command also leaves out items too large to sync).
    public init(line: Int?, field: String?, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }
}

/// What a file holds, read and mapped, before anything touches the vault.
public struct ImportedItems: Sendable {
    /// The format read.
    public var format: ImportFormat
    /// Items, in file order.
    public var items: [Item]
    /// Records that could not be taken.
    public var skipped: [SkippedRecord]
    /// Things the user should know (e.g. the text encoding was guessed).
    public var notes: [String]

    /// Creates a result (readers outside this module, such as the encrypted export's, use it).
    public init(format: ImportFormat, items: [Item], skipped: [SkippedRecord], notes: [String]) {
        self.format = format
        self.items = items
        self.skipped = skipped
        self.notes = notes
    }
}

/// Hears how far a long read has got, from 0 to 1 (for a progress bar).
public typealias ImportProgress = @Sendable (Double) -> Void

/// Reads exports of other password managers into Coffer items; never touches a vault.
public enum Importer {
    /// Reads the file at `path`; the format is detected from its content unless given.
    public static func read(
        file path: String, format: ImportFormat? = nil, columns: ColumnMapping? = nil, now: Date = Date(),
        progress: ImportProgress? = nil
    ) throws(ImportError) -> ImportedItems {
        let data = try contents(of: path)
        return try read(
            data: data, name: (path as NSString).lastPathComponent, format: format, columns: columns, now: now,
            progress: progress)
    }

    /// The bytes of an export file, refusing one larger than any export before reading it.
    public static func contents(of path: String) throws(ImportError) -> Data {
        let name = (path as NSString).lastPathComponent
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if attributes?[.type] as? FileAttributeType == .typeDirectory { throw folderError(path, name: name) }
        guard let size = attributes?[.size] as? Int else { throw .unreadable(file: name) }
        guard size <= ImportLimits.maximumFileSize else { throw .tooLarge(file: name, bytes: size) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(file: name) }
        return data
    }

    /// Why a folder cannot be imported: an OPVault (1Password 7's folder format, which Coffer does not
    /// read) gets the exports that carry the same data; any other folder, a request for its file.
    private static func folderError(_ path: String, name: String) -> ImportError {
        let isOPVault =
            name.lowercased().hasSuffix(".opvault")
            || FileManager.default.fileExists(atPath: path + "/default/profile.js")
        guard isOPVault else {
            return .unsupported(file: name, reason: "it is a folder; give the export file inside it")
        }
        return .unsupported(
            file: name,
            reason:
                "it is a 1Password OPVault, which Coffer does not read. In 1Password 7 choose File > Export > All Items as 1Password Interchange Format (.1pif), or in 1Password 8 export as .1pux, and import that file"
        )
    }

    /// Reads export bytes; `name` names the file in messages.
    public static func read(
        data: Data, name: String, format: ImportFormat? = nil, columns: ColumnMapping? = nil, now: Date = Date(),
        progress: ImportProgress? = nil
    ) throws(ImportError) -> ImportedItems {
        guard data.count <= ImportLimits.maximumFileSize else { throw .tooLarge(file: name, bytes: data.count) }
        guard !data.isEmpty else { throw .malformed(file: name, line: nil, field: nil, reason: "the file is empty") }
        if format == .keepassKDBX, !KDBXFile.hasSignature(data) {
            throw .malformed(
                file: name, line: nil, field: nil, reason: "it is not a KeePass database (no KDBX signature)")
        }
        if data.starts(with: Data("PK\u{3}\u{4}".utf8)) {
            return try ArchiveImporters.read(data, file: name, now: now)
        }
        if KDBXFile.hasSignature(data) {
            throw .unsupported(
                file: name,
                reason: "it is a KeePass database, which opens with its password (`coffer import` asks for it)")
        }
        let (text, encodingNote) = try TextDecoding.decode(data, file: name)
        var result: ImportedItems
        let trimmed = text.drop { $0.isWhitespace }
        if format == .onePasswordPIF || (format == nil && OnePIFImporter.recognises(trimmed)) {
            let (items, skipped) = OnePIFImporter(file: name, now: now).read(text)
            result = ImportedItems(format: .onePasswordPIF, items: items, skipped: skipped, notes: [])
        } else if format == .safeInCloudXML
            || (format == nil && trimmed.first == "<" && SafeInCloudXMLImporter.recognises(trimmed))
        {
            let (items, skipped) = try SafeInCloudXMLImporter(file: name, now: now).read(Data(text.utf8))
            result = ImportedItems(format: .safeInCloudXML, items: items, skipped: skipped, notes: [])
        } else if format == .keepassXML || (format == nil && trimmed.first == "<" && KDBXFile.looksLikeXML(trimmed)) {
            do {
                let (database, absent) = try KDBXFile.readXML(Data(text.utf8))
                result = KeePassInterchange.items(from: database, format: .keepassXML, now: now)
                if !absent.isEmpty {
                    result.notes.append(
                        "\(absent.count) attachment(s) are named in the XML but their content is not in it (KeePassXC leaves attachments out of XML exports of KDBX 4 databases), so they are left out: \(absent.joined(separator: "; ")). Import the .kdbx file itself to keep them."
                    )
                }
            } catch {
                throw .malformed(file: name, line: nil, field: nil, reason: "as KeePass XML, \(error)")
            }
        } else if format == .keeperJSON || (format == nil && trimmed.first == "{" && mayBeKeeper(text)) {
            let object = try requiredObject(text, file: name)
            let (items, skipped) = KeeperJSONImporter(file: name, now: now).read(object)
            result = ImportedItems(format: .keeperJSON, items: items, skipped: skipped, notes: [])
        } else if format == .psonoJSON || (format == nil && trimmed.first == "{" && mayBePsono(text)) {
            let object = try requiredObject(text, file: name)
            let (items, skipped) = PsonoJSONImporter(now: now).read(object)
            result = ImportedItems(format: .psonoJSON, items: items, skipped: skipped, notes: [])
        } else if format == .enpassJSON || (format == nil && trimmed.first == "{" && mayBeEnpass(text)) {
            let object = try requiredObject(text, file: name)
            let (items, skipped) = EnpassJSONImporter(now: now).read(object)
            result = ImportedItems(format: .enpassJSON, items: items, skipped: skipped, notes: [])
        } else if format == .bitwardenJSON || (format == nil && trimmed.first == "{") {
            let (items, skipped) = try BitwardenJSONImporter(file: name, now: now).read(Data(text.utf8))
            result = ImportedItems(format: .bitwardenJSON, items: items, skipped: skipped, notes: [])
        } else {
            result = try readCSV(text, name: name, format: format, columns: columns, now: now, progress: progress)
        }
        if let encodingNote { result.notes.append(encodingNote) }
        // A guess that finds nothing is no success: say so rather than import zero items.
        if format == nil, result.items.isEmpty {
            throw .recognisedButEmpty(
                file: name, format: result.format.displayName, likely: likelySource(ofJSON: text))
        }
        return result
    }

    /// Cheap first look before parsing a whole file twice: Keeper's key and none of Bitwarden's.
    private static func mayBeKeeper(_ text: String) -> Bool {
        let start = text.prefix(1 << 16)
        return start.contains("\"records\"") && !start.contains("\"items\"")
            && jsonObject(text).map(KeeperJSONImporter.recognises) == true
    }

    /// Psono names item types with words (`"type": "website_password"`); Bitwarden numbers them.
    private static func mayBePsono(_ text: String) -> Bool {
        let start = text.prefix(1 << 16)
        return (start.contains("\"type\":\"") || start.contains("\"type\": \"")) && !start.contains("\"vaults\"")
            && jsonObject(text).map(PsonoJSONImporter.recognises) == true
    }

    /// Enpass items carry a `category` and a `template_type`; Bitwarden's carry neither.
    private static func mayBeEnpass(_ text: String) -> Bool {
        let start = text.prefix(1 << 16)
        return start.contains("\"category\"") && start.contains("\"fields\"")
            && jsonObject(text).map(EnpassJSONImporter.recognises) == true
    }

    /// The top-level JSON object of a file read as a schemaless JSON format, or why it is not one.
    private static func requiredObject(_ text: String, file: String) throws(ImportError) -> [String: Any] {
        guard let object = jsonObject(text) else {
            throw .malformed(
                file: file, line: nil, field: nil, reason: "it is not a JSON object (cut short or damaged)")
        }
        return object
    }

    private static func jsonObject(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    /// Names the manager a JSON export probably came from, by its top-level keys.
    private static func likelySource(ofJSON text: String) -> String? {
        guard text.first(where: { !$0.isWhitespace }) == "{",
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { return nil }
        let keys = Set(object.keys)
        let shapes: [(keys: Set<String>, name: String)] = [
            (["shared_folders"], "a Keeper JSON export"),
            (["vaults"], "a Proton Pass JSON export"),
            (["accounts"], "1Password's export.data (import the .1pux file)"),
            (["passwordsEncrypted"], "an encrypted export"),
        ]
        return shapes.first { !$0.keys.isDisjoint(with: keys) }?.name
    }

    private static func readCSV(
        _ text: String, name: String, format requested: ImportFormat?, columns: ColumnMapping?, now: Date,
        progress: ImportProgress?
    ) throws(ImportError) -> ImportedItems {
        // 1Password 7 escapes quotes with backslashes, so its files are split differently; its header
        // line holds no quotes to escape, so the first line tells.
        if requested == nil || requested == .onePasswordCSV, columns == nil,
            let headerLine = try? CSVReader.parse(String(text.prefix { !$0.isNewline }), file: name).first,
            let layout = OnePassword7CSVImporter.layout(of: headerLine.cells.map(ImportFormat.normalizedColumn))
        {
            let records = try CSVReader.parse(text, file: name, escape: .backslash, progress: progress)
            return OnePassword7CSVImporter(layout: layout, now: now).read(records)
        }
        // Splitting is about half the work, mapping the other half.
        var splitting: ImportProgress?
        if let progress { splitting = { @Sendable fraction in progress(fraction / 2) } }
        let records = try CSVReader.parse(text, file: name, progress: splitting)
        guard let first = records.first else {
            throw .malformed(file: name, line: 1, field: nil, reason: "there is no header row")
        }
        let hasMSecureLine = first.cells.first?.hasPrefix("mSecure6 CSV export file") == true
        let header = first.cells.map(ImportFormat.normalizedColumn)
        let detected = ImportFormat.detect(csvHeader: header)
        if requested == .msecureCSV || (requested == nil && hasMSecureLine)
            || (requested == nil && columns == nil && detected == nil
                && MSecureImporter.looksLikeRecord(first))
        {
            let importer = MSecureImporter(now: now)
            var items: [Item] = []
            var skipped: [SkippedRecord] = []
            var notes: [String] = []
            // The marker line is not a record; a file without it starts with its first item.
            for record in hasMSecureLine ? records.dropFirst() : records[...] {
                if let item = importer.item(record, notes: &notes) {
                    items.append(item)
                } else {
                    skipped.append(SkippedRecord(line: record.line, field: nil, reason: "fewer than 4 cells"))
                }
            }
            return ImportedItems(format: .msecureCSV, items: items, skipped: skipped, notes: notes)
        }
        if requested == .keeperCSV
            || (requested == nil && columns == nil && detected == nil
                && KeeperCSVImporter.recognises(records))
        {
            return KeeperCSVImporter(now: now).read(records)
        }
        let format: ImportFormat
        if columns != nil {
            format = .genericCSV
        } else if let requested {
            format = requested
        } else if let detected {
            format = detected
        } else {
            throw .unknownFormat(
                file: name, detail: "its header row is \"\(first.cells.prefix(12).joined(separator: ","))\"")
        }
        if format == .genericCSV, columns == nil {
            throw .unknownFormat(file: name, detail: "a plain CSV needs --columns to say which column is which")
        }
        let importers = CSVImporters(now: now)
        progress?(0.5)
        // Each row maps to an item on its own: on every core, in order.
        let outcomes = ParallelMap.map(Array(records.dropFirst())) { record -> RowOutcome in
            var row = CSVRow(line: record.line, header: header, cells: record.cells)
            if row.extraCells > 0 { return .skipped(.tooManyCells(record, headerCount: header.count)) }
            if record.cells.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { return .blank }
            guard let item = importers.item(format, &row, columns: columns) else {
                return .skipped(SkippedRecord(line: record.line, field: nil, reason: "nothing to import"))
            }
            return .item(item)
        }
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        items.reserveCapacity(outcomes.count)
        for outcome in outcomes {
            switch outcome {
            case .item(let item): items.append(item)
            case .skipped(let record): skipped.append(record)
            case .blank: break
            }
        }
        return ImportedItems(format: format, items: items, skipped: skipped, notes: [])
    }

    /// What one CSV row became.
    private enum RowOutcome: Sendable {
        case item(Item)
        case skipped(SkippedRecord)
        /// A row of empty cells, passed over silently.
        case blank
    }
}
