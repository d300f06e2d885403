import Foundation

/// How a KDBX 4 file is encrypted: the outer cipher and the key derivation. Reading takes whatever
/// the file says (within `KDBXSettings.limits`); writing uses what the caller picks.
public struct KDBXSettings: Equatable, Sendable {
    /// The cipher of the payload.
    public enum Cipher: String, Equatable, Sendable, CaseIterable {
        /// AES-256 in CBC mode with PKCS#7 padding; KeePass's default.
        case aes256 = "aes256"
        /// ChaCha20 (RFC 8439 block function, 96-bit nonce).
        case chaCha20 = "chacha20"

        static let aesUUID: [UInt8] = hex("31c1f2e6bf714350be5805216afc5aff")
        static let chaCha20UUID: [UInt8] = hex("d6038a2b8b6f4cb5a524339a31dbb59a")
        static let twofishUUID: [UInt8] = hex("ad68f29f576f4bb9a36ad47af965346c")

        var uuid: [UInt8] { self == .aes256 ? Self.aesUUID : Self.chaCha20UUID }
        var ivLength: Int { self == .aes256 ? 16 : 12 }

        init(uuid: [UInt8]) throws(KDBXError) {
            switch uuid {
            case Self.aesUUID: self = .aes256
            case Self.chaCha20UUID: self = .chaCha20
            case Self.twofishUUID: throw .unsupportedCipher("Twofish")
            default: throw .unsupportedCipher("an unknown cipher (\(uuid.hexString))")
            }
        }
    }

    /// The key-derivation function that turns the composite key into the cipher key.
    public enum KeyDerivation: Equatable, Sendable, CustomStringConvertible {
        /// Argon2d with memory in KiB; KeePassXC's default.
        case argon2d(memoryKiB: UInt64, iterations: UInt64, parallelism: UInt32)
        /// Argon2id with memory in KiB; what Coffer writes.
        case argon2id(memoryKiB: UInt64, iterations: UInt64, parallelism: UInt32)
        /// AES-KDF: the key encrypted `rounds` times with AES-256-ECB.
        case aes(rounds: UInt64)

        static let argon2dUUID: [UInt8] = hex("ef636ddf8c29444b91f7a9a403e30a0c")
        static let argon2idUUID: [UInt8] = hex("9e298b1956db4773b23dfc3ec6f0a1e6")
        static let aesUUID: [UInt8] = hex("c9d9f39a628a4460bf740d08c18a4fea")
        static let aesKDBX3UUID: [UInt8] = hex("7c02bb8279a74ac0927d114a00648238")

        /// A readable name, e.g. "Argon2id (64 MiB, 3 iterations, 4 lanes)".
        public var description: String {
            switch self {
            case .argon2d(let memory, let iterations, let lanes):
                "Argon2d (\(memory / 1024) MiB, \(iterations) iterations, \(lanes) lanes)"
            case .argon2id(let memory, let iterations, let lanes):
                "Argon2id (\(memory / 1024) MiB, \(iterations) iterations, \(lanes) lanes)"
            case .aes(let rounds): "AES-KDF (\(rounds) rounds)"
            }
        }
    }

    /// The payload cipher.
    public var cipher: Cipher
    /// The key derivation.
    public var keyDerivation: KeyDerivation

    /// Creates settings.
    public init(cipher: Cipher, keyDerivation: KeyDerivation) {
        self.cipher = cipher
        self.keyDerivation = keyDerivation
    }

    /// What Coffer writes: AES-256 and Argon2id with Coffer's own account parameters
    /// (64 MiB, 3 iterations, 4 lanes), which KeePassXC opens in well under a second.
    public static let coffer = KDBXSettings(
        cipher: .aes256, keyDerivation: .argon2id(memoryKiB: 64 * 1024, iterations: 3, parallelism: 4))

    /// Bounds on what a file may ask for, so a hostile file cannot exhaust memory or hang an import.
    public enum Limits {
        /// Argon2 memory: 4 GiB, KeePassXC's own maximum.
        public static let maximumMemoryKiB: UInt64 = 4 * 1024 * 1024
        /// Argon2 passes.
        public static let maximumIterations: UInt64 = 10_000
        /// Argon2 lanes.
        public static let maximumParallelism: UInt32 = 256
        /// AES-KDF rounds: a billion, about a minute here.
        public static let maximumAESRounds: UInt64 = 1_000_000_000
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

extension Array where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
