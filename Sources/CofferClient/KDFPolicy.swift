public import CofferCrypto
import CofferStore
import CofferVault
import Foundation

/// Whether a sign-in may derive with weaker Argon2id parameters than this device expects.
public enum KDFAcceptance: Sendable {
    /// Never below what this device saw for the account, or Coffer's default for an account it never saw.
    case pinned
    /// The user said, with a flag that names the risk, that weaker parameters are theirs.
    case acceptWeaker
}

/// The rule that a server cannot talk a device into a cheaper key derivation (security.md, "KDF
/// pinning"): a server that lowers the cost gets a key it can attack offline several times faster.
public enum KDFPolicy {
    /// The lowest parameters acceptable for `email` on `server`: what this profile pinned (and its own
    /// vault header, when that vault syncs with this account), else Coffer's default.
    public static func floor(vaultFile: String, server: String, email: String) throws -> KDFParameters {
        guard FileManager.default.fileExists(atPath: vaultFile) else { return .default }
        let store = try VaultStore.open(at: vaultFile)
        var floor = try store.kdfPin(server: server, email: email)
        if let state = try store.syncState(), state.serverURL == server, state.email.lowercased() == email.lowercased()
        {
            floor = strongest(floor, try store.header().kdfParameters)
        }
        return floor ?? .default
    }

    /// Refuses `offered` when it costs less than `floor` in memory or passes (parallelism does not
    /// change an attacker's cost), before anything is derived or sent.
    public static func check(_ offered: KDFParameters, floor: KDFParameters, acceptance: KDFAcceptance)
        throws(CofferClientError)
    {
        guard acceptance == .pinned, !offered.isAtLeast(floor) else { return }
        throw .weakerKDF(offered: offered, expected: floor)
    }

    private static func strongest(_ a: KDFParameters?, _ b: KDFParameters) -> KDFParameters {
        guard let a else { return b }
        return KDFParameters(
            memoryKiB: max(a.memoryKiB, b.memoryKiB), iterations: max(a.iterations, b.iterations),
            parallelism: max(a.parallelism, b.parallelism))
    }
}
