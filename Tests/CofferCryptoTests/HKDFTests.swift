import Crypto
import Foundation
import Testing

@testable import CofferCrypto

@Suite("HKDF")
struct HKDFTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let ikm: String
        let salt: String
        let info: String
        let length: Int
        let okm: String
        var testDescription: String { name }
    }

    static let rfc5869: [Vector] = [
        Vector(
            name: "RFC 5869 A.1", ikm: String(repeating: "0b", count: 22), salt: "000102030405060708090a0b0c",
            info: "f0f1f2f3f4f5f6f7f8f9", length: 42,
            okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        Vector(
            name: "RFC 5869 A.2",
            ikm: (0x00...0x4f).map { String(format: "%02x", $0) }.joined(),
            salt: (0x60...0xaf).map { String(format: "%02x", $0) }.joined(),
            info: (0xb0...0xff).map { String(format: "%02x", $0) }.joined(), length: 82,
            okm:
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"
        ),
        Vector(
            name: "RFC 5869 A.3", ikm: String(repeating: "0b", count: 22), salt: "", info: "", length: 42,
            okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ]

    @Test("matches the RFC 5869 SHA-256 vectors", arguments: rfc5869)
    func vector(_ vector: Vector) {
        let okm = HKDFExpansion.expand(
            inputKeyMaterial: SymmetricKey(data: bytes(hex: vector.ikm)), salt: bytes(hex: vector.salt),
            info: bytes(hex: vector.info), outputByteCount: vector.length)
        #expect(okm.withUnsafeBytes { hex($0) } == vector.okm)
    }

    @Test("every label derives a different key from the same master key")
    func labelsSeparate() {
        let master = MasterKey.random()
        let auth = master.authKey().withUnsafeBytes(Array.init)
        let wrap = master.passwordWrapKey().withUnsafeBytes(Array.init)
        #expect(auth != wrap)
        let labels = Set(HKDFLabel.allCases.map(\.rawValue))
        #expect(labels.count == HKDFLabel.allCases.count)
        #expect(labels.contains("coffer/v1/auth") && labels.contains("coffer/v1/recovery-wrap"))
    }
}
