import Foundation

/// Turns an export's bytes into text: UTF-8 (with or without a byte-order mark), UTF-16 with a mark,
/// and, when the bytes are not valid UTF-8, Windows-1252 / Latin-1 (old Windows exports) — said in a
/// note, since accented letters are then guessed.
enum TextDecoding {
    static func decode(_ data: Data, file: String) throws(ImportError) -> (text: String, note: String?) {
        let bytes = [UInt8](data.prefix(4))
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            guard let text = String(data: data.dropFirst(3), encoding: .utf8) else {
                throw .malformed(file: file, line: nil, field: nil, reason: "it starts as UTF-8 but is not valid UTF-8")
            }
            return (text, nil)
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let encoding: String.Encoding = bytes[0] == 0xFF ? .utf16LittleEndian : .utf16BigEndian
            guard (data.count - 2) % 2 == 0, let text = String(data: data.dropFirst(2), encoding: encoding) else {
                throw .malformed(file: file, line: nil, field: nil, reason: "it is UTF-16 but cut short or damaged")
            }
            return (text, nil)
        }
        if let text = String(data: data, encoding: .utf8) { return (text, nil) }
        if let text = String(data: data, encoding: .windowsCP1252) ?? String(data: data, encoding: .isoLatin1) {
            return (text, "\(file) is not UTF-8; it was read as Windows-1252 (Latin-1). Check accented letters.")
        }
        throw .malformed(file: file, line: nil, field: nil, reason: "its text encoding is not UTF-8, UTF-16 or Latin-1")
    }
}
