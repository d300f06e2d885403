import Crypto

/// OpenSSH's `bcrypt_pbkdf`: the key derivation of passphrase-protected `openssh-key-v1` files.
///
/// Each output block is many rounds of a salted bcrypt hash; the output bytes are spread across
/// blocks (byte `i` of block `b` lands at `i * stride + b`) so no block can be computed alone.
enum BcryptPBKDF {
    /// The largest key OpenSSH asks for is 48 bytes; the algorithm allows 1,024.
    static let maximumKeyLength = 1024
    /// ssh-keygen's default is 16 (`-a`); 1,000,000 would take hours and only a hostile file asks for it.
    static let maximumRounds: UInt32 = 100_000

    /// Derives `keyLength` bytes from `password` and `salt`.
    static func derive(password: [UInt8], salt: [UInt8], rounds: UInt32, keyLength: Int) throws(SSHKeyError) -> [UInt8]
    {
        guard rounds >= 1, rounds <= maximumRounds else {
            throw .malformed(
                "its passphrase derivation asks for \(rounds) rounds (Coffer accepts 1 to \(maximumRounds))")
        }
        guard !salt.isEmpty, salt.count <= 1 << 16 else {
            throw .malformed("its passphrase salt is \(salt.count) bytes long")
        }
        guard !password.isEmpty else { throw .passphraseRequired }
        precondition(keyLength > 0 && keyLength <= maximumKeyLength)
        let blockLength = 32
        let stride = (keyLength + blockLength - 1) / blockLength
        let passwordHash = Array(SHA512.hash(data: password))
        var key = [UInt8](repeating: 0, count: keyLength)
        var block: UInt32 = 1
        while (Int(block) - 1) < stride {
            var saltWithCount = salt
            saltWithCount += withUnsafeBytes(of: block.bigEndian, Array.init)
            var roundOutput = hash(password: passwordHash, salt: Array(SHA512.hash(data: saltWithCount)))
            var output = roundOutput
            for _ in 1..<rounds {
                roundOutput = hash(password: passwordHash, salt: Array(SHA512.hash(data: roundOutput)))
                for index in output.indices { output[index] ^= roundOutput[index] }
            }
            for index in 0..<blockLength {
                let destination = index * stride + Int(block) - 1
                guard destination < keyLength else { break }
                key[destination] = output[index]
            }
            block += 1
        }
        return key
    }

    /// One bcrypt hash of 64-byte inputs: the expensive key schedule, then 64 encryptions of a fixed text.
    private static func hash(password: [UInt8], salt: [UInt8]) -> [UInt8] {
        var state = Blowfish()
        state.expand(data: salt, key: password)
        for _ in 0..<64 {
            state.expand(key: salt)
            state.expand(key: password)
        }
        let text = Array("OxychromaticBlowfishSwatDynamite".utf8)
        var words = (0..<8).map { index in
            text[index * 4..<index * 4 + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        for _ in 0..<64 { state.encrypt(&words) }
        return words.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
    }
}
