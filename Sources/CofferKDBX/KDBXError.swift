/// Why a KeePass database could not be opened or written. Each case says what the user can do.
public enum KDBXError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a KeePass database at all.
    case notKeePass
    /// A KeePass database in a version Coffer does not read (KDBX 1.x–2.x, or a future major version).
    case unsupportedVersion(major: UInt16, minor: UInt16)
    /// An outer cipher other than AES-256 and ChaCha20 (for example Twofish, a KeePassXC option).
    case unsupportedCipher(String)
    /// A key-derivation function other than Argon2d, Argon2id and AES-KDF.
    case unsupportedKeyDerivation(String)
    /// An inner stream cipher other than Salsa20 (KDBX 3.1) and ChaCha20.
    case unsupportedInnerStream(UInt32)
    /// The password or key file is wrong (the header's HMAC does not verify).
    case wrongKey
    /// The file is damaged; `reason` says where.
    case damaged(String)
    /// Key-derivation settings that would take unreasonable memory or time.
    case unreasonableSettings(String)
    /// The key file cannot be read.
    case unreadableKeyFile(String)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .notKeePass:
            "it is not a KeePass database (no KDBX signature)"
        case .unsupportedVersion(let major, let minor) where major < 4:
            "it is a KDBX \(major).\(minor) database; Coffer reads KDBX 3.1 and 4. Open it in KeePassXC and save it as KDBX 4 (Database → Database Settings → Security → Encryption Settings → Database format: KDBX 4), or export it as XML"
        case .unsupportedVersion(let major, let minor):
            "it is a KDBX \(major).\(minor) database, newer than the KDBX 4 Coffer reads; export it from KeePassXC as CSV instead"
        case .unsupportedCipher(let name):
            "it is encrypted with \(name), which Coffer does not read; in KeePassXC switch the encryption algorithm to AES-256 or ChaCha20 (Database Settings → Security), save, and import again"
        case .unsupportedKeyDerivation(let name):
            "its key derivation (\(name)) is not one Coffer reads (Argon2d, Argon2id, AES-KDF); change it in KeePassXC's Database Settings → Security and import again"
        case .unsupportedInnerStream(let id):
            "its protected fields use inner stream cipher \(id); Coffer reads Salsa20 (id 2) and ChaCha20 (id 3) — save it again in KeePassXC"
        case .wrongKey:
            // Nothing in a KDBX file says a hardware key is part of its key, so the message names that case too.
            "the password or key file does not open it; check both (a database made with a key file needs --key-file). If the database also needs a YubiKey or other hardware key (challenge-response), Coffer cannot open it: in KeePassXC remove the hardware key (Database Settings → Security) or export the database as XML, then import that"
        case .damaged(let reason):
            "the database is damaged: \(reason)"
        case .unreasonableSettings(let reason):
            "its key derivation settings are out of range (\(reason)); lower them in KeePassXC and import again"
        case .unreadableKeyFile(let path):
            "the key file \(path) cannot be read"
        }
    }
}
