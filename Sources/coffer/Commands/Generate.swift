import ArgumentParser
import CofferModel
import Foundation

/// `coffer generate`: prints a new password or passphrase.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate a password or a passphrase.")

    @Option(help: "Number of characters.")
    var length = 20

    @Flag(help: "Leave out symbols.")
    var noSymbols = false

    @Flag(help: "Leave out digits.")
    var noDigits = false

    @Flag(help: "Leave out capital letters.")
    var noUppercase = false

    @Flag(help: "Leave out small letters.")
    var noLowercase = false

    @Flag(help: "Leave out characters that look alike (0 O o 1 l I |).")
    var excludeLookAlikes = false

    @Flag(help: "Make a passphrase of words from the EFF list instead.")
    var passphrase = false

    @Option(help: "Words in a passphrase.")
    var words = 6

    @Option(help: "Between the words of a passphrase.")
    var separator = "-"

    @Flag(help: "Capitalize each word of a passphrase.")
    var capitalize = false

    @Flag(help: "Add a digit to a passphrase.")
    var digit = false

    @Flag(help: "Also print the strength estimate on standard error.")
    var strength = false

    func run() throws {
        let recipe: PasswordRecipe
        if passphrase {
            recipe = .passphrase(
                PassphraseRecipe(wordCount: words, separator: separator, capitalizes: capitalize, includesDigit: digit))
        } else {
            var classes = Set(CharacterClass.allCases)
            if noSymbols { classes.remove(.symbols) }
            if noDigits { classes.remove(.digits) }
            if noUppercase { classes.remove(.uppercase) }
            if noLowercase { classes.remove(.lowercase) }
            recipe = .characters(
                CharacterRecipe(length: length, classes: classes, excludesLookAlikes: excludeLookAlikes))
        }
        let password = try PasswordGenerator().generate(recipe)
        print(password)
        if strength {
            let estimate = try StrengthEstimator().estimate(password)
            Terminal.note("Strength: \(estimate.label) (about 10^\(Int(estimate.guessesLog10)) guesses)")
        }
    }
}
