/// Why an SSH private key could not be read, written or used. Each case says what to do.
public enum SSHKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not an OpenSSH private key but another format Coffer recognises, and how to convert it.
    case otherFormat(name: String, advice: String)
    /// Not a key file at all.
    case notAKey
    /// The file is damaged; the reason says where.
    case malformed(String)
    /// A key type Coffer cannot hold or sign with.
    case unsupportedKeyType(String)
    /// A cipher for the key's passphrase Coffer does not read.
    case unsupportedCipher(String)
    /// The key is protected and no passphrase was given.
    case passphraseRequired
    /// The passphrase does not open the key.
    case wrongPassphrase
    /// The file holds more than one key.
    case severalKeys(Int)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .otherFormat(let name, let advice):
            "This is \(name), not a private key in OpenSSH format. \(advice)"
        case .notAKey:
            "This is not an OpenSSH private key (it should start with -----BEGIN OPENSSH PRIVATE KEY-----). Give the private key file, not the .pub file."
        case .malformed(let reason):
            "The private key is damaged: \(reason). Export it again from where it came from."
        case .unsupportedKeyType("sk-ssh-ed25519@openssh.com"),
            .unsupportedKeyType("sk-ecdsa-sha2-nistp256@openssh.com"):
            "This key lives on a security key (FIDO); its private half never leaves the device, so a vault cannot hold it. Keep using it with ssh directly."
        case .unsupportedKeyType(let type):
            "Coffer holds Ed25519, ECDSA P-256 and RSA keys; this one is \(type). Make a new key with `coffer add ssh-key --generate`."
        case .unsupportedCipher(let cipher):
            "The key's passphrase protection uses \(cipher), which Coffer does not read. Re-protect a copy with `ssh-keygen -p -Z aes256-ctr -f COPY` and add that."
        case .passphraseRequired:
            "The private key is protected by a passphrase; give it when asked (or on standard input with --password-stdin)."
        case .wrongPassphrase:
            "The passphrase does not open this private key. Check it and try again."
        case .severalKeys(let count):
            "The file holds \(count) keys; Coffer adds one key per item. Split it with ssh-keygen first."
        }
    }
}
