import CofferSSH
import CofferTestSupport
import Foundation
import Testing

/// Keys made by Debian's ssh-keygen, read by Coffer, and Coffer's keys and signatures checked by ssh-keygen.
@Suite("OpenSSH private keys")
struct OpenSSHKeyFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Makes a key with ssh-keygen; a passphrase is fine on this command line: it protects a throwaway test key.
    func makeKey(_ type: [String], passphrase: String, cipher: String? = nil) throws -> (
        privateKey: String, publicKey: String
    ) {
        let file = directory.appendingPathComponent("key-\(UUID().uuidString)").path
        let cipherArguments = cipher.map { ["-Z", $0] } ?? []
        let result = try Program.run(
            "/usr/bin/ssh-keygen",
            ["-q", "-C", "tester@example", "-N", passphrase, "-f", file] + type + cipherArguments)
        #expect(result.status == 0, "ssh-keygen: \(result.output)")
        return (
            try String(contentsOfFile: file, encoding: .utf8),
            try String(contentsOfFile: file + ".pub", encoding: .utf8)
        )
    }

    @Test(
        "ssh-keygen's keys open, with and without a passphrase, and keep their public key and comment",
        arguments: [
            (["-t", "ed25519"], "", nil),
            (["-t", "ed25519"], "correct horse", nil),
            (["-t", "ecdsa", "-b", "256"], "p-256 phrase", nil),
            (["-t", "rsa", "-b", "2048"], "rsa phrase", nil),
            (["-t", "ed25519"], "gcm phrase", "aes256-gcm@openssh.com"),
            (["-t", "ed25519"], "ctr128 phrase", "aes128-ctr"),
        ] as [([String], String, String?)])
    func readsSSHKeygenKeys(type: [String], passphrase: String, cipher: String?) throws {
        let (privateKey, publicKey) = try makeKey(type, passphrase: passphrase, cipher: cipher)
        #expect(try OpenSSHKeyFile.isProtected(privateKey) == !passphrase.isEmpty)
        let key = try OpenSSHKeyFile.read(privateKey, passphrase: passphrase.isEmpty ? nil : passphrase)
        #expect(key.publicKeyLine == publicKey.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(key.comment == "tester@example")
        // Written back unprotected, it reads again as the same key.
        let rewritten = try OpenSSHKeyFile.read(OpenSSHKeyFile.write(key), passphrase: nil)
        #expect(rewritten.publicKeyLine == key.publicKeyLine)
    }

    @Test("A wrong or missing passphrase is named as such")
    func wrongPassphrase() throws {
        let (privateKey, _) = try makeKey(["-t", "ed25519"], passphrase: "right one")
        #expect(throws: SSHKeyError.wrongPassphrase) { try OpenSSHKeyFile.read(privateKey, passphrase: "wrong one") }
        #expect(throws: SSHKeyError.passphraseRequired) { try OpenSSHKeyFile.read(privateKey, passphrase: nil) }
    }

    @Test("Coffer's keys are read by ssh-keygen, and their fingerprint is ssh-keygen's")
    func generatedKeyMatchesSSHKeygen() throws {
        let key = SSHPrivateKey.generateEd25519(comment: "made by coffer")
        let file = directory.appendingPathComponent("generated")
        try OpenSSHKeyFile.write(key).write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let derived = try Program.run("/usr/bin/ssh-keygen", ["-y", "-f", file.path])
        #expect(derived.status == 0, "\(derived.output)")
        #expect(derived.output.trimmingCharacters(in: .whitespacesAndNewlines) == key.publicKeyLine)
        let fingerprint = try Program.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", file.path])
        #expect(fingerprint.output.contains(key.fingerprint))
    }

    @Test("Truncated, altered and foreign files give a clear error, never a crash")
    func badFiles() throws {
        let (privateKey, _) = try makeKey(["-t", "ed25519"], passphrase: "")
        let lines = privateKey.split(separator: "\n").map(String.init)
        let body = Data(base64Encoded: lines.dropFirst().dropLast().joined())!
        func file(_ bytes: Data) -> String {
            "\(lines.first!)\n\(bytes.base64EncodedString(options: .lineLength64Characters))\n\(lines.last!)\n"
        }
        for length in stride(from: 0, to: body.count, by: 7) {
            #expect(throws: SSHKeyError.self) { try OpenSSHKeyFile.read(file(body.prefix(length)), passphrase: nil) }
        }
        // Every length field set to a huge value.
        var huge = body
        for offset in [15, 19, 27] where offset + 4 <= huge.count {
            huge.replaceSubrange(offset..<offset + 4, with: [0xFF, 0xFF, 0xFF, 0xF0])
            #expect(throws: SSHKeyError.self) { try OpenSSHKeyFile.read(file(huge), passphrase: nil) }
        }
        var flipped = body
        flipped[flipped.count - 70] ^= 0x55  // inside the Ed25519 seed
        #expect(throws: SSHKeyError.self) { try OpenSSHKeyFile.read(file(flipped), passphrase: nil) }
        #expect(throws: SSHKeyError.notAKey) { try OpenSSHKeyFile.read("hello", passphrase: nil) }
        #expect(throws: SSHKeyError.self) {
            try OpenSSHKeyFile.read(lines.dropLast().joined(separator: "\n"), passphrase: nil)
        }
        let pem = try Program.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519"]).output
        #expect {
            try OpenSSHKeyFile.read(pem, passphrase: nil)
        } throws: { error in
            "\(error)".contains("PKCS#8") && "\(error)".contains("ssh-keygen -p")
        }
        let publicLine = try makeKey(["-t", "ed25519"], passphrase: "").publicKey
        #expect { try OpenSSHKeyFile.read(publicLine, passphrase: nil) } throws: { "\($0)".contains("public key") }
    }

    @Test("RSA signs with SHA-2 as asked and refuses SHA-1")
    func rsaSignatureAlgorithms() throws {
        let key = try OpenSSHKeyFile.read(
            try makeKey(["-t", "rsa", "-b", "2048"], passphrase: "").privateKey, passphrase: nil)
        #expect(try key.sign([1, 2, 3], flags: 0) == nil)
        let sha256 = try #require(try key.sign([1, 2, 3], flags: SSHPrivateKey.rsaSHA256Flag))
        let sha512 = try #require(try key.sign([1, 2, 3], flags: SSHPrivateKey.rsaSHA512Flag))
        #expect(String(decoding: sha256[4..<16], as: UTF8.self) == "rsa-sha2-256")
        #expect(String(decoding: sha512[4..<16], as: UTF8.self) == "rsa-sha2-512")
    }

    @Test("A hostile passphrase derivation asking for millions of rounds is refused before any work")
    func hugeRounds() throws {
        let (privateKey, _) = try makeKey(["-t", "ed25519"], passphrase: "phrase")
        let lines = privateKey.split(separator: "\n").map(String.init)
        var body = Data(base64Encoded: lines.dropFirst().dropLast().joined())!
        // magic(15) + "aes256-ctr"(4+10) + "bcrypt"(4+6) + kdfoptions length(4) + salt(4+16) → rounds.
        let rounds = 15 + 14 + 10 + 4 + 20
        body.replaceSubrange(rounds..<rounds + 4, with: [0x7F, 0xFF, 0xFF, 0xFF])
        let altered = "\(lines.first!)\n\(body.base64EncodedString(options: .lineLength64Characters))\n\(lines.last!)\n"
        #expect { try OpenSSHKeyFile.read(altered, passphrase: "phrase") } throws: { "\($0)".contains("rounds") }
    }
}
