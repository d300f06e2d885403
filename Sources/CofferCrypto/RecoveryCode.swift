import Crypto
import Foundation

/// The 128-bit secret of a recovery kit, shown once and typed back when the password is forgotten.
///
/// Printed as 28 base32 characters in groups of four: 26 carry the bits, then a Luhn mod 32
/// character (catches every single mistyped character and most swapped neighbours) and a
/// character of SHA-256 (catches most other slips) — so typos are caught before any network call.
/// `0`, `1` and `8` are read as `O`, `I` and `B`; case, spaces and dashes do not matter.
public struct RecoveryCode: Sendable, Equatable, CustomStringConvertible {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static let dataCharacters = 26
    static let totalCharacters = 28

    /// The secret bits.
    public let entropy: [UInt8]

    /// A fresh code from the system's CSPRNG.
    public static func random() -> RecoveryCode { RecoveryCode(uncheckedEntropy: secureRandomBytes(count: 16)) }

    /// A code from exactly 16 bytes.
    public init(entropy: [UInt8]) throws(CofferCryptoError) {
        guard entropy.count == 16 else { throw .invalidRecoveryCode("it must hold 128 bits") }
        self.entropy = entropy
    }

    private init(uncheckedEntropy: [UInt8]) { self.entropy = uncheckedEntropy }

    /// Parses what a person typed, rejecting any typo the checksum catches.
    public init(parsing text: String) throws(CofferCryptoError) {
        var symbols: [Int] = []
        for character in text.uppercased() {
            if character == " " || character == "-" || character == "\t" || character == "\n" { continue }
            let normalized: Character =
                switch character {
                case "0": "O"
                case "1": "I"
                case "8": "B"
                default: character
                }
            guard let index = Self.alphabet.firstIndex(of: normalized) else {
                throw .invalidRecoveryCode("'\(character)' is not a character recovery codes use")
            }
            symbols.append(index)
        }
        guard symbols.count == Self.totalCharacters else {
            throw .invalidRecoveryCode(
                "it has \(symbols.count) characters, a recovery code has \(Self.totalCharacters)")
        }
        let data = Array(symbols.prefix(Self.dataCharacters))
        guard symbols[Self.dataCharacters] == Self.luhnCheck(data) else {
            throw .invalidRecoveryCode("a character is mistyped (the checksum does not match)")
        }
        guard let entropy = Self.decode(data), symbols[Self.dataCharacters + 1] == Self.hashCheck(entropy) else {
            throw .invalidRecoveryCode("a character is mistyped (the checksum does not match)")
        }
        self.entropy = entropy
    }

    /// The printable form, e.g. `ABCD-EFGH-…`.
    public var formatted: String {
        let symbols = Self.encode(entropy)
        let all = symbols + [Self.luhnCheck(symbols), Self.hashCheck(entropy)]
        let characters = all.map { Self.alphabet[$0] }
        return stride(from: 0, to: characters.count, by: 4)
            .map { String(characters[$0..<min($0 + 4, characters.count)]) }
            .joined(separator: "-")
    }

    /// Never prints the secret by accident.
    public var description: String { "RecoveryCode(…)" }

    /// The key that wraps the account key under this code.
    public func wrapKey() -> RecoveryWrapKey {
        HKDFExpansion.derive(from: SymmetricKey(data: entropy), label: .recoveryWrap)
    }

    /// The key that proves this code to a server.
    public func authKey() -> RecoveryAuthKey {
        HKDFExpansion.derive(from: SymmetricKey(data: entropy), label: .recoveryAuth)
    }

    static func encode(_ bytes: [UInt8]) -> [Int] {
        var symbols: [Int] = []
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                symbols.append((buffer >> (bits - 5)) & 31)
                bits -= 5
            }
        }
        if bits > 0 { symbols.append((buffer << (5 - bits)) & 31) }
        return symbols
    }

    static func decode(_ symbols: [Int]) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = 0
        var bits = 0
        for symbol in symbols {
            buffer = (buffer << 5) | symbol
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
            buffer &= (1 << bits) - 1
        }
        // The two padding bits must be zero, or the text was not produced by `formatted`.
        guard bytes.count == 16, buffer == 0 else { return nil }
        return bytes
    }

    static func luhnCheck(_ symbols: [Int]) -> Int {
        var factor = 2
        var sum = 0
        for symbol in symbols.reversed() {
            var addend = factor * symbol
            factor = factor == 2 ? 1 : 2
            addend = addend / 32 + addend % 32
            sum += addend
        }
        return (32 - sum % 32) % 32
    }

    static func hashCheck(_ entropy: [UInt8]) -> Int {
        Int(Array(SHA256.hash(data: entropy))[0] >> 3)
    }
}
