import Crypto
import CryptoExtras
import Foundation

/// The ChaCha20 key stream that hides protected values inside the XML (inner stream id 3): one
/// continuous stream over every protected value in document order, keyed by SHA-512 of the inner
/// header's key (bytes 0–31 key, 32–43 nonce).
struct InnerStream {
    static let chaCha20ID: UInt32 = 3

    private let key: SymmetricKey
    private let nonce: Insecure.ChaCha20CTR.Nonce
    private var buffer: [UInt8] = []
    private var position = 0
    private var nextBlock: UInt32 = 0

    /// 64 KiB of key stream is made at a time.
    private static let blocksPerChunk: UInt32 = 1024

    init(key innerKey: [UInt8]) throws(KDBXError) {
        let digest = Array(SHA512.hash(data: innerKey))
        key = SymmetricKey(data: digest[0..<32])
        guard let nonce = try? Insecure.ChaCha20CTR.Nonce(data: digest[32..<44]) else {
            throw .damaged("its inner stream key cannot be used")
        }
        self.nonce = nonce
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
        do {
            let zeros = [UInt8](repeating: 0, count: Int(Self.blocksPerChunk) * 64)
            buffer = Array(
                try Insecure.ChaCha20CTR.encrypt(
                    zeros, using: key, counter: Insecure.ChaCha20CTR.Counter(offset: nextBlock), nonce: nonce))
        } catch {
            throw .damaged("its inner stream cannot be generated: \(error)")
        }
        nextBlock &+= Self.blocksPerChunk
        position = 0
    }
}
