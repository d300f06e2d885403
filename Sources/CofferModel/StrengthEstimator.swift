import Foundation

/// Estimates guesses for a password the way zxcvbn does: find every guessable part
/// (common passwords and words, reversed or in l33t, keyboard runs, repeats, sequences, dates)
/// and take the cheapest way an attacker could combine them.
public struct StrengthEstimator: Sendable {
    private let rankedDictionaries: [DictionaryList: [String: Int]]
    private let keyboards: [KeyboardGraph]

    /// Only this many leading characters are analysed; the rest count as random characters.
    static let analysedLength = 100
    private static let referenceYear = 2026

    /// Loads the bundled word lists and keyboard layouts.
    public init() throws(CofferModelError) {
        var dictionaries: [DictionaryList: [String: Int]] = [:]
        for list in DictionaryList.allCases where list != .userInputs {
            let words = try BundledData.lines(of: "dictionary-\(list.rawValue)")
            var ranks: [String: Int] = [:]
            ranks.reserveCapacity(words.count)
            for (index, word) in words.enumerated() where ranks[word] == nil { ranks[word] = index + 1 }
            dictionaries[list] = ranks
        }
        self.rankedDictionaries = dictionaries
        self.keyboards = try KeyboardGraph.bundled()
    }

    /// Estimates `password`; `userInputs` (e-mail, name, site) count as the most guessable words.
    public func estimate(_ password: String, userInputs: [String] = []) -> StrengthEstimate {
        let characters = Array(password)
        let analysed = Array(characters.prefix(Self.analysedLength))
        var dictionaries = rankedDictionaries
        var inputs: [String: Int] = [:]
        for (index, input) in userInputs.enumerated() {
            for piece in input.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            where piece.count >= 3 {
                inputs[String(piece)] = index + 1
            }
        }
        dictionaries[.userInputs] = inputs
        let sequence = mostGuessableSequence(analysed, dictionaries: dictionaries)
        let extra = pow(10, Double(characters.count - analysed.count))
        let guesses = sequence.guesses * extra
        let score = StrengthEstimate.score(forGuesses: guesses)
        let feedback = StrengthFeedback(matches: sequence.matches, score: score, passwordIsEmpty: characters.isEmpty)
        return StrengthEstimate(
            guesses: guesses, score: score, warning: feedback.warning, suggestions: feedback.suggestions)
    }

    // MARK: - Choosing the cheapest decomposition (zxcvbn's dynamic programme)

    private func mostGuessableSequence(
        _ password: [Character], dictionaries: [DictionaryList: [String: Int]]
    ) -> (guesses: Double, matches: [StrengthMatch]) {
        let count = password.count
        guard count > 0 else { return (1, []) }
        let matches = allMatches(password, dictionaries: dictionaries)
        var byEnd = [[StrengthMatch]](repeating: [], count: count)
        for match in matches { byEnd[match.end].append(match) }

        // best[k][l]: the cheapest sequence of l matches covering 0...k.
        var best = [[Int: (match: StrengthMatch, product: Double, total: Double)]](repeating: [:], count: count)

        func consider(_ match: StrengthMatch, length l: Int) {
            var product = match.guesses
            if l > 1 {
                guard let previous = best[match.start - 1][l - 1] else { return }
                product *= previous.product
            }
            let total = factorial(l) * product + pow(10_000, Double(l - 1))
            for (otherLength, other) in best[match.end] where otherLength <= l && other.total <= total { return }
            best[match.end][l] = (match, product, total)
        }

        for end in 0..<count {
            for match in byEnd[end] {
                if match.start > 0 {
                    for l in best[match.start - 1].keys { consider(match, length: l + 1) }
                } else {
                    consider(match, length: 1)
                }
            }
            consider(bruteforce(0, end), length: 1)
            for start in 1...max(1, end) where start <= end {
                let match = bruteforce(start, end)
                for (l, previous) in best[start - 1] where previous.match.pattern != .bruteforce {
                    consider(match, length: l + 1)
                }
            }
        }

        guard let (length, last) = best[count - 1].min(by: { $0.value.total < $1.value.total }) else { return (1, []) }
        var sequence: [StrengthMatch] = [last.match]
        var k = last.match.start - 1
        var l = length - 1
        while k >= 0, l > 0, let entry = best[k][l] {
            sequence.insert(entry.match, at: 0)
            k = entry.match.start - 1
            l -= 1
        }
        return (last.total, sequence)
    }

