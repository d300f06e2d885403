/// Blowfish with the "expensive key schedule" bcrypt uses: only what `bcrypt_pbkdf` needs, which
/// is how OpenSSH derives the key of a passphrase-protected private key.
///
/// Not a general cipher: there is no decryption, and nothing outside ``BcryptPBKDF`` uses it.
struct Blowfish {
    private var p = Blowfish.initialP
    private var s = Blowfish.initialS

    /// Mixes `key` into the P-array, then re-encrypts the whole state, folding in `data` (the salt).
    mutating func expand(data: [UInt8], key: [UInt8]) {
        withState { p, s in
            var position = 0
            for index in 0..<18 { p[index] ^= Self.nextWord(of: key, at: &position) }
            position = 0
            var left: UInt32 = 0
            var right: UInt32 = 0
            for pointer in [p, s] {
                let count = pointer == p ? 18 : 1024
                for index in stride(from: 0, to: count, by: 2) {
                    left ^= Self.nextWord(of: data, at: &position)
                    right ^= Self.nextWord(of: data, at: &position)
                    Self.encipher(&left, &right, p: p, s: s)
                    pointer[index] = left
                    pointer[index + 1] = right
                }
            }
        }
    }

    /// Mixes `key` into the P-array and re-encrypts the state without a salt.
    mutating func expand(key: [UInt8]) {
        withState { p, s in
            var position = 0
            for index in 0..<18 { p[index] ^= Self.nextWord(of: key, at: &position) }
            var left: UInt32 = 0
            var right: UInt32 = 0
            for index in stride(from: 0, to: 18, by: 2) {
                Self.encipher(&left, &right, p: p, s: s)
                p[index] = left
                p[index + 1] = right
            }
            for index in stride(from: 0, to: 1024, by: 2) {
                Self.encipher(&left, &right, p: p, s: s)
                s[index] = left
                s[index + 1] = right
            }
        }
    }

    /// Encrypts pairs of words in place (ECB), as `blf_enc` does.
    mutating func encrypt(_ words: inout [UInt32]) {
        withState { p, s in
            for index in stride(from: 0, to: words.count - 1, by: 2) {
                var left = words[index]
                var right = words[index + 1]
                Self.encipher(&left, &right, p: p, s: s)
                words[index] = left
                words[index + 1] = right
            }
        }
    }

    private mutating func withState(_ body: (UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Void) {
        p.withUnsafeMutableBufferPointer { p in
            s.withUnsafeMutableBufferPointer { s in body(p.baseAddress!, s.baseAddress!) }
        }
    }

    /// The next big-endian word of `bytes`, wrapping around at the end as bcrypt does.
    private static func nextWord(of bytes: [UInt8], at position: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            if position >= bytes.count { position = 0 }
            word = word << 8 | UInt32(bytes[position])
            position += 1
        }
        return word
    }

    @inline(__always)
    private static func encipher(
        _ left: inout UInt32, _ right: inout UInt32, p: UnsafeMutablePointer<UInt32>, s: UnsafeMutablePointer<UInt32>
    ) {
        var l = left ^ p[0]
        var r = right
        var round = 1
        while round <= 16 {
            r ^= mix(l, s) ^ p[round]
            l ^= mix(r, s) ^ p[round + 1]
            round += 2
        }
        left = r ^ p[17]
        right = l
    }

    @inline(__always)
    private static func mix(_ x: UInt32, _ s: UnsafeMutablePointer<UInt32>) -> UInt32 {
        ((s[Int(x >> 24)] &+ s[256 + Int((x >> 16) & 0xFF)]) ^ s[512 + Int((x >> 8) & 0xFF)])
            &+ s[768 + Int(x & 0xFF)]
    }
}
