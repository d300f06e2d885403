import Foundation
import Hummingbird

/// Checks `Authorization: Bearer TOKEN` against stored access-token hashes.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = CofferRequestContext
    let storage: any ServerStorage

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count < 200 else {
            throw APIError.unauthorized
        }
        let token = String(header.dropFirst("Bearer ".count))
        guard let session = try await storage.session(accessHash: Tokens.hash(token), now: Date()) else {
            throw APIError.unauthorized
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }
}
