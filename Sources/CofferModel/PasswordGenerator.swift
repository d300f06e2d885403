import Foundation

/// A set of characters a generated password may draw from.
public enum CharacterClass: String, CaseIterable, Sendable, Codable {
    case lowercase, uppercase, digits, symbols

    var characters: [Character] {
        switch self {
        case .lowercase: Array("abcdefghijklmnopqrstuvwxyz")
        case .uppercase: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        case .digits: Array("0123456789")
        case .symbols: Array("!#$%&*+-=?@^_~.,:;()[]{}")
        }
    }
}

/// What to generate: random characters or a passphrase of words.
public enum PasswordRecipe: Sendable, Equatable {
    /// Random characters.
    case characters(CharacterRecipe)
    /// Words from the EFF large list.
    case passphrase(PassphraseRecipe)
}

/// Settings for a random-character password.
public struct CharacterRecipe: Sendable, Equatable {
    /// Number of characters.
    public var length: Int
    /// Classes to draw from; the password holds at least one of each.
    public var classes: Set<CharacterClass>
    /// Leave out characters that are easily confused when read: `0 O o 1 l I |`.
    public var excludesLookAlikes: Bool

    /// Creates a recipe; the defaults are 20 characters from all classes.
    public init(
        length: Int = 20, classes: Set<CharacterClass> = Set(CharacterClass.allCases), excludesLookAlikes: Bool = false
    ) {
        self.length = length
        self.classes = classes
        self.excludesLookAlikes = excludesLookAlikes
    }
}

/// Settings for a passphrase.
public struct PassphraseRecipe: Sendable, Equatable {
    /// Number of words (12.9 bits each).
    public var wordCount: Int
    /// Between words.
    public var separator: String
    /// Capitalize each word.
    public var capitalizes: Bool
    /// Append one digit to one random word.
    public var includesDigit: Bool

    /// Creates a recipe; the defaults are 6 words joined by `-` (77 bits).
    public init(wordCount: Int = 6, separator: String = "-", capitalizes: Bool = false, includesDigit: Bool = false) {
        self.wordCount = wordCount
        self.separator = separator
        self.capitalizes = capitalizes
        self.includesDigit = includesDigit
    }
}

/// Makes passwords and passphrases from the system CSPRNG (or an injected generator in tests).
public struct PasswordGenerator: Sendable {
    private static let lookAlikes: Set<Character> = ["0", "O", "o", "1", "l", "I", "|"]
    private let words: [String]

    /// Loads the bundled EFF large word list.
    public init() throws(CofferModelError) {
        self.words = try BundledData.lines(of: "eff-large-wordlist")
    }

    /// The number of words passphrases draw from.
    public var wordListSize: Int { words.count }

    /// Generates a password following `recipe`.
    public func generate(_ recipe: PasswordRecipe) throws(CofferModelError) -> String {
        var generator = SystemRandomNumberGenerator()
        return try generate(recipe, using: &generator)
    }

    /// Generates with a caller-supplied random source.
    public func generate(_ recipe: PasswordRecipe, using generator: inout some RandomNumberGenerator)
        throws(CofferModelError) -> String
    {
        switch recipe {
        case .characters(let characters): try generate(characters, using: &generator)
        case .passphrase(let passphrase): try generate(passphrase, using: &generator)
        }
    }

    private func generate(_ recipe: CharacterRecipe, using generator: inout some RandomNumberGenerator)
        throws(CofferModelError) -> String
    {
        guard !recipe.classes.isEmpty else { throw .invalidGeneratorSettings("choose at least one character class") }
        guard (4...1024).contains(recipe.length), recipe.length >= recipe.classes.count else {
            throw .invalidGeneratorSettings("the length must be between 4 and 1024 and at least the number of classes")
        }
        let pools = CharacterClass.allCases.filter(recipe.classes.contains).map { characterClass in
            characterClass.characters.filter { !recipe.excludesLookAlikes || !Self.lookAlikes.contains($0) }
        }
        let all = pools.flatMap { $0 }
        // One character from each class, the rest from all of them, then a uniform shuffle.
        var result = pools.map { Self.pick(from: $0, using: &generator) }
        while result.count < recipe.length { result.append(Self.pick(from: all, using: &generator)) }
        result.shuffle(using: &generator)
        return String(result)
    }

    private func generate(_ recipe: PassphraseRecipe, using generator: inout some RandomNumberGenerator)
        throws(CofferModelError) -> String
    {
        guard (3...40).contains(recipe.wordCount) else {
            throw .invalidGeneratorSettings("a passphrase needs between 3 and 40 words")
        }
        var chosen = (0..<recipe.wordCount).map { _ in Self.pick(from: words, using: &generator) }
        if recipe.capitalizes { chosen = chosen.map { $0.prefix(1).uppercased() + $0.dropFirst() } }
        if recipe.includesDigit {
            let index = Int.random(in: 0..<chosen.count, using: &generator)
            chosen[index] += String(Int.random(in: 0...9, using: &generator))
        }
        return chosen.joined(separator: recipe.separator)
    }

    /// A uniformly chosen element of a non-empty array.
    private static func pick<Element>(from elements: [Element], using generator: inout some RandomNumberGenerator)
        -> Element
    {
        elements[Int.random(in: 0..<elements.count, using: &generator)]
    }
}
