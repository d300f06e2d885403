import Foundation
import Testing

@testable import CofferCrypto

@Suite("Argon2id")
struct Argon2idTests {
    @Test("matches the RFC 9106 section 5.3 Argon2id test vector")
    func rfc9106Vector() throws {
        let tag = try Argon2id.hash(
            password: [UInt8](repeating: 0x01, count: 32),
            salt: [UInt8](repeating: 0x02, count: 16),
            secret: [UInt8](repeating: 0x03, count: 8),
            associatedData: [UInt8](repeating: 0x04, count: 12),
            parameters: KDFParameters(memoryKiB: 32, iterations: 3, parallelism: 4),
            outputLength: 32)
        #expect(hex(tag) == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    }

    @Test("refuses parameters below the OWASP floor whatever asks for them")
    func refusesWeakParameters() {
        let weak = KDFParameters(memoryKiB: 1024, iterations: 1, parallelism: 1)
        #expect(throws: CofferCryptoError.weakKDFParameters(weak)) {
            try Argon2id.deriveMasterKey(password: "pw", salt: [UInt8](repeating: 1, count: 16), parameters: weak)
        }
    }

    @Test("the same password and salt give the same key, a different salt another")
    func deterministic() throws {
        let salt = [UInt8](repeating: 7, count: 16)
        let a = try Argon2id.deriveMasterKey(password: "correct horse", salt: salt, parameters: .minimum)
        let b = try Argon2id.deriveMasterKey(password: "correct horse", salt: salt, parameters: .minimum)
        let c = try Argon2id.deriveMasterKey(
            password: "correct horse", salt: [UInt8](repeating: 8, count: 16), parameters: .minimum)
        #expect(a.withUnsafeBytes(Array.init) == b.withUnsafeBytes(Array.init))
        #expect(a.withUnsafeBytes(Array.init) != c.withUnsafeBytes(Array.init))
    }
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}
