import Crypto
import Foundation

/// Random bearer tokens, stored only as SHA-256 hashes.
enum Tokens {
    /// 256 random bits, base64url without padding.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A code people type from an e-mail: 8 characters from an alphabet without look-alikes (40 bits),
    /// shown as `XXXX-XXXX`. Wrong guesses are limited per code and per address.
    static func emailCode() -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(characters[0..<4]) + "-" + String(characters[4...])
    }

    /// The hash of an e-mail code as typed: case, spaces and dashes do not matter.
    static func hashEmailCode(_ typed: String) -> Data {
        hash(String(typed.uppercased().filter { $0.isLetter || $0.isNumber }.prefix(64)))
    }

    /// A verifier no key hashes to, for an account waiting for new keys after a reset.
    static func unmatchableVerifier() -> Data { Data(SHA256.hash(data: Data(generate().utf8))).prefix(31) }

    /// What the database keeps instead of the token.
    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// SHA-256 of a key the client proves, as stored for comparison.
    static func verifier(of key: Data) -> Data { Data(SHA256.hash(data: key)) }

    /// Compares in time independent of where the inputs differ.
    static func constantTimeEquals(_ lhs: Data, _ rhs: Data) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}

/// Stable fake KDF parameters for unknown addresses, so pre-login does not reveal who has an account.
struct FakePrelogin {
    let secret: SymmetricKey

    func salt(for email: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("prelogin-salt:\(email)".utf8), using: secret).prefix(16))
    }
}
