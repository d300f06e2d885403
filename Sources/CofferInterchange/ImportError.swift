import Foundation

/// What is wrong with a file given to `coffer import`, naming the file, the line or field, and what to
/// do. Every case leaves the vault unchanged.
public enum ImportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file cannot be read.
    case unreadable(file: String)
    /// Larger than an export can reasonably be.
    case tooLarge(file: String, bytes: Int)
    /// Damaged at a place: `line` counts from 1 (CSV), `field` names a JSON path or column.
    case malformed(file: String, line: Int?, field: String?, reason: String)
    /// Not a format Coffer recognises.
    case unknownFormat(file: String, detail: String)
    /// A format Coffer recognises but cannot open.
    case unsupported(file: String, reason: String)
    /// The file's own password (or key file) does not open it.
    case wrongSecret(file: String, reason: String)
    /// Detected as `format` but nothing in it became an item: most likely another manager's export
    /// that looks alike; `likely` names it when the file's shape says which.
    case recognisedButEmpty(file: String, format: String, likely: String?)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .unreadable(let file):
            return "\(file) cannot be read: it does not exist or is not readable by you. Nothing was imported."
        case .tooLarge(let file, let bytes):
            return
                "\(file) is \(bytes / 1_048_576) MiB, larger than any password export Coffer accepts (\(ImportLimits.maximumFileSize / 1_048_576) MiB). Nothing was imported."
        case .malformed(let file, let line, let field, let reason):
            let place = [line.map { "line \($0)" }, field.map { "field \($0)" }].compactMap { $0 }.joined(
                separator: ", ")
            return "\(file)\(place.isEmpty ? "" : " (\(place))"): \(reason). Nothing was imported."
        case .unknownFormat(let file, let detail):
            return
                "\(file) is not an export Coffer recognises (\(detail)). Name the format with --format (see `coffer import --help`), or map the columns of a CSV with --format csv --columns. Nothing was imported."
        case .unsupported(let file, let reason), .wrongSecret(let file, let reason):
            return "\(file): \(reason). Nothing was imported."
        case .recognisedButEmpty(let file, let format, let likely):
            let guess = likely.map { " It looks like \($0)." } ?? ""
            return
                "\(file) was recognised as \(format) but holds no items.\(guess) If it is another manager's export, name its format with --format (see `coffer import --help`). Nothing was imported."
        }
    }
}

/// Bounds that keep a hostile or broken file from exhausting memory.
public enum ImportLimits {
    /// The largest file read: 256 MiB.
    public static let maximumFileSize = 256 * 1_048_576
    /// The largest single CSV cell or JSON string: 1 MiB.
    public static let maximumFieldSize = 1_048_576
    /// Custom fields an importer gives one item; further values go into its notes as `name: value`
    /// lines, so a record with a million fields costs linear time and still loses nothing.
    public static let maximumCustomFields = 1_000
}
