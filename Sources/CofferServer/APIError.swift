import CofferAPI
import Foundation
public import Hummingbird

/// An error the API returns as `{code, message}` with a 4xx (or 503) status.
///
/// Its message never contains a token, key, verifier or ciphertext: it is shown to users and logged.
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// A stable code.
    public let code: String
    /// The sentence for people.
    public let message: String
    /// Extra headers, such as `Retry-After`.
    public let headers: HTTPFields
    /// Facts for the client (``ErrorBody/details``).
    public let details: [String: String]?

    /// Creates an error.
    public init(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:],
        details: [String: String]? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details
    }

    /// Encodes the error as JSON — or, for the portal's pages and mailed links, which a person opens
    /// in a browser, as a page that says the same with a way back.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/portal") || path == "/verify-email" {
            var response = HTMLPage.response(
                status: status, title: status.code == 429 ? "Please wait" : "That did not work", text: message,
                tone: status.code == 429 ? .warning : .error)
            for field in headers { response.headers[field.name] = field.value }
            return response
        }
        // Sorted keys: the same error must be the same bytes every time, or the order of its keys
        // would tell one answer from another (account enumeration tests compare bytes).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(ErrorBody(code: code, message: message, details: details))
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let unauthorized = APIError(
        .unauthorized, "unauthorized", "Sign in again: the access token is missing, expired or revoked.")
    static let invalidCredentials = APIError(
        .unauthorized, "invalid-credentials",
        "The e-mail address or password is not correct. Forgot the password? `coffer recover` sets a new one with your recovery code; an account reset (`coffer account reset`) is the last resort."
    )

    /// A wrong proof of a secret from before a reset (quarantine, old backup): counted, with how
    /// many more the hour allows.
    static func wrongOldSecret(_ proof: QuarantineProof, remaining: Int) -> APIError {
        let secret =
            switch proof {
            case .password: "password"
            case .recoveryCode: "recovery code"
            }
        return APIError(
            .forbidden, "wrong-old-secret",
            "That is not the \(secret) in force before this reset. \(remaining) more attempts this hour; every attempt is listed in the account's events."
        )
    }

    /// Too many wrong proofs of an old secret lately: the next one is taken after `seconds`.
    static func tooManyGuesses(retryAfter seconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(seconds)
        return APIError(
            .tooManyRequests, "too-many-guesses",
            "Too many wrong passwords or recovery codes were tried for this account's old data lately; try again in \((seconds + 59) / 60) minutes.",
            headers: headers)
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid-request", message) }

    /// 507 when the disk is full, 503 otherwise, with Retry-After: the client keeps its changes and
    /// tries again; nothing acknowledged was lost.
    static func storage(_ failure: StorageFailure) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "60"
        switch failure {
        case .full:
            return APIError(
                .init(code: 507, reasonPhrase: "Insufficient Storage"), "insufficient-storage",
                "The server's disk is full, so nothing was stored. Your changes are kept on your device; try again later.",
                headers: headers)
        default:
            return APIError(
                .serviceUnavailable, "storage-unavailable",
                "The server cannot write its database right now, so nothing was stored. Try again later.",
                headers: headers)
        }
    }

    static func tooManyRequests(retryAfter seconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(seconds)
        return APIError(
            .tooManyRequests, "rate-limited", "Too many attempts; try again in \(seconds) seconds.", headers: headers)
    }
}
