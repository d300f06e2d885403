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

/// What the server derives from its own secret (`DATA/server-secret`, never in the database).
struct ServerSecret {
    let key: SymmetricKey

    /// A stable fake salt for an address without an account, so pre-login does not tell.
    func fakeSalt(for email: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("prelogin-salt:\(email)".utf8), using: key).prefix(16))
    }

    /// A stable id no account has, for an address that has no account (or cannot receive codes):
    /// requests for it do the same database work as for a real one, so their timing does not tell.
    func phantomAccountID(for email: String) -> UUID {
        var bytes = Array(HMAC<SHA256>.authenticationCode(for: Data("phantom:\(email)".utf8), using: key).prefix(16))
        // Version 8 ("custom") UUID, so it never collides with the version 4 ids clients make.
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// What the database keeps for an e-mailed code, as typed (case, spaces and dashes do not matter).
    /// Keyed, because a code has only 40 bits: a plain hash in a stolen database would give every
    /// live code away in seconds; without the secret file it gives nothing.
    func codeHash(_ typed: String) -> Data {
        tokenHash(String(typed.uppercased().filter { $0.isLetter || $0.isNumber }.prefix(64)))
    }

    /// A key of its own for `purpose` (sealing the mail outbox), so no use of the secret can stand in
    /// for another.
    func derivedKey(for purpose: String) -> SymmetricKey {
        SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("derived-key:\(purpose)".utf8), using: key))
    }

    /// What the database keeps for a mailed link's token (reset, confirmation, deletion).
    func tokenHash(_ token: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("token:\(token)".utf8), using: key))
    }
}
