import Foundation

/// Times and dates as export files write them, checked before any conversion: a file may hold any
/// number (1e300, a negative, NaN), and turning one into an `Int` or formatting an absurd date traps.
/// Out of range means "not a time": the importer keeps the text or the default instead.
enum FileTime {
    /// Year 1 to year 9999, the range every format and KeePass can hold.
    static let range: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    /// The date `seconds` after 1970, if it is within ``range``.
    static func date(secondsSince1970 seconds: Double) -> Date? {
        range.contains(seconds) ? Date(timeIntervalSince1970: seconds) : nil
    }

    /// A month and year written as YYYYMM (202901), if it is one.
    static func monthYear(_ number: Double) -> Int? {
        guard (100...999_912).contains(number), number == number.rounded() else { return nil }
        let value = Int(number)
        return (1...12).contains(value % 100) ? value : nil
    }
}
