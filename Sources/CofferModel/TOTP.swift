import Crypto
public import Foundation

/// A time-based one-time password generator (RFC 6238), as configured by an otpauth:// URI or a bare secret.
public struct TOTP: Sendable, Equatable {
    /// The HMAC hash function.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"
    }

    /// The shared secret.
    public let secret: [UInt8]
    /// The HMAC hash.
    public let algorithm: Algorithm
    /// 6 or 8.
    public let digits: Int
    /// Seconds per code.
    public let period: Int
    /// The service, when the URI names it.
    public let issuer: String?
    /// The account, when the URI names it.
    public let accountName: String?

    /// Creates a generator from raw parts.
    public init(
        secret: [UInt8], algorithm: Algorithm = .sha1, digits: Int = 6, period: Int = 30,
        issuer: String? = nil, accountName: String? = nil
    ) throws(CofferModelError) {
        guard !secret.isEmpty else { throw .invalidTOTP("the secret is empty") }
        guard digits == 6 || digits == 8 else { throw .invalidTOTP("codes must have 6 or 8 digits, not \(digits)") }
        guard (1...86_400).contains(period) else { throw .invalidTOTP("the period must be 1 to 86400 seconds") }
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.issuer = issuer
        self.accountName = accountName
    }

    /// Parses an `otpauth://totp/…` URI or a bare base32 secret.
    public init(parsing text: String) throws(CofferModelError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.lowercased().hasPrefix("otpauth://") else {
            try self.init(secret: Self.base32Decode(trimmed))
            return
        }
        guard let components = URLComponents(string: trimmed) else {
            throw .invalidTOTP("the otpauth:// link is malformed")
        }
        guard components.host?.lowercased() == "totp" else {
            throw .invalidTOTP("only time-based (totp) links are supported, not '\(components.host ?? "")'")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name.lowercased()] = item.value ?? "" }
        guard let secretText = query["secret"] else { throw .invalidTOTP("the link has no secret") }
        let algorithmName = (query["algorithm"] ?? "SHA1").uppercased()
        guard let algorithm = Algorithm(rawValue: algorithmName) else {
            throw .invalidTOTP("unknown algorithm '\(algorithmName)'")
        }
        guard let digits = Int(query["digits"] ?? "6") else { throw .invalidTOTP("'digits' is not a number") }
        guard let period = Int(query["period"] ?? "30") else { throw .invalidTOTP("'period' is not a number") }
        let label = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let parts = label.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        let issuer = query["issuer"] ?? (parts.count == 2 ? parts[0] : nil)
        let account = parts.last.flatMap { $0.isEmpty ? nil : $0 }
        try self.init(
            secret: Self.base32Decode(secretText), algorithm: algorithm, digits: digits, period: period,
            issuer: issuer, accountName: account)
    }

    /// The code valid at `date`.
    public func code(at date: Date) -> String {
        let counter = UInt64(max(0, date.timeIntervalSince1970) / Double(period))
        return code(counter: counter)
    }

    /// Seconds until the code valid at `date` changes.
    public func secondsRemaining(at date: Date) -> Int {
        period - Int(max(0, date.timeIntervalSince1970).rounded(.down)) % period
    }

    /// The HOTP value (RFC 4226) for a counter.
    public func code(counter: UInt64) -> String {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8] =
            switch algorithm {
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
            }
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let truncated =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(truncated % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// Decodes RFC 4648 base32, ignoring case, spaces, dashes and padding.
    public static func base32Decode(_ text: String) throws(CofferModelError) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased() where !" -=\t".contains(character) {
            guard let index = alphabet.firstIndex(of: character) else {
                throw .invalidTOTP("'\(character)' is not a base32 character")
            }
            buffer = (buffer << 5) | UInt32(index)
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        guard !bytes.isEmpty else { throw .invalidTOTP("the secret is empty") }
        return bytes
    }
}
