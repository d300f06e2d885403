import AsyncHTTPClient
public import CofferAPI
import CofferStore
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The Coffer HTTP API from the client's side: one method per endpoint, JSON in and out.
public struct APIClient: Sendable {
    /// The server's base URL, without a trailing slash.
    public let baseURL: String
    private static let timeout = TimeAmount.seconds(30)

    /// One client for the process, like `HTTPClient.shared`, but failing fast when the server is down:
    /// an unreachable server must not hold a command for the whole request timeout, since every
    /// change works offline and syncs later anyway.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// A client for `baseURL`.
    public init(baseURL: String) throws(CofferClientError) {
        var url = baseURL.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil
        else {
            throw .invalidResponse("'\(baseURL)' is not an http:// or https:// URL")
        }
        self.baseURL = url
    }

    /// `POST /api/v1/prelogin`.
    public func prelogin(email: String) async throws(CofferClientError) -> PreloginResponse {
        try await send(.POST, "/api/v1/prelogin", body: PreloginRequest(email: email))
    }

    /// `POST /api/v1/register`.
    public func register(_ request: RegisterRequest) async throws(CofferClientError) -> SessionResponse {
        try await send(.POST, "/api/v1/register", body: request)
    }

    /// `POST /api/v1/login`.
    public func login(_ request: LoginRequest) async throws(CofferClientError) -> SessionResponse {
        try await send(.POST, "/api/v1/login", body: request)
    }

    /// `POST /api/v1/token/refresh`.
    public func refresh(_ refreshToken: String) async throws(CofferClientError) -> SessionResponse {
        try await send(.POST, "/api/v1/token/refresh", body: RefreshRequest(refreshToken: refreshToken))
    }

    /// `POST /api/v1/logout`.
    public func logout(_ refreshToken: String) async throws(CofferClientError) {
        let _: Empty = try await send(.POST, "/api/v1/logout", body: RefreshRequest(refreshToken: refreshToken))
    }

    /// `GET /api/v1/account`.
    public func account(token: String) async throws(CofferClientError) -> AccountState {
        try await send(.GET, "/api/v1/account", body: Empty?.none, token: token)
    }

    /// `GET /api/v1/devices`.
    public func devices(token: String) async throws(CofferClientError) -> [DeviceSummary] {
        try await send(.GET, "/api/v1/devices", body: Empty?.none, token: token)
    }

    /// `DELETE /api/v1/devices/{id}`.
    public func revokeDevice(_ id: UUID, token: String) async throws(CofferClientError) {
        let _: Empty = try await send(
            .DELETE, "/api/v1/devices/\(id.uuidString.lowercased())", body: Empty?.none, token: token)
    }

    /// `GET /api/v1/account/events`.
    public func events(token: String) async throws(CofferClientError) -> [AccountEvent] {
        try await send(.GET, "/api/v1/account/events", body: Empty?.none, token: token)
    }

    /// `GET /api/v1/sync?after=`.
    public func pull(after cursor: Int64, token: String) async throws(CofferClientError) -> PullResponse {
        try await send(.GET, "/api/v1/sync?after=\(cursor)", body: Empty?.none, token: token)
    }

    /// `POST /api/v1/sync`.
    public func push(_ changes: [PushChange], token: String) async throws(CofferClientError) -> PushResponse {
        try await send(.POST, "/api/v1/sync", body: PushRequest(changes: changes), token: token)
    }

    /// `GET /api/v1/manifest`; `nil` when the account has none yet.
    public func manifest(token: String) async throws(CofferClientError) -> WireManifest? {
        do {
            return try await send(.GET, "/api/v1/manifest", body: Empty?.none, token: token)
        } catch .server(404, _, _) {
            return nil
        }
    }

    /// `PUT /api/v1/manifest`; returns `false` when the counter moved on.
    public func updateManifest(_ update: ManifestUpdate, token: String) async throws(CofferClientError) -> Bool {
        do {
            let _: Empty = try await send(.PUT, "/api/v1/manifest", body: update, token: token)
            return true
        } catch .server(409, _, _) {
            return false
        }
    }

    struct Empty: Codable {}

    func send<Body: Encodable, Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, token: String? = nil
    ) async throws(CofferClientError) -> Response {
        var bytes: Data?
        if let body {
            guard let data = try? JSONEncoder().encode(body) else { throw .invalidResponse("request encoding") }
            bytes = data
        }
        let data = try await exchange(method, path, body: bytes, contentType: "application/json", token: token)
        if Response.self == Empty.self, let empty = Empty() as? Response { return empty }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Response.self, from: data)
        } catch {
            throw .invalidResponse("unexpected body for \(path.split(separator: "?")[0])")
        }
    }

    /// One request and its answer's body; error bodies become ``CofferClientError`` values.
    func exchange(_ method: HTTPMethod, _ path: String, body: Data?, contentType: String, token: String?)
        async throws(CofferClientError) -> Data
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        let status: Int
        let data: Data
        do {
            let response = try await Self.http.execute(request, timeout: Self.timeout)
            status = Int(response.status.code)
            data = Data(buffer: try await response.body.collect(upTo: 256 * 1024 * 1024))
        } catch {
            throw .unreachable(server: baseURL)
        }
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                if error.code == "account-reset" {
                    let notice = AccountResetNotice(
                        resetAt: error.details?["resetAt"], resetFrom: error.details?["resetFrom"],
                        epoch: error.details?["epoch"].flatMap { UInt32($0) } ?? 0)
                    throw .accountReset(notice, message: error.message)
                }
                throw .server(status: status, code: error.code, message: error.message)
            }
            throw .invalidResponse("HTTP \(status)")
        }
        return data
    }
}
