import CofferCrypto
import Crypto
import CryptoExtras
public import Foundation

/// What opens a KeePass database: a password, a key file, or both (KeePass's "composite key").
public struct KDBXCredentials: Sendable {
    let password: String?
    let keyFileKey: [UInt8]?

    /// A password and, optionally, the contents of a key file.
    ///
    /// Key files are read the way KeePass reads them: an XML key file (version 1.0 base64 or 2.0
    /// hex with its checksum), 32 raw bytes, 64 hexadecimal characters, or else any file, hashed.
    public init(password: String?, keyFile: Data? = nil) throws(KDBXError) {
        self.password = password
        self.keyFileKey = try keyFile.map(Self.keyFileKey)
        if password == nil, keyFileKey == nil { throw .wrongKey }
    }

    /// SHA-256 over the SHA-256 of the password and the key file's key, in that order.
    var compositeKey: [UInt8] {
        var parts: [UInt8] = []
        if let password { parts += SHA256.hash(data: Data(password.utf8)) }
        if let keyFileKey { parts += keyFileKey }
        return Array(SHA256.hash(data: parts))
    }

    private static func keyFileKey(_ data: Data) throws(KDBXError) -> [UInt8] {
        if let xmlKey = try XMLKeyFile.key(in: data) { return xmlKey }
        if data.count == 32 { return Array(data) }
        if data.count == 64, let text = String(data: data, encoding: .ascii), let bytes = hexBytes(text) {
            return bytes
        }
        return Array(SHA256.hash(data: data))
    }
}

/// KeePass's XML key files: `<KeyFile><Meta><Version>` 1.0 (base64 data) or 2.0 (hex data with a
/// 4-byte SHA-256 checksum in its `Hash` attribute).
private enum XMLKeyFile {
    static func key(in data: Data) throws(KDBXError) -> [UInt8]? {
        guard data.count < 64 * 1024, let text = String(data: data, encoding: .utf8),
            text.contains("<KeyFile"), let tree = try? XMLTree.parse(data), tree.name == "KeyFile"
        else { return nil }
        let version = tree.child("Meta")?.child("Version")?.text ?? ""
        guard let dataElement = tree.child("Key")?.child("Data") else {
            throw .damaged("the XML key file has no Key/Data element")
        }
        if version.hasPrefix("2.") {
            let hexText = dataElement.text.filter { !$0.isWhitespace }
            guard let key = hexBytes(hexText), key.count == 32 else {
                throw .damaged("the XML key file's data is not 32 bytes of hex")
            }
            if let checksum = dataElement.attributes["Hash"].flatMap(hexBytes),
                Array(SHA256.hash(data: key).prefix(4)) != checksum
            {
                throw .damaged("the XML key file's checksum does not match its data")
            }
            return key
        }
        guard let key = Data(base64Encoded: dataElement.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .damaged("the XML key file's data is not base64")
        }
        return Array(key)
    }
}

func hexBytes(_ text: String) -> [UInt8]? {
    let characters = Array(text.utf8)
    guard characters.count.isMultiple(of: 2) else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(characters.count / 2)
    for index in stride(from: 0, to: characters.count, by: 2) {
        guard let byte = UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}

/// The keys a file's header and credentials give: the payload cipher key and the HMAC base key.
struct KDBXKeys {
    let cipherKey: SymmetricKey
    let hmacBaseKey: [UInt8]

    init(header: OuterHeader, credentials: KDBXCredentials) throws(KDBXError) {
        let transformed = try Self.transform(credentials.compositeKey, header: header)
        cipherKey = SymmetricKey(data: SHA256.hash(data: header.masterSeed + transformed))
        hmacBaseKey = Array(SHA512.hash(data: header.masterSeed + transformed + [1]))
    }

    /// The HMAC-SHA-256 key of block `index`; the header uses index 2^64−1.
    func blockKey(_ index: UInt64) -> SymmetricKey {
        SymmetricKey(data: SHA512.hash(data: index.littleEndianBytes + hmacBaseKey))
    }

    private static func transform(_ composite: [UInt8], header: OuterHeader) throws(KDBXError) -> [UInt8] {
        let seed = header.keyDerivationSeed
        switch header.settings.keyDerivation {
        case .argon2d(let memory, let iterations, let lanes):
            return try argon2(.d, composite, seed, memory, iterations, lanes, header.argon2Version)
        case .argon2id(let memory, let iterations, let lanes):
            return try argon2(.id, composite, seed, memory, iterations, lanes, header.argon2Version)
        case .aes(let rounds):
            return try aesKDF(composite, seed: seed, rounds: rounds)
        }
    }

    private static func argon2(
        _ variant: Argon2.Variant, _ key: [UInt8], _ salt: [UInt8], _ memoryKiB: UInt64, _ iterations: UInt64,
        _ lanes: UInt32, _ version: UInt32
    ) throws(KDBXError) -> [UInt8] {
        do {
            return try Argon2.hash(
                variant, password: key, salt: salt, memoryKiB: UInt32(memoryKiB), iterations: UInt32(iterations),
                lanes: lanes, version: version, outputLength: 32)
        } catch {
            throw .unreasonableSettings("Argon2 refused them: \(error)")
        }
    }

    /// AES-KDF: each 16-byte half of the key encrypted `rounds` times with AES-256-ECB under `seed`,
    /// then SHA-256. Repeated ECB of one block equals the last block of CBC over zero blocks with the
    /// block as IV, so the work runs in BoringSSL a megabyte at a time.
    static func aesKDF(_ key: [UInt8], seed: [UInt8], rounds: UInt64) throws(KDBXError) -> [UInt8] {
        let aesKey = SymmetricKey(data: seed)
        let chunkBlocks: UInt64 = 65_536
        let zeros = [UInt8](repeating: 0, count: Int(chunkBlocks) * 16)
        var result: [UInt8] = []
        do {
            for half in [Array(key[0..<16]), Array(key[16..<32])] {
                var block = half
                var left = rounds
                while left > 0 {
                    let count = Int(min(left, chunkBlocks))
                    let encrypted = try AES._CBC.encrypt(
                        zeros[0..<count * 16], using: aesKey, iv: AES._CBC.IV(ivBytes: block), noPadding: true)
                    block = Array(encrypted.suffix(16))
                    left -= UInt64(count)
                }
                result += block
            }
        } catch {
            throw .damaged("AES-KDF failed: \(error)")
        }
        return Array(SHA256.hash(data: result))
    }
}
