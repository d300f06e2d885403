import CofferAPI
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error into the API's `{code, message}` body, so no path answers with another shape,
/// and nothing internal (SQL, stack, payload) reaches the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's paths and their methods, for telling a wrong method (405) from a wrong path (404).
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else {
                return try APIError(.notFound, "not-found", "There is no such endpoint; see /openapi.yaml.")
                    .response(from: request, context: context)
            }
            var headers = HTTPFields()
            headers[.allow] = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            return try APIError(
                .methodNotAllowed, "method-not-allowed",
                "\(request.method.rawValue) is not supported here; this endpoint answers \(headers[.allow] ?? "").",
                headers: headers
            ).response(from: request, context: context)
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not-found"
                case .contentTooLarge: "body-too-large"
                case .methodNotAllowed: "method-not-allowed"
                case .unauthorized: "unauthorized"
                default: "invalid-request"
                }
            let message: String =
                switch error.status {
                case .notFound: "There is no such endpoint; see /openapi.yaml."
                case .contentTooLarge: "The request body is larger than this endpoint accepts."
                default: (error.body ?? error.status.reasonPhrase) + " See /openapi.yaml for the expected request."
                }
            return try APIError(error.status, code, message).response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try APIError(
                .contentTooLarge, "body-too-large", "The request body is larger than this endpoint accepts."
            )
            .response(from: request, context: context)
        } catch is DecodingError {
            return try APIError.badRequest("The request body is not the JSON this endpoint expects; see /openapi.yaml.")
                .response(from: request, context: context)
        } catch let failure as StorageFailure {
            context.logger.error("storage failed", metadata: ["cause": "\(failure)"])
            return try APIError.storage(failure).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            return try APIError(.internalServerError, "internal", "The server failed; try again later.")
                .response(from: request, context: context)
        }
    }
}
