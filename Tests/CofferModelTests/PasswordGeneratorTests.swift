import Testing

@testable import CofferModel

@Suite("Password generator")
struct PasswordGeneratorTests {
    let generator = try! PasswordGenerator()

    @Test("character passwords have the length asked for and one of each class")
    func characters() throws {
        for length in [4, 12, 20, 64] {
            let password = try generator.generate(.characters(CharacterRecipe(length: length)))
            #expect(password.count == length)
            for characterClass in CharacterClass.allCases {
                #expect(password.contains { characterClass.characters.contains($0) })
            }
        }
    }

    @Test("excluding look-alikes leaves out 0 O o 1 l I |")
    func lookAlikes() throws {
        for _ in 0..<50 {
            let password = try generator.generate(.characters(CharacterRecipe(length: 64, excludesLookAlikes: true)))
            #expect(!password.contains { "0Oo1lI|".contains($0) })
        }
    }

    @Test("only the chosen classes are used")
    func classes() throws {
        let password = try generator.generate(.characters(CharacterRecipe(length: 40, classes: [.digits])))
        #expect(password.allSatisfy { $0.isNumber })
    }

    @Test("passphrases come from the 7,776-word EFF list with separator, capitals and a digit")
    func passphrase() throws {
        #expect(generator.wordListSize == 7776)
        let phrase = try generator.generate(
            .passphrase(PassphraseRecipe(wordCount: 5, separator: ".", capitalizes: true, includesDigit: true)))
        let words = phrase.split(separator: ".")
        #expect(words.count == 5)
        #expect(words.allSatisfy { $0.first?.isUppercase == true })
        #expect(phrase.filter(\.isNumber).count == 1)
    }

    @Test("impossible settings are refused")
    func badSettings() {
        #expect(throws: CofferModelError.self) { try generator.generate(.characters(CharacterRecipe(length: 2))) }
        #expect(throws: CofferModelError.self) { try generator.generate(.characters(CharacterRecipe(classes: []))) }
        #expect(throws: CofferModelError.self) { try generator.generate(.passphrase(PassphraseRecipe(wordCount: 1))) }
    }
}