    private func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }

    private func bruteforce(_ start: Int, _ end: Int) -> StrengthMatch {
        let length = end - start + 1
        var guesses = pow(10, Double(length))
        guesses = max(guesses, length == 1 ? 11 : 51)
        return StrengthMatch(start: start, end: end, pattern: .bruteforce, guesses: guesses)
    }

    // MARK: - Matchers

    private func allMatches(_ password: [Character], dictionaries: [DictionaryList: [String: Int]]) -> [StrengthMatch] {
        var matches = dictionaryMatches(password, dictionaries: dictionaries)
        matches += reversedDictionaryMatches(password, dictionaries: dictionaries)
        matches += l33tMatches(password, dictionaries: dictionaries)
        for keyboard in keyboards { matches += keyboard.matches(in: password) }
        matches += repeatMatches(password, dictionaries: dictionaries)
        matches += sequenceMatches(password)
        matches += dateMatches(password)
        return matches
    }

    private func dictionaryMatches(
        _ password: [Character], dictionaries: [DictionaryList: [String: Int]], isReversed: Bool = false,
        original: [Character]? = nil
    ) -> [StrengthMatch] {
        let lower = password.map { Character($0.lowercased()) }
        let source = original ?? password
        var matches: [StrengthMatch] = []
        for start in lower.indices {
            var word = ""
            for end in start..<min(lower.count, start + 40) {
                word.append(lower[end])
                for list in DictionaryList.allCases {
                    guard let rank = dictionaries[list]?[word] else { continue }
                    let token = Array(source[start...end])
                    let isL33t = original != nil && token.map { Character($0.lowercased()) } != Array(word)
                    let capitals = token.filter(\.isUppercase).count
                    let lowers = token.filter(\.isLowercase).count
                    var guesses = Double(rank) * uppercaseVariations(token) * (isReversed ? 2 : 1)
                    if isL33t { guesses *= l33tVariations(token, word: Array(word)) }
                    // zxcvbn's floor for a part of a password; a whole-password match counts at its rank.
                    if end - start + 1 < lower.count { guesses = max(guesses, word.count == 1 ? 10 : 50) }
                    matches.append(
                        StrengthMatch(
                            start: start, end: end,
                            pattern: .dictionary(
                                list: list, rank: rank, isReversed: isReversed, isL33t: isL33t,
                                hasCapitals: capitals > 0, isAllCaps: capitals > 0 && lowers == 0),
                            guesses: guesses))
                }
            }
        }
        return matches
    }

    private func reversedDictionaryMatches(
        _ password: [Character], dictionaries: [DictionaryList: [String: Int]]
    ) -> [StrengthMatch] {
        let reversed = Array(password.reversed())
        let last = password.count - 1
        return dictionaryMatches(reversed, dictionaries: dictionaries, isReversed: true)
            .filter { $0.length > 2 }
            .map { StrengthMatch(start: last - $0.end, end: last - $0.start, pattern: $0.pattern, guesses: $0.guesses) }
    }

    private static let l33tTable: [Character: [Character]] = [
        "4": ["a"], "@": ["a"], "8": ["b"], "(": ["c"], "{": ["c"], "[": ["c"], "<": ["c"], "3": ["e"],
        "6": ["g"], "9": ["g"], "1": ["i", "l"], "!": ["i"], "|": ["i", "l"], "7": ["t", "l"], "0": ["o"],
        "$": ["s"], "5": ["s"], "+": ["t"], "%": ["x"], "2": ["z"],
    ]

    private func l33tMatches(_ password: [Character], dictionaries: [DictionaryList: [String: Int]]) -> [StrengthMatch]
    {
        guard password.contains(where: { Self.l33tTable[$0] != nil }) else { return [] }
        // Every combination of substitutions for ambiguous characters, capped to keep this cheap.
        var variants: [[Character]] = [password]
        for (index, character) in password.enumerated() {
            guard let options = Self.l33tTable[character] else { continue }
            variants = variants.flatMap { variant in
                options.map { option in
                    var copy = variant
                    copy[index] = option
                    return copy
                }
            }
            if variants.count > 16 { variants = Array(variants.prefix(16)) }
        }
        return variants.flatMap { dictionaryMatches($0, dictionaries: dictionaries, original: password) }
            .filter { match in
                if case .dictionary(_, _, _, let isL33t, _, _) = match.pattern { return isL33t && match.length > 1 }
                return false
            }
    }

    private func uppercaseVariations(_ token: [Character]) -> Double {
        let upper = token.filter(\.isUppercase).count
        let lower = token.filter(\.isLowercase).count
        if upper == 0 { return 1 }
        if lower == 0 || (upper == 1 && (token.first?.isUppercase == true || token.last?.isUppercase == true)) {
            return 2
        }
        return (1...min(upper, lower)).reduce(0.0) { $0 + binomial(upper + lower, $1) }
    }

    private func l33tVariations(_ token: [Character], word: [Character]) -> Double {
        let substituted = zip(token, word).filter { Character($0.0.lowercased()) != $0.1 }.count
        let unsubstituted = token.count - substituted
        let variations = (1...max(1, min(substituted, unsubstituted))).reduce(0.0) {
            $0 + binomial(substituted + unsubstituted, $1)
        }
        return max(2, variations)
    }

    private func repeatMatches(_ password: [Character], dictionaries: [DictionaryList: [String: Int]])
        -> [StrengthMatch]
    {
        var matches: [StrengthMatch] = []
        var start = 0
        while start < password.count {
            var bestEnd = start
            var bestBase: [Character] = []
            for baseLength in 1...max(1, (password.count - start) / 2) {
                let base = Array(password[start..<(start + baseLength)])
                var end = start + baseLength
                while end + baseLength <= password.count, Array(password[end..<(end + baseLength)]) == base {
                    end += baseLength
                }
                if end - start >= max(3, 2 * baseLength), end - 1 > bestEnd {
                    bestEnd = end - 1
                    bestBase = base
                }
            }
            if !bestBase.isEmpty {
                let repeats = Double((bestEnd - start + 1) / bestBase.count)
                let baseGuesses = mostGuessableSequence(bestBase, dictionaries: dictionaries).guesses
                matches.append(
                    StrengthMatch(
                        start: start, end: bestEnd, pattern: .repeated(base: String(bestBase)),
                        guesses: baseGuesses * repeats))
                start = bestEnd + 1
            } else {
                start += 1
            }
        }
        return matches
    }

    private func sequenceMatches(_ password: [Character]) -> [StrengthMatch] {
        guard password.count >= 3 else { return [] }
        let values = password.map { Int($0.unicodeScalars.first?.value ?? 0) }
        var matches: [StrengthMatch] = []
        var start = 0
        while start < values.count - 2 {
            let delta = values[start + 1] - values[start]
            guard delta != 0, abs(delta) <= 5 else {
                start += 1
                continue
            }
            var end = start + 1
            while end + 1 < values.count, values[end + 1] - values[end] == delta { end += 1 }
            if end - start + 1 >= 3 {
                let first = password[start]
                var base: Double = first.isNumber ? 10 : 26
                if "aAzZ019".contains(first) { base = 4 }
                if !first.isLetter && !first.isNumber { base = 26 }
                let guesses = base * Double(end - start + 1) * (delta < 0 ? 2 : 1)
                matches.append(StrengthMatch(start: start, end: end, pattern: .sequence, guesses: guesses))
                start = end
            } else {
                start += 1
            }
        }
        return matches
    }

    private func dateMatches(_ password: [Character]) -> [StrengthMatch] {
        var matches: [StrengthMatch] = []
        for start in password.indices where start + 3 < password.count {
            for end in (start + 3)..<min(password.count, start + 10) {
                guard let guesses = dateGuesses(Array(password[start...end])) else { continue }
                matches.append(StrengthMatch(start: start, end: end, pattern: .date, guesses: guesses))
            }
        }
        return matches
    }

    private func dateGuesses(_ token: [Character]) -> Double? {
        let separators: Set<Character> = ["/", "-", ".", "_", " "]
        let digitGroups: [[Character]]
        let hasSeparator: Bool
        if token.allSatisfy(\.isASCIIDigit) {
            hasSeparator = false
            if token.count == 4, let year = Int(String(token)), (1900...2050).contains(year) {
                return max(Double(abs(year - Self.referenceYear)), 20)
            }
            guard (4...8).contains(token.count) else { return nil }
            digitGroups = [token]
        } else {
            let parts = token.split(whereSeparator: separators.contains).map(Array.init)
            let used = Set(token.filter { !$0.isASCIIDigit })
            guard parts.count == 3, used.count == 1, used.isSubset(of: separators),
                parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) })
            else { return nil }
            hasSeparator = true
            digitGroups = parts
        }
        let candidates: [[Int]]
        if digitGroups.count == 3 {
            candidates = [digitGroups.compactMap { Int(String($0)) }]
        } else {
            let digits = digitGroups[0]
            var splits: [[Int]] = []
            for first in 1..<digits.count {
                for second in (first + 1)..<digits.count {
                    let parts = [digits[..<first], digits[first..<second], digits[second...]].compactMap {
                        Int(String($0))
                    }
                    if parts.count == 3 { splits.append(parts) }
                }
            }
            candidates = splits
        }
        for parts in candidates where parts.count == 3 {
            for (year, month, day) in [
                (parts[2], parts[1], parts[0]), (parts[2], parts[0], parts[1]), (parts[0], parts[1], parts[2]),
            ]
            where (1...12).contains(month) && (1...31).contains(day) {
                let fullYear = year < 100 ? (year > 50 ? 1900 + year : 2000 + year) : year
                guard (1000...2050).contains(fullYear) else { continue }
                return 365 * max(Double(abs(fullYear - Self.referenceYear)), 20) * (hasSeparator ? 4 : 1)
            }
        }
        return nil
    }
}

func binomial(_ n: Int, _ k: Int) -> Double {
    guard k <= n else { return 0 }
    if k == 0 { return 1 }
    var result = 1.0
    for d in 1...k { result = result * Double(n - k + d) / Double(d) }
    return result
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
