import Foundation
import Hummingbird

/// Checks `Authorization: Bearer TOKEN` against stored access-token hashes.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = CofferRequestContext
    let storage: any SessionRepository

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let token = try Self.token(of: request)
        guard let session = try await storage.session(accessHash: Tokens.hash(token), now: Date()) else {
            throw APIError.unauthorized
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }

    /// The token of `Authorization: Bearer TOKEN`, or 401.
    static func token(of request: Request) throws -> String {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.utf8.count < 200 else {
            throw APIError.unauthorized
        }
        return String(header.dropFirst("Bearer ".count))
    }
}
