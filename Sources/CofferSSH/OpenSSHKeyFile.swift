import Crypto
import CryptoExtras
import Foundation

/// The `openssh-key-v1` private key file that ssh-keygen writes (OpenSSH's PROTOCOL.key).
///
/// Coffer reads it unprotected or protected with bcrypt-pbkdf and AES (CTR or GCM, ssh-keygen's
/// choices), and writes it unprotected: inside a vault the item's sealing protects the key, and a
/// second passphrase would have to be typed for every signature.
public enum OpenSSHKeyFile {
    private static let magic = Array("openssh-key-v1\0".utf8)
    private static let beginLine = "-----BEGIN OPENSSH PRIVATE KEY-----"
    private static let endLine = "-----END OPENSSH PRIVATE KEY-----"
    /// Far more than any real key file (an RSA-16384 key is about 13 KB).
    public static let maximumFileSize = 64 * 1024

    /// Whether the key file needs a passphrase; an error if it is no OpenSSH private key.
    public static func isProtected(_ text: String) throws(SSHKeyError) -> Bool {
        try envelope(of: text).cipher != "none"
    }

    /// Reads the single key in `text`, opening it with `passphrase` when it is protected.
    public static func read(_ text: String, passphrase: String?) throws(SSHKeyError) -> SSHPrivateKey {
        let file = try envelope(of: text)
        let plain = try decrypt(file, passphrase: passphrase)
        var reader = SSHReader(plain)
        do {
            let first = try reader.uint32()
            let second = try reader.uint32()
            guard first == second else {
                throw file.cipher == "none" ? SSHKeyError.malformed("its check numbers differ") : .wrongPassphrase
            }
            let material = try SSHPrivateKey.readPrivateFields(type: try reader.text(), from: &reader)
            let comment = (try? reader.text()) ?? ""
            let padding = reader.remaining
            guard padding.count < 256, padding.enumerated().allSatisfy({ $0.element == UInt8($0.offset + 1) }) else {
                throw SSHKeyError.malformed("its padding is wrong")
            }
            let key = SSHPrivateKey(material: material, comment: comment)
            guard key.publicKeyBlob == file.publicKey else {
                throw SSHKeyError.malformed("its public key does not belong to its private key")
            }
            return key
        } catch let error as SSHKeyError {
            throw error
        } catch {
            throw file.cipher == "none" ? .malformed("its private key ends early") : .wrongPassphrase
        }
    }

    /// The key as an unprotected OpenSSH private key file.
    public static func write(_ key: SSHPrivateKey) -> String {
        var list = SSHWriter()
        let check = UInt32.random(in: .min ... .max)
        list.uint32(check)
        list.uint32(check)
        key.writePrivateFields(to: &list)
        list.string(key.comment)
        var padding: UInt8 = 1
        while list.bytes.count % 8 != 0 {
            list.byte(padding)
            padding += 1
        }
        var file = SSHWriter()
        file.raw(magic)
        file.string("none")
        file.string("none")
        file.string([UInt8]())
        file.uint32(1)
        file.string(key.publicKeyBlob)
        file.string(list.bytes)
        let body = Data(file.bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "\(beginLine)\n\(body)\n\(endLine)\n"
    }

    private struct Envelope {
        var cipher: String
        var kdf: String
        var kdfOptions: [UInt8]
        var publicKey: [UInt8]
        var encrypted: [UInt8]
        var trailer: [UInt8]
    }

    private static func envelope(of text: String) throws(SSHKeyError) -> Envelope {
        guard text.utf8.count <= maximumFileSize else {
            throw .malformed("the file is \(text.utf8.count) bytes long, larger than any key file")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: beginLine) else { throw otherFormat(of: text) }
        guard let end = lines[begin...].firstIndex(of: endLine) else {
            throw .malformed("its \(endLine) line is missing; the file is cut off")
        }
        guard let decoded = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw .malformed("its text between the BEGIN and END lines is not base64")
        }
        var reader = SSHReader(Array(decoded))
        do {
            guard try reader.take(magic.count) == magic else {
                throw SSHKeyError.malformed("it lacks the openssh-key-v1 mark")
            }
            let cipher = try reader.text()
            let kdf = try reader.text()
            let kdfOptions = try reader.string()
            let count = try reader.uint32()
            guard count == 1 else {
                throw count == 0 ? SSHKeyError.malformed("it holds no key") : .severalKeys(Int(count))
            }
            let publicKey = try reader.string()
            let encrypted = try reader.string()
            return Envelope(
                cipher: cipher, kdf: kdf, kdfOptions: kdfOptions, publicKey: publicKey, encrypted: encrypted,
                trailer: reader.remaining)
        } catch let error as SSHKeyError {
            throw error
        } catch {
            throw .malformed("it ends early")
        }
    }

