import CofferCrypto
import Crypto
import CryptoExtras
public import Foundation

/// Bitwarden's password-protected JSON export: the unencrypted export's JSON, encrypted under a key
/// derived from a password the user chose when exporting.
///
/// Key: PBKDF2-SHA256 (kdfType 0) over the password with the `salt` *string's* UTF-8 bytes, or
/// Argon2id (kdfType 1) with SHA-256 of them as the salt and `kdfMemory` in MiB; then HKDF-Expand
/// (SHA-256, no extract) with info "enc" and "mac" into two 32-byte keys. Each value is an
/// "EncString" of type 2: `2.IV|ciphertext|MAC`, AES-256-CBC with PKCS#7 and HMAC-SHA256 over
/// IV‖ciphertext. `encKeyValidation_DO_NOT_EDIT` is such a value and tells a wrong password apart
/// from a damaged file. Every KDF parameter is range-checked (Bitwarden's own limits) before work.
public enum BitwardenProtectedExport {
    private struct Header: Decodable {
        var encrypted: Bool?
        var passwordProtected: Bool?
        var salt: String?
        var kdfType: Int?
        var kdfIterations: Int?
        var kdfMemory: Int?
        var kdfParallelism: Int?
        var keyValidation: String?
        var data: String?

        enum CodingKeys: String, CodingKey {
            case encrypted, passwordProtected, salt, kdfType, kdfIterations, kdfMemory, kdfParallelism, data
            case keyValidation = "encKeyValidation_DO_NOT_EDIT"
        }
    }

    /// Whether `data` is a password-protected Bitwarden export (and so needs a password).
    public static func isProtected(_ data: Data) -> Bool {
        guard data.first(where: { !$0.isWhitespace }) == UInt8(ascii: "{"),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { return false }
        return header.encrypted == true && header.passwordProtected == true
    }

    /// The export's plain JSON, opened with `password`.
    public static func decrypt(_ data: Data, file: String, password: String) throws(ImportError) -> Data {
        guard let header = try? JSONDecoder().decode(Header.self, from: data), let salt = header.salt,
            let validation = header.keyValidation, let payload = header.data
        else { throw .malformed(file: file, line: nil, field: nil, reason: "its encryption header is incomplete") }
        let key = try deriveKey(header, salt: salt, password: password, file: file)
        let encryptionKey = HKDF<SHA256>.expand(pseudoRandomKey: key, info: Data("enc".utf8), outputByteCount: 32)
        let macKey = HKDF<SHA256>.expand(pseudoRandomKey: key, info: Data("mac".utf8), outputByteCount: 32)
        guard (try? open(validation, encryptionKey: encryptionKey, macKey: macKey, file: file)) != nil else {
            _ = try EncString(validation, file: file)
            throw .wrongSecret(
                file: file,
                reason: "that password does not open it (it is the password chosen when exporting from Bitwarden)")
        }
        return try open(payload, encryptionKey: encryptionKey, macKey: macKey, file: file)
    }

    private static func deriveKey(_ header: Header, salt: String, password: String, file: String)
        throws(ImportError) -> SymmetricKey
    {
        let iterations = header.kdfIterations ?? 0
        switch header.kdfType ?? -1 {
        case 0:
            guard (5_000...2_000_000).contains(iterations) else {
                throw .malformed(
                    file: file, line: nil, field: "kdfIterations",
                    reason: "\(iterations) PBKDF2 iterations is outside what Bitwarden writes (5,000 to 2,000,000)")
            }
            do {
                return try KDF.Insecure.PBKDF2.deriveKey(
                    from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256, outputByteCount: 32,
                    unsafeUncheckedRounds: iterations)
            } catch {
                throw .malformed(file: file, line: nil, field: "kdfIterations", reason: "PBKDF2 refused its settings")
            }
        case 1:
            let memory = header.kdfMemory ?? 0
            let parallelism = header.kdfParallelism ?? 0
            guard (1...10).contains(iterations), (15...1024).contains(memory), (1...16).contains(parallelism) else {
                throw .malformed(
                    file: file, line: nil, field: "kdfMemory",
                    reason:
                        "its Argon2id settings (\(iterations) iterations, \(memory) MiB, \(parallelism) lanes) are outside what Bitwarden writes"
                )
            }
            do {
                let bytes = try Argon2.hash(
                    .id, password: Array(password.utf8), salt: Array(SHA256.hash(data: Array(salt.utf8))),
                    memoryKiB: UInt32(memory * 1024), iterations: UInt32(iterations), lanes: UInt32(parallelism),
                    outputLength: 32)
                return SymmetricKey(data: bytes)
            } catch {
                throw .malformed(file: file, line: nil, field: "kdfMemory", reason: "Argon2id refused its settings")
            }
        case let other:
            throw .unsupported(
                file: file, reason: "its key derivation (kdfType \(other)) is not one Bitwarden documents")
        }
    }

    /// A type-2 EncString: `2.IV|ciphertext|MAC`, each base64.
    private struct EncString {
        let iv: [UInt8]
        let ciphertext: [UInt8]
        let mac: [UInt8]

        init(_ text: String, file: String) throws(ImportError) {
            let parts = text.hasPrefix("2.") ? text.dropFirst(2).split(separator: "|").map(String.init) : []
            guard parts.count == 3, let iv = Data(base64Encoded: parts[0]), iv.count == 16,
                let ciphertext = Data(base64Encoded: parts[1]), !ciphertext.isEmpty, ciphertext.count % 16 == 0,
                let mac = Data(base64Encoded: parts[2]), mac.count == 32
            else {
                throw .malformed(
                    file: file, line: nil, field: nil,
                    reason: "an encrypted value is not Bitwarden's AES-CBC + HMAC form")
            }
            self.iv = Array(iv)
            self.ciphertext = Array(ciphertext)
            self.mac = Array(mac)
        }
    }

    private static func open(_ text: String, encryptionKey: SymmetricKey, macKey: SymmetricKey, file: String)
        throws(ImportError) -> Data
    {
        let value = try EncString(text, file: file)
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                value.mac, authenticating: value.iv + value.ciphertext, using: macKey)
        else {
            throw .wrongSecret(
                file: file, reason: "an encrypted value does not verify (wrong password or a damaged file)")
        }
        do {
            return try AES._CBC.decrypt(value.ciphertext, using: encryptionKey, iv: AES._CBC.IV(ivBytes: value.iv))
        } catch {
            throw .malformed(file: file, line: nil, field: nil, reason: "an encrypted value does not decrypt")
        }
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}
