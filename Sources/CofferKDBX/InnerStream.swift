import Crypto
import CryptoExtras
import Foundation

/// The key stream that hides protected values inside the XML: one continuous stream over every
/// protected value in document order. ChaCha20 (id 3, KDBX 4) is keyed by SHA-512 of the inner key
/// (bytes 0–31 key, 32–43 nonce); Salsa20 (id 2, KDBX 3.1) by SHA-256 of it with a fixed nonce.
struct InnerStream {
    static let chaCha20ID: UInt32 = 3
    static let salsa20ID: UInt32 = 2

    private enum Cipher {
        case chaCha20(SymmetricKey, Insecure.ChaCha20CTR.Nonce)
        case salsa20(key: [UInt32])
    }

    private let cipher: Cipher
    private var buffer: [UInt8] = []
    private var position = 0
    private var nextBlock: UInt32 = 0

    /// 64 KiB of key stream is made at a time.
    private static let blocksPerChunk: UInt32 = 1024

    init(key innerKey: [UInt8]) throws(KDBXError) {
        let digest = Array(SHA512.hash(data: innerKey))
        guard let nonce = try? Insecure.ChaCha20CTR.Nonce(data: digest[32..<44]) else {
            throw .damaged("its inner stream key cannot be used")
        }
        cipher = .chaCha20(SymmetricKey(data: digest[0..<32]), nonce)
    }

    /// KDBX 3.1's Salsa20 stream.
    init(salsa20Key innerKey: [UInt8]) {
        let key = Array(SHA256.hash(data: innerKey))
        cipher = .salsa20(key: (0..<8).map { Salsa20.word(key, at: $0 * 4) })
    }

    /// XORs `bytes` with the next `bytes.count` bytes of key stream (the same call hides and reveals).
    mutating func apply(_ bytes: [UInt8]) throws(KDBXError) -> [UInt8] {
        var result = bytes
        for index in result.indices {
            if position == buffer.count { try refill() }
            result[index] ^= buffer[position]
            position += 1
        }
        return result
    }

    private mutating func refill() throws(KDBXError) {
        switch cipher {
        case .chaCha20(let key, let nonce):
            do {
                let zeros = [UInt8](repeating: 0, count: Int(Self.blocksPerChunk) * 64)
                buffer = Array(
                    try Insecure.ChaCha20CTR.encrypt(
                        zeros, using: key, counter: Insecure.ChaCha20CTR.Counter(offset: nextBlock), nonce: nonce))
            } catch {
                throw .damaged("its inner stream cannot be generated: \(error)")
            }
        case .salsa20(let key):
            buffer = []
            buffer.reserveCapacity(Int(Self.blocksPerChunk) * 64)
            for block in 0..<Self.blocksPerChunk {
                buffer += Salsa20.block(key: key, nonce: Salsa20.keePassNonce, counter: UInt64(nextBlock &+ block))
            }
        }
        nextBlock &+= Self.blocksPerChunk
        position = 0
    }
}

/// Salsa20/20 (Bernstein), only as KeePass's inner stream needs it: the block function with a
/// 256-bit key, a 64-bit nonce and a 64-bit block counter.
enum Salsa20 {
    /// The nonce KeePass uses for every file.
    static let keePassNonce: [UInt32] = [
        word([0xE8, 0x30, 0x09, 0x4B, 0x97, 0x20, 0x5D, 0x2A], at: 0),
        word([0xE8, 0x30, 0x09, 0x4B, 0x97, 0x20, 0x5D, 0x2A], at: 4),
    ]

    static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    /// The 64 bytes of key stream for block `counter`.
    static func block(key: [UInt32], nonce: [UInt32], counter: UInt64) -> [UInt8] {
        let input: [UInt32] = [
            0x6170_7865, key[0], key[1], key[2], key[3], 0x3320_646E, nonce[0], nonce[1],
            UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32), 0x7962_2D32,
            key[4], key[5], key[6], key[7], 0x6B20_6574,
        ]
        var x = input
        func quarter(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            x[b] ^= (x[a] &+ x[d]).rotatedLeft(7)
            x[c] ^= (x[b] &+ x[a]).rotatedLeft(9)
            x[d] ^= (x[c] &+ x[b]).rotatedLeft(13)
            x[a] ^= (x[d] &+ x[c]).rotatedLeft(18)
        }
        for _ in 0..<10 {
            quarter(0, 4, 8, 12)
            quarter(5, 9, 13, 1)
            quarter(10, 14, 2, 6)
            quarter(15, 3, 7, 11)
            quarter(0, 1, 2, 3)
            quarter(5, 6, 7, 4)
            quarter(10, 11, 8, 9)
            quarter(15, 12, 13, 14)
        }
        return (0..<16).flatMap { index in withUnsafeBytes(of: (x[index] &+ input[index]).littleEndian, Array.init) }
    }
}

extension UInt32 {
    fileprivate func rotatedLeft(_ count: UInt32) -> UInt32 { self << count | self >> (32 - count) }
}
