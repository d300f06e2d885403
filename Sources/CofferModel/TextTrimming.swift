extension String {
    /// The text without leading and trailing white space and line breaks (Unicode's White_Space).
    ///
    /// Foundation's `trimmingCharacters(in:)` converts every string to UTF-16 and back on Linux: it
    /// was 40% of reading a 100,000-row CSV. This checks the ends and copies only when it must.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        if first == scalars.startIndex, scalars.index(after: last) == scalars.endIndex { return self }
        return String(Substring(scalars[first...last]))
    }
}

extension Substring {
    /// See `String.trimmingWhitespace()`.
    public func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}

extension Unicode.Scalar {
    /// Unicode's White_Space, answered without the property tables for ASCII (nearly every cell of
    /// an export starts and ends with one): the table lookup was a tenth of reading a large CSV.
    fileprivate var isWhitespace: Bool {
        guard isASCII else { return properties.isWhitespace }
        switch value {
        case 0x09...0x0D, 0x20: return true
        default: return false
        }
    }
}
