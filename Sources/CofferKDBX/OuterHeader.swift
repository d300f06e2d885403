import Foundation

/// The unencrypted start of a KDBX 4 file: signatures, version, then type–length–value fields
/// (cipher, compression, master seed, IV, key-derivation parameters) up to an end field.
struct OuterHeader {
    static let signature1: UInt32 = 0x9AA2_D903
    static let signature2: UInt32 = 0xB54B_FB67
    /// KDBX 4.0 as KeePass and KeePassXC write it.
    static let writtenVersion: (major: UInt16, minor: UInt16) = (4, 0)

    var settings: KDBXSettings
    /// Argon2's salt, or AES-KDF's key.
    var keyDerivationSeed: [UInt8]
    /// Argon2's version field (0x13 today; 0x10 is accepted).
    var argon2Version: UInt32 = 0x13
    var isCompressed: Bool
    var masterSeed: [UInt8]
    var iv: [UInt8]
    /// The header exactly as stored, which the SHA-256 and HMAC after it cover.
    var bytes: [UInt8] = []

    /// Whether `prefix` starts with the KDBX signatures (any version).
    static func hasSignature(_ prefix: [UInt8]) -> Bool {
        var reader = ByteReader(prefix)
        return (try? reader.integer(UInt32.self, "")) == signature1
            && (try? reader.integer(UInt32.self, "")) == signature2
    }

    /// Parses the header at the start of `file`; `bytes` ends where the header's end field does.
    init(parsing file: [UInt8]) throws(KDBXError) {
        var reader = ByteReader(file)
        guard file.count >= 12, try reader.integer(UInt32.self, "the signature") == Self.signature1,
            try reader.integer(UInt32.self, "the signature") == Self.signature2
        else { throw .notKeePass }
        let minor = try reader.integer(UInt16.self, "the version")
        let major = try reader.integer(UInt16.self, "the version")
        guard major == 4 else { throw .unsupportedVersion(major: major, minor: minor) }
        var cipher: KDBXSettings.Cipher?
        var compression: UInt32?
        var masterSeed: [UInt8]?
        var iv: [UInt8]?
        var parameters: VariantDictionary?
        fieldLoop: while true {
            let (id, value) = try reader.field("the header")
            switch id {
            case 0: break fieldLoop
            case 2: cipher = try KDBXSettings.Cipher(uuid: value)
            case 3:
                var field = ByteReader(value)
                compression = try field.integer(UInt32.self, "the compression flag")
            case 4: masterSeed = value
            case 7: iv = value
            case 11: parameters = try VariantDictionary(parsing: value)
            default: continue  // 12 (public custom data) and unknown fields carry nothing Coffer needs.
            }
        }
        guard let cipher else { throw .damaged("its header names no cipher") }
        guard let compression, compression <= 1 else { throw .damaged("its header has no valid compression flag") }
        guard let masterSeed, masterSeed.count == 32 else { throw .damaged("its master seed is not 32 bytes") }
        guard let iv, iv.count == cipher.ivLength else {
            throw .damaged("its IV is not \(cipher.ivLength) bytes as \(cipher.rawValue) needs")
        }
        guard let parameters else { throw .damaged("its header has no key-derivation parameters") }
        let (keyDerivation, seed, version) = try Self.keyDerivation(parameters)
        self.settings = KDBXSettings(cipher: cipher, keyDerivation: keyDerivation)
        self.keyDerivationSeed = seed
        self.argon2Version = version
        self.isCompressed = compression == 1
        self.masterSeed = masterSeed
        self.iv = iv
        self.bytes = Array(file[0..<reader.offset])
    }

    /// Fresh random seeds and IV for writing with `settings`.
    init(writing settings: KDBXSettings) {
        self.settings = settings
        self.keyDerivationSeed = randomBytes(32)
        self.isCompressed = true
        self.masterSeed = randomBytes(32)
        self.iv = randomBytes(settings.cipher.ivLength)
        var writer = ByteWriter()
        writer.integer(Self.signature1)
        writer.integer(Self.signature2)
        writer.integer(Self.writtenVersion.minor)
        writer.integer(Self.writtenVersion.major)
        writer.field(2, settings.cipher.uuid)
        writer.field(3, UInt32(1).littleEndianBytes)
        writer.field(4, masterSeed)
        writer.field(7, iv)
        writer.field(11, Self.parameters(settings.keyDerivation, seed: keyDerivationSeed).serialized)
        writer.field(0, Array("\r\n\r\n".utf8))
        self.bytes = writer.bytes
    }

