import Foundation

/// A part of a password that a guessing attacker would try as a unit.
struct StrengthMatch: Sendable {
    /// What kind of guessable pattern it is.
    enum Pattern: Sendable, Equatable {
        case dictionary(
            list: DictionaryList, rank: Int, isReversed: Bool, isL33t: Bool, hasCapitals: Bool, isAllCaps: Bool)
        case spatial(isStraight: Bool)
        case repeated(base: String)
        case sequence
        case date
        case bruteforce
    }

    /// Character offsets `start...end` in the password.
    let start: Int
    let end: Int
    let pattern: Pattern
    let guesses: Double

    var length: Int { end - start + 1 }
}

/// The ranked word lists the estimator knows, most to least specific.
enum DictionaryList: String, CaseIterable, Sendable {
    case passwords
    case englishWikipedia = "english-wikipedia"
    case femaleNames = "female-names"
    case maleNames = "male-names"
    case surnames
    case usTVAndFilm = "us-tv-and-film"
    case userInputs

    var isNames: Bool { self == .femaleNames || self == .maleNames || self == .surnames }
}
