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
