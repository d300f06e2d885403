import Foundation

/// Turns the weakest part of a password into a warning and suggestions, in zxcvbn's words.
struct StrengthFeedback {
    let warning: String?
    let suggestions: [String]

    static let addWord = "Add another word or two. Uncommon words are better."

    init(matches: [StrengthMatch], score: Int, passwordIsEmpty: Bool) {
        if passwordIsEmpty {
            warning = nil
            suggestions = [
                "Use a few words, avoid common phrases.", "No need for symbols, digits, or uppercase letters.",
            ]
            return
        }
        guard score <= 2, let longest = matches.max(by: { $0.length < $1.length }) else {
            warning = nil
            suggestions = []
            return
        }
        var suggestions = [Self.addWord]
        var warning: String?
        switch longest.pattern {
        case .dictionary(let list, let rank, let isReversed, let isL33t, let hasCapitals, let isAllCaps):
            let isSole = matches.count == 1
            switch list {
            case .passwords:
                if isSole && !isL33t && !isReversed {
                    warning =
                        rank <= 10
                        ? "This is a top-10 common password."
                        : rank <= 100 ? "This is a top-100 common password." : "This is a very common password."
                } else {
                    warning = "This is similar to a commonly used password."
                }
            case .englishWikipedia, .usTVAndFilm:
                warning = isSole ? "A word by itself is easy to guess." : nil
            case .femaleNames, .maleNames, .surnames:
                warning =
                    isSole
                    ? "Names and surnames by themselves are easy to guess."
                    : "Common names and surnames are easy to guess."
            case .userInputs:
                warning = "Your own name, e-mail or the site's name is easy to guess."
            }
            if isAllCaps {
                suggestions.append("All-uppercase is almost as easy to guess as all-lowercase.")
            } else if hasCapitals {
                suggestions.append("Capitalization doesn't help very much.")
            }
            if isReversed { suggestions.append("Reversed words aren't much harder to guess.") }
            if isL33t { suggestions.append("Predictable substitutions like '@' instead of 'a' don't help very much.") }
        case .spatial(let isStraight):
            warning =
                isStraight ? "Straight rows of keys are easy to guess." : "Short keyboard patterns are easy to guess."
            suggestions.append("Use a longer keyboard pattern with more turns.")
        case .repeated(let base):
            warning =
                base.count == 1
                ? "Repeats like \"aaa\" are easy to guess."
                : "Repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"."
            suggestions.append("Avoid repeated words and characters.")
        case .sequence:
            warning = "Sequences like abc or 6543 are easy to guess."
            suggestions.append("Avoid sequences.")
        case .date:
            warning = "Dates and years are often easy to guess."
            suggestions.append("Avoid dates and years that are associated with you.")
        case .bruteforce:
            warning = nil
        }
        self.warning = warning
        self.suggestions = suggestions
    }
}
