import Foundation
import HTTPTypes
import Hummingbird

/// Finds the client's real address behind a reverse proxy, for rate limits and account events.
///
/// `X-Forwarded-For` is believed only when the connection comes from a configured trusted proxy
/// (`--trusted-proxy`), and then only up to the first hop that is not itself trusted, walking from
/// the right: anyone can write that header, only the proxy's own entry is trustworthy. Without
/// trusted proxies the header is ignored and the peer's address is the client's.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = CofferRequestContext
    let trustedProxies: [IPRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard !trustedProxies.isEmpty, isTrusted(context.peerAddress) else { return try await next(request, context) }
        let hops = request.headers[values: HTTPField.Name("X-Forwarded-For")!]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var client = context.peerAddress
        for hop in hops.reversed() {
            guard IPRange.bytes(of: hop) != nil else { break }
            client = hop
            guard isTrusted(hop) else { break }
        }
        var context = context
        context.clientAddress = client
        return try await next(request, context)
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
