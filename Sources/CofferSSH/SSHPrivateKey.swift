import Crypto
import CryptoExtras
import Foundation

/// An SSH private key Coffer can hold and sign with: Ed25519, ECDSA on P-256 or RSA.
///
/// The key lives inside a sealed vault item as an unprotected OpenSSH file; this type exists only
/// in the memory of the process that opened the item (the agent, or `coffer add`).
public struct SSHPrivateKey: Sendable {
    /// The key algorithms Coffer holds, by their SSH names.
    public enum Algorithm: String, Sendable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case rsa = "ssh-rsa"
    }

    enum Material: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case ecdsaP256(P256.Signing.PrivateKey)
        case rsa(RSAComponents)
    }

    /// RSA keys keep their OpenSSH numbers so they can be written back unchanged.
    struct RSAComponents: Sendable {
        var n: [UInt8], e: [UInt8], d: [UInt8], iqmp: [UInt8], p: [UInt8], q: [UInt8]
        var key: _RSA.Signing.PrivateKey
    }

    let material: Material
    /// The comment stored with the key (often user@host); ssh-add shows it.
    public var comment: String

    /// Makes a new Ed25519 key, the type ssh-keygen recommends.
    public static func generateEd25519(comment: String) -> SSHPrivateKey {
        SSHPrivateKey(material: .ed25519(Curve25519.Signing.PrivateKey()), comment: comment)
    }

    /// The key's algorithm.
    public var algorithm: Algorithm {
        switch material {
        case .ed25519: .ed25519
        case .ecdsaP256: .ecdsaP256
        case .rsa: .rsa
        }
    }

    /// The public key in the SSH wire encoding: what servers list in authorized_keys and agents offer.
    public var publicKeyBlob: [UInt8] {
        var writer = SSHWriter()
        writer.string(algorithm.rawValue)
        switch material {
        case .ed25519(let key):
            writer.string(Array(key.publicKey.rawRepresentation))
        case .ecdsaP256(let key):
            writer.string("nistp256")
            writer.string(Array(key.publicKey.x963Representation))
        case .rsa(let parts):
            writer.mpint(parts.e)
            writer.mpint(parts.n)
        }
        return writer.bytes
    }

    /// The public key as one authorized_keys line, e.g. `ssh-ed25519 AAAA… comment`.
    public var publicKeyLine: String {
        let line = "\(algorithm.rawValue) \(Data(publicKeyBlob).base64EncodedString())"
        return comment.isEmpty ? line : "\(line) \(comment)"
    }

    /// The fingerprint ssh-keygen -l and ssh-add -l print, e.g. `SHA256:…`.
    public var fingerprint: String {
        let digest = Data(SHA256.hash(data: publicKeyBlob)).base64EncodedString()
        return "SHA256:" + digest.trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }

    /// What `flags` of an agent sign request ask for with an RSA key (draft-miller-ssh-agent §4.5.1).
    public static let rsaSHA256Flag: UInt32 = 2
    /// RSA with SHA-512.
    public static let rsaSHA512Flag: UInt32 = 4

    /// Signs `data` and returns the SSH signature blob (algorithm name and signature), or `nil` when
    /// `flags` ask for something this key will not do: RSA signatures with SHA-1 are refused.
    public func sign(_ data: [UInt8], flags: UInt32) throws -> [UInt8]? {
        var writer = SSHWriter()
        switch material {
        case .ed25519(let key):
            writer.string(algorithm.rawValue)
            writer.string(Array(try key.signature(for: data)))
        case .ecdsaP256(let key):
            let raw = Array(try key.signature(for: data).rawRepresentation)
            var numbers = SSHWriter()
            numbers.mpint(Array(raw[..<32]))
            numbers.mpint(Array(raw[32...]))
            writer.string(algorithm.rawValue)
            writer.string(numbers.bytes)
        case .rsa(let parts):
            let signature: _RSA.Signing.RSASignature
            if flags & Self.rsaSHA512Flag != 0 {
                signature = try parts.key.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
                writer.string("rsa-sha2-512")
            } else if flags & Self.rsaSHA256Flag != 0 {
                signature = try parts.key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                writer.string("rsa-sha2-256")
            } else {
                return nil
            }
            writer.string(Array(signature.rawRepresentation))
        }
        return writer.bytes
    }

    /// The key-specific fields of the private key, as the OpenSSH file stores them after the type name.
    func writePrivateFields(to writer: inout SSHWriter) {
        writer.string(algorithm.rawValue)
        switch material {
        case .ed25519(let key):
            let publicKey = Array(key.publicKey.rawRepresentation)
            writer.string(publicKey)
            writer.string(Array(key.rawRepresentation) + publicKey)
        case .ecdsaP256(let key):
            writer.string("nistp256")
            writer.string(Array(key.publicKey.x963Representation))
            writer.mpint(Array(key.rawRepresentation))
        case .rsa(let parts):
            for number in [parts.n, parts.e, parts.d, parts.iqmp, parts.p, parts.q] { writer.mpint(number) }
        }
    }

    /// Reads the key-specific fields that follow `type` in an OpenSSH private key list.
    static func readPrivateFields(type: String, from reader: inout SSHReader) throws(SSHKeyError) -> Material {
        do {
            switch type {
            case Algorithm.ed25519.rawValue:
                let publicKey = try reader.string()
                let privateKey = try reader.string()
                guard publicKey.count == 32, privateKey.count == 64 else {
                    throw SSHKeyError.malformed("its Ed25519 key has the wrong length")
                }
                let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey[..<32])
                guard Array(key.publicKey.rawRepresentation) == publicKey else {
                    throw SSHKeyError.malformed("its Ed25519 private and public halves do not match")
                }
                return .ed25519(key)
            case Algorithm.ecdsaP256.rawValue:
                guard try reader.text() == "nistp256" else {
                    throw SSHKeyError.malformed("its ECDSA curve is not P-256")
                }
                let point = try reader.string()
                let scalar = try reader.mpint()
                guard scalar.count <= 32 else { throw SSHKeyError.malformed("its ECDSA private number is too long") }
                let key = try P256.Signing.PrivateKey(
                    rawRepresentation: [UInt8](repeating: 0, count: 32 - scalar.count) + scalar)
                guard Array(key.publicKey.x963Representation) == point else {
                    throw SSHKeyError.malformed("its ECDSA private and public halves do not match")
                }
                return .ecdsaP256(key)
            case Algorithm.rsa.rawValue:
                let numbers = try (0..<6).map { _ throws(SSHWireError) in try reader.mpint() }
                let (n, e, d, iqmp, p, q) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
                guard n.count * 8 >= 2048 else {
                    throw SSHKeyError.unsupportedKeyType(
                        "a \(n.count * 8)-bit RSA key, too short to be safe (2048 bits or more)")
                }
                guard n.count <= 2048 else { throw SSHKeyError.unsupportedKeyType("an RSA key longer than 16384 bits") }
                let key = try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q)
                return .rsa(RSAComponents(n: n, e: e, d: d, iqmp: iqmp, p: p, q: q, key: key))
            default:
                throw SSHKeyError.unsupportedKeyType(type)
            }
        } catch let error as SSHKeyError {
            throw error
        } catch is SSHWireError {
            throw .malformed("its private key ends early")
        } catch {
            throw .malformed("its \(type) numbers do not form a valid key")
        }
    }
}
