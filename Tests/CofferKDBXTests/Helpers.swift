import Crypto
import CryptoExtras
import Foundation

func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined() }

/// One AES-256 block encryption, for checking AES-KDF against its definition.
func aesBlock(_ block: [UInt8], key: [UInt8]) throws -> [UInt8] {
    var payload = block
    try AES.permute(&payload, key: SymmetricKey(data: key))
    return payload
}
