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
    /// per client address in 5 minutes.
    static func standard(perAddress: Int) -> AbuseLimits {
        AbuseLimits(
            logins: .standard(perAddress: perAddress), codes: .standard(perAddress: perAddress),
            registrations: .standard(perAddress: perAddress))
    }
}

/// One bucket of ``AbuseLimits``.
struct AttemptBudget: Sendable {
    let perEmail: RateLimiter
    let perAddress: RateLimiter

    static func standard(perAddress: Int) -> AttemptBudget {
        AttemptBudget(
            perEmail: RateLimiter(limit: 10, window: .seconds(300)),
            perAddress: RateLimiter(limit: perAddress, window: .seconds(300)))
    }

    /// Counts an attempt; throws 429 with Retry-After when over a limit.
    func check(email: String?, address: String) async throws {
        if let wait = await perAddress.attempt(address) { throw APIError.tooManyRequests(retryAfter: wait) }
        if let email, let wait = await perEmail.attempt(email) { throw APIError.tooManyRequests(retryAfter: wait) }
    }
}
