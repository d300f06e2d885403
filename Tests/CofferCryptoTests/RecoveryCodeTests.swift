import Foundation
import Testing

@testable import CofferCrypto

@Suite("Recovery codes")
struct RecoveryCodeTests {
    @Test("a formatted code parses back to the same bits, in any case and spacing")
    func roundTrip() throws {
        for _ in 0..<200 {
            let code = RecoveryCode.random()
            let text = code.formatted
            #expect(text.count == 28 + 6)
            #expect(try RecoveryCode(parsing: text) == code)
            #expect(try RecoveryCode(parsing: text.lowercased().replacingOccurrences(of: "-", with: " ")) == code)
        }
    }

    @Test("every single mistyped character is caught")
    func singleSubstitution() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        for _ in 0..<20 {
            let characters = Array(RecoveryCode.random().formatted.filter { $0 != "-" })
            for position in characters.indices {
                for replacement in alphabet where replacement != characters[position] {
                    var typo = characters
                    typo[position] = replacement
                    #expect(throws: CofferCryptoError.self) { try RecoveryCode(parsing: String(typo)) }
                }
            }
        }
    }

    @Test("wrong length and foreign characters say what is wrong")
    func badInput() {
        #expect(throws: CofferCryptoError.self) { try RecoveryCode(parsing: "ABCD") }
        #expect(throws: CofferCryptoError.self) { try RecoveryCode(parsing: String(repeating: "!", count: 28)) }
    }

    @Test("the description never shows the secret")
    func description() {
        let code = RecoveryCode.random()
        #expect(!"\(code)".contains(code.formatted.prefix(4)))
    }
}
