import Foundation

/// One CSV record with the line it started on (for messages).
struct CSVRecord: Sendable {
    let line: Int
    let cells: [String]
}

/// RFC 4180 CSV: quoted cells with doubled quotes, CRLF or LF line ends, line breaks inside quotes.
/// A delimiter other than a comma is detected from the first line (`;` or tab).
enum CSVReader {
    static func parse(_ text: String, file: String) throws(ImportError) -> [CSVRecord] {
        let delimiter = detectDelimiter(text)
        var records: [CSVRecord] = []
        var cells: [String] = []
        var cell = ""
        var cellSize = 0
        var inQuotes = false
        var quotedCell = false
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?

        func endCell() {
            cells.append(cell)
            cell = ""
            cellSize = 0
            quotedCell = false
        }
        func endRecord() {
            endCell()
            if !(cells.count == 1 && cells[0].isEmpty) { records.append(CSVRecord(line: recordLine, cells: cells)) }
            cells = []
        }

        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        cell.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    cell.unicodeScalars.append(scalar)
                    cellSize += 1
                }
            } else {
                switch scalar {
                case "\"" where cell.isEmpty && !quotedCell:
                    inQuotes = true
                    quotedCell = true
                case delimiter:
                    endCell()
                case "\r":
                    let next = iterator.next()
                    if next != "\n" { pending = next }
                    endRecord()
                    line += 1
                    recordLine = line
                case "\n":
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    cell.unicodeScalars.append(scalar)
                    cellSize += 1
                }
            }
            if cellSize > ImportLimits.maximumFieldSize {
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

    private static func detectDelimiter(_ text: String) -> Unicode.Scalar {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r" }
        let counts: [(Unicode.Scalar, Int)] = [",", ";", "\t"].map { delimiter in
            (delimiter, firstLine.unicodeScalars.filter { $0 == delimiter }.count)
        }
        return counts.max { $0.1 < $1.1 }.flatMap { $0.1 > 0 ? $0.0 : nil } ?? ","
    }
}
