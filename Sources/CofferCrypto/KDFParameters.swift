/// Argon2id cost parameters, stored beside the salt so any device can re-derive the master key.
public struct KDFParameters: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Memory cost in KiB.
    public var memoryKiB: UInt32
    /// Number of passes.
    public var iterations: UInt32
    /// Lanes.
    public var parallelism: UInt32

    /// Creates parameters; use `validated()` before deriving from anything a server sent.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// What new vaults use: m = 64 MiB, t = 3, p = 4 (security.md).
    public static let `default` = KDFParameters(memoryKiB: 64 * 1024, iterations: 3, parallelism: 4)

    /// OWASP's floor, m = 19 MiB, t = 2, p = 1: anything weaker is refused whoever asks for it.
    public static let minimum = KDFParameters(memoryKiB: 19 * 1024, iterations: 2, parallelism: 1)

    /// The largest memory cost accepted (4 GiB), so a hostile value cannot exhaust the device.
    public static let maximumMemoryKiB: UInt32 = 4 * 1024 * 1024

    /// Whether these parameters cost at least as much as `other` in every dimension.
    public func isAtLeast(_ other: KDFParameters) -> Bool {
        memoryKiB >= other.memoryKiB && iterations >= other.iterations
    }

    /// Returns the parameters if they are within the accepted range, otherwise throws.
    public func validated() throws(CofferCryptoError) -> KDFParameters {
        guard isAtLeast(.minimum), parallelism >= 1, parallelism <= 64, memoryKiB <= Self.maximumMemoryKiB,
            iterations <= 64, memoryKiB >= 8 * parallelism
        else { throw .weakKDFParameters(self) }
        return self
    }

    /// The parameters in Argon2 notation.
    public var description: String { "m=\(memoryKiB) KiB, t=\(iterations), p=\(parallelism)" }

    /// A canonical byte encoding, bound into the associated data of the password wrap.
    public var canonicalBytes: [UInt8] {
        [memoryKiB, iterations, parallelism].flatMap { value in
            withUnsafeBytes(of: value.bigEndian) { Array($0) }
        }
    }
}
