/// Everything that can go wrong while deriving, sealing or opening, phrased for the person who has to act on it.
public enum CofferCryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The key does not match the box: a wrong password, PIN or recovery code, or a box that belongs elsewhere.
    case wrongKey
    /// The key matches but the content or its associated data changed: the data was tampered with or corrupted.
    case tampered
    /// The box is too short or structurally broken.
    case malformed(String)
    /// The box was written by a format version this build does not read.
    case unsupportedVersion(UInt8)
    /// Argon2id parameters are below the floor Coffer accepts from anyone.
    case weakKDFParameters(KDFParameters)
    /// libargon2 reported an error.
    case argon2Failed(String)
    /// A recovery code that does not parse or whose checksum fails.
    case invalidRecoveryCode(String)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .wrongKey:
            return "The key does not open this data: check the password, PIN or recovery code and try again."
        case .tampered:
            return "Encrypted data failed its integrity check: it was modified or corrupted after it was written."
        case .malformed(let what):
            return "Encrypted data is malformed (\(what)): it was truncated or corrupted."
        case .unsupportedVersion(let version):
            return
                "Encrypted data uses format version \(version), which this version of Coffer cannot read: update Coffer."
        case .weakKDFParameters(let parameters):
            return "Refusing key-derivation parameters \(parameters) below the minimum of \(KDFParameters.minimum)."
        case .argon2Failed(let reason):
            return "Argon2id key derivation failed: \(reason)."
        case .invalidRecoveryCode(let reason):
            return "That recovery code is not valid: \(reason). Copy it again from your recovery kit."
        }
    }
}
