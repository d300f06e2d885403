import Foundation

/// Attempt limits for everything that checks a secret, sends mail or creates an account: per e-mail
/// address and per client address, in separate buckets, so that neither one account nor one client
/// can guess or spam freely, and filling one bucket (say, a stranger's failed logins) does not block
/// another (the owner asking for a recovery code). Signed-in devices are never limited here: token
/// refresh and sync do not count.
struct AbuseLimits: Sendable {
    /// Logins and re-authentication with the current password.
    let logins: AttemptBudget
    /// E-mailed codes and links: asking for them and typing them in.
    let codes: AttemptBudget
    /// New accounts (which may say that an address is taken).
    let registrations: AttemptBudget

    /// Per bucket, 10 attempts per e-mail address and `perAddress` (the server's setting, 100 by default)
    /// per client address in 5 minutes, counted where `counting` says.
    static func standard(perAddress: Int, counting: AttemptCounting) -> AbuseLimits {
        AbuseLimits(
            logins: .standard("login", perAddress: perAddress, counting: counting),
            codes: .standard("code", perAddress: perAddress, counting: counting),
            registrations: .standard("registration", perAddress: perAddress, counting: counting))
    }
}

/// One bucket of ``AbuseLimits``.
struct AttemptBudget: Sendable {
    let perEmail: RateLimiter
    let perAddress: RateLimiter

    static func standard(_ name: String, perAddress: Int, counting: AttemptCounting) -> AttemptBudget {
        AttemptBudget(
            perEmail: RateLimiter(limit: 10, window: .seconds(300), bucket: "\(name)/email", counting: counting),
            perAddress: RateLimiter(
                limit: perAddress, window: .seconds(300), bucket: "\(name)/address", counting: counting))
    }

    /// Counts an attempt; throws 429 with Retry-After when over a limit.
    func check(email: String?, address: String) async throws {
        if let wait = try await perAddress.attempt(address) { throw APIError.tooManyRequests(retryAfter: wait) }
        if let email, let wait = try await perEmail.attempt(email) {
            throw APIError.tooManyRequests(retryAfter: wait)
        }
    }
}
