import CArgon2
import Crypto

/// Argon2id (RFC 9106) through the reference implementation, libargon2.
public enum Argon2id {
    /// Derives the master key from a password and the account's salt.
    ///
    /// Parameters are validated first, so a server cannot talk a client into a cheap derivation.
    public static func deriveMasterKey(
        password: String, salt: [UInt8], parameters: KDFParameters
    ) throws(CofferCryptoError) -> MasterKey {
        let parameters = try parameters.validated()
        let bytes = try hash(
            password: Array(password.utf8), salt: salt, parameters: parameters, outputLength: 32)
        return MasterKey(SymmetricKey(data: bytes))
    }

    /// The raw Argon2id function, with the optional secret and associated data of RFC 9106.
    ///
    /// Exposed for the test vectors and for PIN wrapping; vault code calls `deriveMasterKey`.
    public static func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [],
        parameters: KDFParameters, outputLength: Int
    ) throws(CofferCryptoError) -> [UInt8] {
        try Argon2.hash(
            .id, password: password, salt: salt, secret: secret, associatedData: associatedData,
            memoryKiB: parameters.memoryKiB, iterations: parameters.iterations, lanes: parameters.parallelism,
            outputLength: outputLength)
    }
}

/// Argon2 in both variants KeePass uses, through libargon2. Coffer's own keys use Argon2id only;
/// Argon2d is here because KeePassXC writes it by default and its databases must open.
public enum Argon2 {
    /// Which Argon2: `d` (data-dependent, KeePass's historical default) or `id` (RFC 9106's choice).
    public enum Variant: Sendable {
        case d, id
    }

    /// Runs Argon2; `version` is 0x13 (1.3) unless an old file asks for 0x10.
    public static func hash(
        _ variant: Variant, password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [],
        memoryKiB: UInt32, iterations: UInt32, lanes: UInt32, version: UInt32 = 0x13, outputLength: Int
    ) throws(CofferCryptoError) -> [UInt8] {
        guard salt.count >= 8 else { throw .argon2Failed("the salt must be at least 8 bytes") }
        var output = [UInt8](repeating: 0, count: outputLength)
        var password = password
        var salt = salt
        var secret = secret
        var associatedData = associatedData
        defer {
            password.withUnsafeMutableBytes { zero($0) }
            secret.withUnsafeMutableBytes { zero($0) }
        }
        let status: Int32 = output.withUnsafeMutableBufferPointer { out in
            password.withUnsafeMutableBufferPointer { pwd in
                salt.withUnsafeMutableBufferPointer { saltBuffer in
                    secret.withUnsafeMutableBufferPointer { secretBuffer in
                        associatedData.withUnsafeMutableBufferPointer { adBuffer in
                            var context = argon2_context(
                                out: out.baseAddress, outlen: UInt32(out.count),
                                pwd: pwd.baseAddress, pwdlen: UInt32(pwd.count),
                                salt: saltBuffer.baseAddress, saltlen: UInt32(saltBuffer.count),
                                secret: secretBuffer.baseAddress, secretlen: UInt32(secretBuffer.count),
                                ad: adBuffer.baseAddress, adlen: UInt32(adBuffer.count),
                                t_cost: iterations, m_cost: memoryKiB,
                                lanes: lanes, threads: min(lanes, 8),  // threads never change the result
                                version: version,
                                allocate_cbk: nil, free_cbk: nil,
                                flags: 0)
                            return argon2_ctx(&context, variant == .d ? Argon2_d : Argon2_id)
                        }
                    }
                }
            }
        }
        guard status == ARGON2_OK.rawValue else {
            throw .argon2Failed(String(cString: argon2_error_message(status)))
        }
        return output
    }

    private static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        memset(base, 0, buffer.count)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
