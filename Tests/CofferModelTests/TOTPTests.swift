import Foundation
import Testing

@testable import CofferModel

@Suite("TOTP")
struct TOTPTests {
    struct Vector: Sendable {
        let time: TimeInterval
        let algorithm: TOTP.Algorithm
        let code: String
    }

    static let seeds: [TOTP.Algorithm: String] = [
        .sha1: "12345678901234567890",
        .sha256: "12345678901234567890123456789012",
        .sha512: "1234567890123456789012345678901234567890123456789012345678901234",
    ]

    static let rfc6238: [Vector] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ].flatMap { row in
        [
            Vector(time: row.0, algorithm: .sha1, code: row.1), Vector(time: row.0, algorithm: .sha256, code: row.2),
            Vector(time: row.0, algorithm: .sha512, code: row.3),
        ]
    }

    @Test("matches the RFC 6238 appendix B vectors", arguments: rfc6238)
    func vector(_ vector: Vector) throws {
        let totp = try TOTP(secret: Array(Self.seeds[vector.algorithm]!.utf8), algorithm: vector.algorithm, digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: vector.time)) == vector.code)
    }

    @Test("parses an otpauth URI with issuer, algorithm, digits and period")
    func otpauth() throws {
        let totp = try TOTP(
            parsing:
                "otpauth://totp/Example:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example&algorithm=SHA256&digits=8&period=60"
        )
        #expect(totp.algorithm == .sha256)
        #expect(totp.digits == 8)
        #expect(totp.period == 60)
        #expect(totp.issuer == "Example")
        #expect(totp.accountName == "alice@example.com")
        #expect(totp.secret == Array("12345678901234567890".utf8))
    }

    @Test("a bare base32 secret uses SHA-1, 6 digits and 30 seconds")
    func bareSecret() throws {
        let totp = try TOTP(parsing: "gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.secondsRemaining(at: Date(timeIntervalSince1970: 59)) == 1)
    }

    @Test(
        "bad secrets and links are refused with a reason",
        arguments: [
            "", "not base32 !", "otpauth://hotp/x?secret=GEZDGNBV", "otpauth://totp/x?secret=GEZDGNBV&digits=7",
            "otpauth://totp/x?secret=GEZDGNBV&algorithm=MD5", "otpauth://totp/x",
            "otpauth://totp/x?secret=GEZDGNBV&period=0",
        ])
    func badInput(_ text: String) {
        #expect(throws: CofferModelError.self) { try TOTP(parsing: text) }
    }
}
