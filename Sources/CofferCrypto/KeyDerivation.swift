import Crypto
public import Foundation

/// The HKDF labels of security.md; each derived key has exactly one.
public enum HKDFLabel: String, Sendable, CaseIterable {
    case auth = "coffer/v1/auth"
    case wrap = "coffer/v1/wrap"
    case recoveryWrap = "coffer/v1/recovery-wrap"
    case recoveryAuth = "coffer/v1/recovery-auth"
    case backup = "coffer/v1/backup"
    case manifest = "coffer/v1/manifest"
    case digest = "coffer/v2/digest"
}

/// HKDF-SHA256 with an empty salt, the way every Coffer sub-key is derived.
enum HKDFExpansion {
    static func derive<Role: KeyRole>(
        from input: SymmetricKey, label: HKDFLabel, context: [UInt8] = [], as _: Role.Type = Role.self
    ) -> CofferKey<Role> {
        var info = Array(label.rawValue.utf8)
        info.append(contentsOf: context)
        return CofferKey(expand(inputKeyMaterial: input, salt: [], info: info, outputByteCount: 32))
    }

    /// RFC 5869 HKDF-SHA256; the one place Coffer calls it, so the RFC vectors test exactly this.
    static func expand(
        inputKeyMaterial: SymmetricKey, salt: [UInt8], info: [UInt8], outputByteCount: Int
    ) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: inputKeyMaterial, salt: salt, info: info, outputByteCount: outputByteCount)
    }
}

extension CofferKey where Role == MasterKeyRole {
    /// The key that proves the password to a server.
    public func authKey() -> AuthKey { HKDFExpansion.derive(from: symmetricKey, label: .auth) }
    /// The key that wraps the account key under the password.
    public func passwordWrapKey() -> PasswordWrapKey { HKDFExpansion.derive(from: symmetricKey, label: .wrap) }
}

extension CofferKey where Role == AccountKeyRole {
    /// The key that authenticates the vault manifest.
    public func manifestKey() -> ManifestKey { HKDFExpansion.derive(from: symmetricKey, label: .manifest) }
    /// The key that turns record versions into digest elements (`SetDigest`); never used for anything else.
    public func digestKey() -> DigestKey { HKDFExpansion.derive(from: symmetricKey, label: .digest) }
    /// The key that seals one backup, bound to its identifier.
    public func backupKey(backupID: UUID) -> BackupKey {
        HKDFExpansion.derive(from: symmetricKey, label: .backup, context: backupID.bytes)
    }
}

extension CofferKey where Role == AuthKeyRole {
    /// The SHA-256 verifier a server stores instead of the key itself.
    public func verifier() -> [UInt8] { withUnsafeBytes { Array(SHA256.hash(data: $0)) } }
}

extension UUID {
    /// The 16 bytes of the identifier, for binding into associated data.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }
}