    /// The ciphers ssh-keygen offers for key files that Coffer reads: key and IV lengths.
    private static let ciphers: [String: (keyLength: Int, ivLength: Int)] = [
        "aes128-ctr": (16, 16), "aes192-ctr": (24, 16), "aes256-ctr": (32, 16),
        "aes128-gcm@openssh.com": (16, 12), "aes256-gcm@openssh.com": (32, 12),
    ]

    private static func decrypt(_ file: Envelope, passphrase: String?) throws(SSHKeyError) -> [UInt8] {
        if file.cipher == "none" {
            guard file.kdf == "none" else { throw .malformed("it names a passphrase derivation but no cipher") }
            return file.encrypted
        }
        guard let lengths = ciphers[file.cipher] else { throw .unsupportedCipher(file.cipher) }
        guard file.kdf == "bcrypt" else { throw .unsupportedCipher("the key derivation \(file.kdf)") }
        guard let passphrase, !passphrase.isEmpty else { throw .passphraseRequired }
        var options = SSHReader(file.kdfOptions)
        guard let salt = try? options.string(), let rounds = try? options.uint32() else {
            throw .malformed("its passphrase settings end early")
        }
        guard file.encrypted.count % 16 == 0 else { throw .malformed("its encrypted part is not whole blocks") }
        let derived = try BcryptPBKDF.derive(
            password: Array(passphrase.utf8), salt: salt, rounds: rounds,
            keyLength: lengths.keyLength + lengths.ivLength)
        let key = SymmetricKey(data: derived[..<lengths.keyLength])
        let iv = derived[lengths.keyLength...]
        do {
            if file.cipher.hasSuffix("-gcm@openssh.com") {
                guard file.trailer.count >= 16 else { throw SSHKeyError.malformed("its authentication tag is missing") }
                let box = try AES.GCM.SealedBox(
                    nonce: AES.GCM.Nonce(data: iv), ciphertext: file.encrypted, tag: file.trailer.prefix(16))
                return Array(try AES.GCM.open(box, using: key))
            }
            return Array(try AES._CTR.decrypt(file.encrypted, using: key, nonce: AES._CTR.Nonce(nonceBytes: iv)))
        } catch let error as SSHKeyError {
            throw error
        } catch {
            throw .wrongPassphrase
        }
    }

    /// Names other key formats people paste, and how to turn them into one Coffer reads.
    private static func otherFormat(of text: String) -> SSHKeyError {
        let start = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let convert = "Convert a copy first: `cp KEY COPY && ssh-keygen -p -f COPY` rewrites it in OpenSSH format."
        let publicKey = "Give the private key file (the one without .pub)."
        let formats: [(prefix: String, name: String, advice: String)] = [
            ("-----BEGIN RSA PRIVATE KEY-----", "an RSA key in PEM (PKCS#1) format", convert),
            ("-----BEGIN EC PRIVATE KEY-----", "an EC key in PEM format", convert),
            ("-----BEGIN DSA PRIVATE KEY-----", "a DSA key in PEM format", convert),
            ("-----BEGIN PRIVATE KEY-----", "a key in PKCS#8 format", convert),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----", "a protected key in PKCS#8 format", convert),
            ("PuTTY-User-Key-File", "a PuTTY key", "Convert it: `puttygen KEY -O private-openssh-new -o COPY`."),
            ("ssh-", "a public key", publicKey),
            ("ecdsa-sha2-", "a public key", publicKey),
        ]
        guard let format = formats.first(where: { start.hasPrefix($0.prefix) }) else { return .notAKey }
        return .otherFormat(name: format.name, advice: format.advice)
    }
}
