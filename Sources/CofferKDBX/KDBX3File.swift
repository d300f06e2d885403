import Crypto
import CryptoExtras
import Foundation

/// KDBX 3.1, still written by keepassxc-cli 2.7's `db-create` and by KeePass before 2.35: read only.
///
/// Layout: the outer header (fields with 2-byte lengths, AES-KDF's seed and rounds in their own
/// fields); then the payload encrypted whole (AES-256-CBC or ChaCha20), whose first 32 bytes repeat
/// the header's stream start bytes — the password check — followed by SHA-256-hashed blocks,
/// optionally gzip-compressed, holding the XML. Protected values use the Salsa20 (id 2) or ChaCha20
/// (id 3) inner stream; attachments live in `Meta/Binaries`. Twofish is named, not read.
enum KDBX3File {
    private struct Header {
        var cipher: KDBXSettings.Cipher
        var isCompressed: Bool
        var masterSeed: [UInt8]
        var transformSeed: [UInt8]
        var rounds: UInt64
        var iv: [UInt8]
        var innerKey: [UInt8]
        var streamStart: [UInt8]
        var innerStreamID: UInt32
        var length: Int
    }

    static func read(_ file: [UInt8], credentials: KDBXCredentials) throws(KDBXError) -> KDBXDatabase {
        let header = try parseHeader(file)
        let transformed = try KDBXKeys.aesKDF(
            credentials.compositeKey, seed: header.transformSeed, rounds: header.rounds)
        let key = SymmetricKey(data: SHA256.hash(data: header.masterSeed + transformed))
        let encrypted = Array(file[header.length...])
        let plain: [UInt8]
        do {
            switch header.cipher {
            case .aes256:
                plain = Array(try AES._CBC.decrypt(encrypted, using: key, iv: AES._CBC.IV(ivBytes: header.iv)))
            case .chaCha20:
                plain = Array(
                    try Insecure.ChaCha20CTR.encrypt(
                        encrypted, using: key, nonce: Insecure.ChaCha20CTR.Nonce(data: header.iv)))
            }
        } catch {
            // AES-CBC with a wrong key almost always ends in bad padding.
            throw .wrongKey
        }
        guard plain.count >= 32, Array(plain[0..<32]) == header.streamStart else { throw .wrongKey }
        var payload = try hashedBlocks(Array(plain[32...]))
        if header.isCompressed { payload = try Gzip.decompress(payload) }
        var stream: InnerStream
        switch header.innerStreamID {
        case InnerStream.salsa20ID: stream = InnerStream(salsa20Key: header.innerKey)
        case InnerStream.chaCha20ID: stream = try InnerStream(key: header.innerKey)
        default: throw .unsupportedInnerStream(header.innerStreamID)
        }
        return try KDBXXML.database(fromKDBX3: payload, stream: &stream)
    }

    private static func parseHeader(_ file: [UInt8]) throws(KDBXError) -> Header {
        var reader = ByteReader(file, offset: 12)
        var fields: [UInt8: [UInt8]] = [:]
        while true {
            let id = try reader.integer(UInt8.self, "a field of the header")
            let size = Int(try reader.integer(UInt16.self, "the length of header field \(id)"))
            let value = try reader.take(size, "header field \(id)")
            if id == 0 { break }
            fields[id] = value
        }
        func required(_ id: UInt8, _ name: String, length: Int? = nil) throws(KDBXError) -> [UInt8] {
            guard let value = fields[id], length.map({ value.count == $0 }) ?? true else {
                throw .damaged("its header has no valid \(name)")
            }
            return value
        }
        let cipher = try KDBXSettings.Cipher(uuid: try required(2, "cipher"))
        let compression = try required(3, "compression flag", length: 4)
        let rounds = try required(6, "AES-KDF rounds", length: 8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard rounds <= KDBXSettings.Limits.maximumAESRounds else {
            throw .unreasonableSettings(
                "\(rounds) AES-KDF rounds; Coffer accepts up to \(KDBXSettings.Limits.maximumAESRounds)")
        }
        let streamID = try required(10, "inner stream id", length: 4).reversed().reduce(UInt32(0)) {
            $0 << 8 | UInt32($1)
        }
        return Header(
            cipher: cipher, isCompressed: compression[0] == 1, masterSeed: try required(4, "master seed", length: 32),
            transformSeed: try required(5, "AES-KDF seed", length: 32), rounds: rounds,
            iv: try required(7, "IV", length: cipher.ivLength), innerKey: try required(8, "inner stream key"),
            streamStart: try required(9, "stream start bytes", length: 32), innerStreamID: streamID,
            length: reader.offset)
    }

    /// Joins the SHA-256-hashed blocks: index u32, hash, size u32, data; a zero-size block ends them.
    private static func hashedBlocks(_ bytes: [UInt8]) throws(KDBXError) -> [UInt8] {
        var reader = ByteReader(bytes)
        var joined: [UInt8] = []
        var expected: UInt32 = 0
        while true {
            let index = try reader.integer(UInt32.self, "block \(expected)'s index")
            let hash = try reader.take(32, "block \(expected)'s hash")
            let size = try reader.length("block \(expected)")
            guard index == expected else { throw .damaged("its blocks are out of order at block \(expected)") }
            if size == 0 {
                guard hash.allSatisfy({ $0 == 0 }) else { throw .damaged("its last block is malformed") }
                return joined
            }
            let data = try reader.take(size, "block \(expected)")
            guard Array(SHA256.hash(data: data)) == hash else {
                throw .damaged("block \(expected) fails its checksum (the file was modified or truncated)")
            }
            joined += data
            expected += 1
        }
    }
}
