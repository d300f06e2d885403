import Foundation

/// The steps the variant search takes from a password, with their costs.
///
/// Costs follow how often each slip happens: 1 for what people do most (a capital first letter,
/// one look-alike character, the year after or before, a `1` or `!` added), 2 for less common
/// changes, 4 for a typo (a neighbouring key, a doubled, dropped or swapped character): a typo
/// has many more places to happen than a capital letter, so each one is less likely.
public struct VariantRules: Sendable {
    /// The highest total cost tried; 8 reaches two typos, or several smaller changes.
    public var maximumCost = 8
    /// The most steps from a remembered password: a memory that is wrong in five places is a
    /// different password, and without this bound cheap steps (endings, look-alikes) would pile up
    /// into millions of variants before the second typo is ever tried.
    public var maximumSteps = 4
    /// Longer texts get no typo steps: each would have hundreds, and a passphrase that long is
    /// better remembered word by word (`--rules`).
    public var typoLengthLimit = 64
    /// Where neighbouring keys are, for typos.
    public var keyboard = KeyboardLayout.qwerty
    /// The user's own patterns, each a step of cost 1.
    public var custom: [CustomRule] = []

    /// Rules with the defaults.
    public init() {}

    /// A pattern of the user's, from a `--rules` file.
    public enum CustomRule: Sendable, Equatable {
        /// Add the text at the end.
        case append(String)
        /// Add the text at the start.
        case prepend(String)
        /// Replace every occurrence of the first text with the second.
        case replace(String, String)
    }

    /// Characters people swap for look-alikes, both ways.
    static let lookAlikes: [Character: [Character]] = [
        "a": ["@", "4"], "e": ["3"], "i": ["1", "!"], "o": ["0"], "s": ["$", "5"], "t": ["7"], "l": ["1"],
        "g": ["9"], "b": ["8"], "@": ["a"], "4": ["a"], "3": ["e"], "1": ["i", "l"], "!": ["i"], "0": ["o"],
        "$": ["s"], "5": ["s"], "7": ["t"], "9": ["g"], "8": ["b"],
    ]
    static let commonEndings = ["1", "!"]
    static let otherEndings = ["123", "?", "12", "0", ".", "1!", "!!", "2", "#", "*"]
    static let separators: [Character] = [" ", "-", "_", "."]

    /// Every step from `text`: its description, its cost and the text it leads to.
    func steps(from text: String) -> [(String, Int, String)] {
        let characters = Array(text)
        var steps: [(String, Int, String)] = []
        caseSteps(characters, into: &steps)
        for (position, character) in characters.enumerated() {
            let lower = Character(character.lowercased())
            for replacement in Self.lookAlikes[lower] ?? [] where replacement != character {
                var changed = characters
                changed[position] = character.isUppercase ? Character(replacement.uppercased()) : replacement
                steps.append(("\(character) as \(changed[position]) at position \(position + 1)", 1, String(changed)))
            }
        }
        for ending in Self.commonEndings { steps.append(("\(ending) added at the end", 1, text + ending)) }
        numberSteps(characters, into: &steps)
        for ending in Self.otherEndings { steps.append(("\(ending) added at the end", 2, text + ending)) }
        if let last = characters.last, !last.isLetter {
            steps.append(("without the \(last) at the end", 2, String(characters.dropLast())))
        }
        separatorSteps(characters, into: &steps)
        for rule in custom { steps.append(contentsOf: Self.apply(rule, to: text)) }
        if characters.count <= typoLengthLimit { typoSteps(characters, into: &steps) }
        return steps.filter { !$0.2.isEmpty && $0.2 != text }
    }

    private func caseSteps(_ characters: [Character], into steps: inout [(String, Int, String)]) {
        guard let first = characters.first, first.isLetter else { return appendWholeCase(characters, into: &steps) }
        let rest = characters.dropFirst()
        if first.isLowercase {
            steps.append(("a capital first letter", 1, first.uppercased() + String(rest)))
        } else {
            steps.append(("a small first letter", 1, first.lowercased() + String(rest)))
        }
        appendWholeCase(characters, into: &steps)
    }

    private func appendWholeCase(_ characters: [Character], into steps: inout [(String, Int, String)]) {
        let text = String(characters)
        steps.append(("all in small letters", 2, text.lowercased()))
        steps.append(("all in capitals", 2, text.uppercased()))
    }

    /// A year one to three off, or a short number one off, where the text has one.
    private func numberSteps(_ characters: [Character], into steps: inout [(String, Int, String)]) {
        var start = 0
        while start < characters.count {
            guard characters[start].isASCII, characters[start].isNumber else {
                start += 1
                continue
            }
            var end = start
            while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
            let digits = String(characters[start..<end])
            if let number = Int(digits) {
                let isYear = digits.count == 4 && (1900...2099).contains(number)
                let offsets: [(Int, Int)] =
                    isYear
                    ? [(1, 1), (-1, 1), (2, 2), (-2, 2), (3, 2), (-3, 2)] : digits.count <= 2 ? [(1, 1), (-1, 1)] : []
                for (offset, cost) in offsets where number + offset >= 0 {
                    var replaced = String(number + offset)
                    if replaced.count < digits.count {
                        replaced = String(repeating: "0", count: digits.count - replaced.count) + replaced
                    }
                    guard replaced.count == digits.count else { continue }
                    let text = String(characters[..<start]) + replaced + String(characters[end...])
                    steps.append(("\(replaced) instead of \(digits)", cost, text))
                }
            }
            start = end
        }
    }

    /// Words joined another way: every separator of one kind replaced by another, or removed.
    private func separatorSteps(_ characters: [Character], into steps: inout [(String, Int, String)]) {
        for separator in Self.separators where characters.contains(separator) {
            for other in Self.separators where other != separator {
                let text = String(characters.map { $0 == separator ? other : $0 })
                steps.append(("words joined by \"\(other)\" instead of \"\(separator)\"", 1, text))
            }
            steps.append(("words run together", 1, String(characters.filter { $0 != separator })))
        }
    }

    private func typoSteps(_ characters: [Character], into steps: inout [(String, Int, String)]) {
        for position in characters.indices {
            let character = characters[position]
            var dropped = characters
            dropped.remove(at: position)
            steps.append(("one \(character) left out at position \(position + 1)", 4, String(dropped)))
            var doubled = characters
            doubled.insert(character, at: position)
            steps.append(("\(character) typed twice at position \(position + 1)", 4, String(doubled)))
            if position + 1 < characters.count, characters[position + 1] != character {
                var swapped = characters
                swapped.swapAt(position, position + 1)
                steps.append(
                    (
                        "\(character) and \(characters[position + 1]) swapped at position \(position + 1)", 4,
                        String(swapped)
                    ))
            }
            for neighbour in keyboard.neighbours(of: character) {
                var slipped = characters
                slipped[position] = neighbour
                steps.append(
                    (
                        "\(neighbour) (a neighbouring key) for \(character) at position \(position + 1)", 4,
                        String(slipped)
                    ))
            }
        }
    }

    private static func apply(_ rule: CustomRule, to text: String) -> [(String, Int, String)] {
        switch rule {
        case .append(let ending): [("\(ending) added at the end (your rule)", 1, text + ending)]
        case .prepend(let beginning): [("\(beginning) added at the start (your rule)", 1, beginning + text)]
        case .replace(let old, let new) where !old.isEmpty && text.contains(old):
            [("\(new) for \(old) (your rule)", 1, text.replacingOccurrences(of: old, with: new))]
        case .replace: []
        }
    }
}
