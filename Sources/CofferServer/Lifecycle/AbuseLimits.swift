import Foundation

/// Attempt limits shared by every route that checks a secret or sends mail: per e-mail address and
/// per client address, so neither one account nor one address can guess or spam freely.
struct AbuseLimits: Sendable {
    let perEmail: RateLimiter
    let perAddress: RateLimiter

    /// The defaults: 10 attempts per address per 5 minutes, 100 per client address.
    static func standard() -> AbuseLimits {
        AbuseLimits(
            perEmail: RateLimiter(limit: 10, window: .seconds(300)),
            perAddress: RateLimiter(limit: 100, window: .seconds(300)))
    }

    /// Counts an attempt; throws 429 with Retry-After when over a limit.
    func check(email: String?, address: String) async throws {
        if let wait = await perAddress.attempt(address) { throw APIError.tooManyRequests(retryAfter: wait) }
        if let email, let wait = await perEmail.attempt(email) { throw APIError.tooManyRequests(retryAfter: wait) }
    }
}