    private static func parameters(_ derivation: KDBXSettings.KeyDerivation, seed: [UInt8]) -> VariantDictionary {
        var dictionary = VariantDictionary()
        switch derivation {
        case .aes(let rounds):
            dictionary["$UUID"] = .bytes(KDBXSettings.KeyDerivation.aesUUID)
            dictionary["R"] = .uint64(rounds)
            dictionary["S"] = .bytes(seed)
        case .argon2d(let memory, let iterations, let lanes), .argon2id(let memory, let iterations, let lanes):
            let isD: Bool = if case .argon2d = derivation { true } else { false }
            dictionary["$UUID"] = .bytes(
                isD ? KDBXSettings.KeyDerivation.argon2dUUID : KDBXSettings.KeyDerivation.argon2idUUID)
            dictionary["S"] = .bytes(seed)
            dictionary["P"] = .uint32(lanes)
            dictionary["M"] = .uint64(memory * 1024)
            dictionary["I"] = .uint64(iterations)
            dictionary["V"] = .uint32(0x13)
        }
        return dictionary
    }

    private static func keyDerivation(_ parameters: VariantDictionary) throws(KDBXError) -> (
        KDBXSettings.KeyDerivation, [UInt8], UInt32
    ) {
        guard let uuid = parameters.bytes("$UUID") else {
            throw .damaged("its key-derivation parameters name no function")
        }
        typealias Derivation = KDBXSettings.KeyDerivation
        typealias Limits = KDBXSettings.Limits
        switch uuid {
        case Derivation.aesUUID, Derivation.aesKDBX3UUID:
            guard let rounds = parameters.unsigned("R"), let seed = parameters.bytes("S"), seed.count == 32 else {
                throw .damaged("its AES-KDF parameters lack the rounds or a 32-byte seed")
            }
            guard rounds <= Limits.maximumAESRounds else {
                throw .unreasonableSettings("\(rounds) AES-KDF rounds; Coffer accepts up to \(Limits.maximumAESRounds)")
            }
            return (.aes(rounds: rounds), seed, 0)
        case Derivation.argon2dUUID, Derivation.argon2idUUID:
            guard let salt = parameters.bytes("S"), salt.count >= 8, let memory = parameters.unsigned("M"),
                let iterations = parameters.unsigned("I"), let lanes = parameters.unsigned("P")
            else { throw .damaged("its Argon2 parameters lack the salt, memory, iterations or lanes") }
            if parameters.bytes("K")?.isEmpty == false || parameters.bytes("A")?.isEmpty == false {
                throw .unsupportedKeyDerivation("Argon2 with a secret key or associated data")
            }
            let version = parameters.unsigned("V") ?? 0x13
            guard version == 0x13 || version == 0x10 else { throw .damaged("its Argon2 version is \(version)") }
            // Lanes first: the memory check multiplies by them, and a file may hold any 64-bit number.
            guard lanes >= 1, lanes <= UInt64(Limits.maximumParallelism) else {
                throw .unreasonableSettings("\(lanes) Argon2 lanes")
            }
            let memoryKiB = memory / 1024
            guard memoryKiB >= 8 * lanes, memoryKiB <= Limits.maximumMemoryKiB else {
                throw .unreasonableSettings("Argon2 memory of \(memory) bytes")
            }
            guard iterations >= 1, iterations <= Limits.maximumIterations else {
                throw .unreasonableSettings("\(iterations) Argon2 iterations")
            }
            let derivation: Derivation =
                uuid == Derivation.argon2dUUID
                ? .argon2d(memoryKiB: memoryKiB, iterations: iterations, parallelism: UInt32(lanes))
                : .argon2id(memoryKiB: memoryKiB, iterations: iterations, parallelism: UInt32(lanes))
            return (derivation, salt, UInt32(version))
        default:
            throw .unsupportedKeyDerivation("unknown function \(uuid.hexString)")
        }
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
