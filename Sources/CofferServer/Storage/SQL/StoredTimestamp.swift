import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// A date as GRDB stores it ("yyyy-MM-dd HH:mm:ss.SSS", UTC), formatted without `DateFormatter`:
/// the token lookup on every request compares against the current time, and Foundation's formatter
/// was a measurable share of that route's cost. Stored values stay GRDB's own.
enum StoredTimestamp {
    /// The text SQLite compares, for `date`.
    static func text(_ date: Date) -> String {
        // To the nearest millisecond, as the formatter GRDB uses does.
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(total.dividedReportingOverflow(by: 1000).partialValue)
        var milliseconds = total % 1000
        if milliseconds < 0 {
            milliseconds += 1000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))"
    }

    /// The date stored as `text` (GRDB's format); `nil` for anything else. Read only for rare values
    /// (a recorded restore), so Foundation's parser is fine here.
    static func date(_ text: String) -> Date? {
        Date.fromDatabaseValue(text.databaseValue)
    }
}
