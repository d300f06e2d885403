import Foundation

/// How hard a password is to guess, with advice a person can act on.
public struct StrengthEstimate: Sendable, Equatable {
    /// Estimated guesses an attacker needs, following zxcvbn's model.
    public let guesses: Double
    /// 0 (too guessable) … 4 (very unguessable), zxcvbn's scale.
    public let score: Int
    /// What makes the password weak, if anything.
    public let warning: String?
    /// What to do instead.
    public let suggestions: [String]

    /// log10 of `guesses`, easier to read.
    public var guessesLog10: Double { log10(max(guesses, 1)) }

    /// A word for `score`.
    public var label: String {
        ["very weak", "weak", "fair", "strong", "very strong"][max(0, min(score, 4))]
    }

    /// The scale's thresholds: below 10^3, 10^6, 10^8, 10^10 guesses.
    static func score(forGuesses guesses: Double) -> Int {
        switch guesses {
        case ..<1e3: 0
        case ..<1e6: 1
        case ..<1e8: 2
        case ..<1e10: 3
        default: 4
        }
    }
}
