public import Crypto
public import Foundation

/// A marker for what a 256-bit key is for, so keys of different roles cannot be mixed up at compile time.
public protocol KeyRole: Sendable {}

/// A role whose keys may seal and open boxes.
public protocol SealingKeyRole: KeyRole {}

/// The Argon2id output; only ever expanded with HKDF, never used directly.
public enum MasterKeyRole: KeyRole {}
/// Proves knowledge of the password to the server; never used to encrypt.
public enum AuthKeyRole: KeyRole {}
/// Wraps the account key under the master password.
public enum PasswordWrapKeyRole: SealingKeyRole {}
/// Wraps the account key under the recovery code.
public enum RecoveryWrapKeyRole: SealingKeyRole {}
/// Proves knowledge of the recovery code to the server.
public enum RecoveryAuthKeyRole: KeyRole {}
/// The random key at the root of a vault; wraps item keys and derives the manifest and backup keys.
public enum AccountKeyRole: SealingKeyRole {}
/// The random key of one item; seals only that item's content.
public enum ItemKeyRole: SealingKeyRole {}
/// Authenticates the vault manifest.
public enum ManifestKeyRole: KeyRole {}
/// Computes the keyed elements of a set digest (the manifest's commitment to record versions).
public enum DigestKeyRole: KeyRole {}
/// Seals one backup's body.
public enum BackupKeyRole: SealingKeyRole {}
/// Wraps the account key under a quick-unlock PIN, in the agent's memory only.
public enum PINWrapKeyRole: SealingKeyRole {}

/// A 256-bit symmetric key tagged with its role.
///
/// The role is a phantom type: an `ItemKey` cannot be passed where an `AccountKey` is expected.
/// The bytes live in swift-crypto's `SymmetricKey`, which zeroes them when freed.
public struct CofferKey<Role: KeyRole>: Sendable {
    /// The underlying key material.
    public let symmetricKey: SymmetricKey

    /// Wraps existing key material; it must be 32 bytes.
    public init(_ symmetricKey: SymmetricKey) {
        precondition(symmetricKey.bitCount == 256, "Coffer keys are 256-bit")
        self.symmetricKey = symmetricKey
    }

    /// Restores a key from 32 bytes, for example after unwrapping it.
    public init(bytes: some ContiguousBytes) throws(CofferCryptoError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == 256 else { throw .malformed("a key must be 32 bytes") }
        self.symmetricKey = key
    }

    /// A fresh key from the system's CSPRNG.
    public static func random() -> Self {
        Self(SymmetricKey(size: .bits256))
    }

    /// Lets the caller read the raw bytes, for wrapping; the pointer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try symmetricKey.withUnsafeBytes(body)
    }
}

/// The Argon2id output of the master password.
public typealias MasterKey = CofferKey<MasterKeyRole>
/// Sent (hashed by the server) to prove the password.
public typealias AuthKey = CofferKey<AuthKeyRole>
/// Wraps the account key under the password.
public typealias PasswordWrapKey = CofferKey<PasswordWrapKeyRole>
/// Wraps the account key under the recovery code.
public typealias RecoveryWrapKey = CofferKey<RecoveryWrapKeyRole>
/// Proves the recovery code to the server.
public typealias RecoveryAuthKey = CofferKey<RecoveryAuthKeyRole>
/// The vault's root key.
public typealias AccountKey = CofferKey<AccountKeyRole>
/// One item's key.
public typealias ItemKey = CofferKey<ItemKeyRole>
/// Authenticates the manifest.
public typealias ManifestKey = CofferKey<ManifestKeyRole>
/// Computes set-digest elements.
public typealias DigestKey = CofferKey<DigestKeyRole>
/// Seals a backup body.
public typealias BackupKey = CofferKey<BackupKeyRole>
/// Wraps the account key under a PIN.
public typealias PINWrapKey = CofferKey<PINWrapKeyRole>
