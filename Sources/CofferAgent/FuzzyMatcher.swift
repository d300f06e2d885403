import CofferModel
import Foundation

/// Scores items against a typed query: substrings rank first, then in-order characters
/// (`gml` finds "GMail"), with title matches worth more than usernames, URLs or tags.
struct FuzzyMatcher: Sendable {
    private let terms: [[UInt8]]

    init(query: String) {
        terms = query.split(whereSeparator: \.isWhitespace).map { FuzzyMatcher.fold(String($0)) }
    }

    var isEmpty: Bool { terms.isEmpty }

    /// A score (higher is better) of an item whose folded title is `title` and whose other folded
    /// searchable text is `other`, or `nil` when some term matches nothing.
    func score(title: UnsafeBufferPointer<UInt8>, other: UnsafeBufferPointer<UInt8>) -> Int? {
        var total = 0
        for term in terms {
            let best = max(
                Self.score(term, in: title).map { $0 * 2 } ?? -1,
                Self.score(term, in: other) ?? -1)
            guard best >= 0 else { return nil }
            total += best
        }
        return total
    }

    private static func score(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty ? 0 : nil }
        if let position = firstIndex(of: needle, in: haystack) {
            let atWordStart = position == 0 || !isAlphanumeric(haystack[position - 1])
            return 1000 + (atWordStart ? 200 : 0) + (haystack.count == needle.count ? 300 : 0) - min(position, 100)
        }
        var score = 0
        var previous = -2
        var index = 0
        for byte in needle {
            while index < haystack.count && haystack[index] != byte { index += 1 }
            guard index < haystack.count else { return nil }
            score += index == previous + 1 ? 15 : 5
            if index == 0 || !isAlphanumeric(haystack[index - 1]) { score += 10 }
            previous = index
            index += 1
        }
        return score
    }

    private static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        let last = haystack.count - needle.count
        guard last >= 0 else { return nil }
        let first = needle[0]
        var start = 0
        while start <= last {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return start }
            }
            start += 1
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7a).contains(byte) || byte >= 0x80
    }

    /// Lowercases the text; bytes are then compared as they are. The index cache keeps folded text:
    /// a change here must bump `IndexCache.formatVersion`.
    static func fold(_ text: String) -> [UInt8] {
        text.lowercased().utf8.map { $0 }
    }
}
