import Foundation

/// One CSV record with the line it started on (for messages).
struct CSVRecord: Sendable {
    let line: Int
    let cells: [String]
}

/// RFC 4180 CSV: quoted cells with doubled quotes, CRLF or LF line ends, line breaks inside quotes.
/// A delimiter other than a comma is detected from the first line (`;` or tab). 1Password 7 escapes
/// quotes with a backslash instead (``QuoteEscape/backslash``).
///
/// It works on UTF-8 bytes: every structural character is ASCII, so multi-byte characters can
/// never be mistaken for one, and cells are decoded once, whole.
enum CSVReader {
    /// How a quote inside a quoted cell is written.
    enum QuoteEscape {
        /// `""` (RFC 4180).
        case doubled
        /// `\"` (1Password 7), and `""` as well. A value that ends with a backslash is ambiguous in
        /// this escaping and is read as an escaped quote, as Bitwarden's reader does
        /// (quotes before commas and line ends are common: tag sets, notes); the misread row then has the
        /// wrong number of cells and is named in the preview.
        case backslash
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")

    /// Splits `text` into records; `progress` hears the fraction of bytes read after each record
    /// that crosses another 256 KiB.
    static func parse(
        _ text: String, file: String, escape: QuoteEscape = .doubled, progress: ImportProgress? = nil
    ) throws(ImportError) -> [CSVRecord] {
        let bytes = Array(text.utf8)
        let delimiter = detectDelimiter(bytes)
        var records: [CSVRecord] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var inQuotes = false
        var quotedCell = false
        var line = 1
        var recordLine = 1
        var index = 0
        var nextReport = 1 << 18

        func endCell() {
            cells.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
            quotedCell = false
        }
        func endRecord() {
            endCell()
            if !(cells.count == 1 && cells[0].isEmpty) { records.append(CSVRecord(line: recordLine, cells: cells)) }
            cells.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if escape == .backslash, byte == backslash, index + 1 < bytes.count, bytes[index] == quote {
                    cell.append(quote)
                    index += 1
                } else if byte == quote {
                    if index < bytes.count, bytes[index] == quote {
                        cell.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == lineFeed { line += 1 }
                    cell.append(byte)
                }
            } else {
                switch byte {
                case quote where cell.isEmpty && !quotedCell:
                    inQuotes = true
                    quotedCell = true
                case delimiter:
                    endCell()
                case carriageReturn, lineFeed:
                    if byte == carriageReturn, index < bytes.count, bytes[index] == lineFeed { index += 1 }
                    endRecord()
                    line += 1
                    recordLine = line
                    if let progress, index >= nextReport {
                        progress(Double(index) / Double(bytes.count))
                        nextReport = index + 1 << 18
                    }
                default:
                    cell.append(byte)
                }
            }
            if cell.count > ImportLimits.maximumFieldSize {
                throw .malformed(
                    file: file, line: recordLine, field: nil, reason: "a cell is larger than 1 MiB; the file is damaged"
                )
            }
        }
        if inQuotes {
            throw .malformed(
                file: file, line: recordLine, field: nil,
                reason: "a quoted cell is never closed (the file is cut short or a quote is missing)")
        }
        if !cell.isEmpty || !cells.isEmpty { endRecord() }
        return records
    }

    private static func detectDelimiter(_ bytes: [UInt8]) -> UInt8 {
        let firstLine = bytes.prefix { $0 != lineFeed && $0 != carriageReturn }
        let candidates = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t")]
        let counts = candidates.map { delimiter in (delimiter, firstLine.count { $0 == delimiter }) }
        guard let best = counts.max(by: { $0.1 < $1.1 }), best.1 > 0 else { return UInt8(ascii: ",") }
        return best.0
    }
}

extension SkippedRecord {
    /// A CSV row longer than its header: a quote or comma out of place shifted its cells.
    static func tooManyCells(_ record: CSVRecord, headerCount: Int) -> SkippedRecord {
        SkippedRecord(
            line: record.line, field: nil,
            reason: "\(record.cells.count) cells where the header has \(headerCount) (a quote or comma out of place)")
    }
}
