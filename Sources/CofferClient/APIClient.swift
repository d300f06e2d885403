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

    /// A client for `baseURL`.
    public init(baseURL: String) throws(CofferClientError) {
        var url = baseURL.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = parsed.host
        else {
            throw .invalidResponse("'\(baseURL)' is not an http:// or https:// URL")
        }
        guard scheme == "https" || Self.isLoopback(host) else { throw .unencrypted(server: url) }
        self.baseURL = url
    }

    /// Whether `host` is this machine: the one place plain HTTP cannot be read or changed by others.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1"
            || bare.hasPrefix("127.")
                && bare.split(separator: ".").count == 4 && bare.split(separator: ".").allSatisfy { UInt8($0) != nil }
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

    /// `POST /api/v1/account/email-confirmation`: mails a new confirmation link unless confirmed.
    public func confirmEmail(token: String) async throws(CofferClientError) -> EmailConfirmation {
        try await send(.POST, "/api/v1/account/email-confirmation", body: Empty?.none, token: token)
    }

    /// `GET /api/v1/account/events`; kinds this version does not know are left out.
    public func events(token: String) async throws(CofferClientError) -> [AccountEvent] {
        let events: SkippingUnreadable<AccountEvent> = try await send(
            .GET, "/api/v1/account/events", body: Empty?.none, token: token)
        return events.elements
    }

    /// `GET /api/v2/sync?after=`: one page of writes and the manifest.
    public func pull(after cursor: Int64, token: String) async throws(CofferClientError) -> SyncPage {
        try await send(.GET, "/api/v2/sync?after=\(cursor)", body: Empty?.none, token: token)
    }

    /// `POST /api/v2/sync`. The answer is a hint; what was stored is learned by pulling.
    public func push(_ changes: [PushChange], token: String) async throws(CofferClientError) -> PushResult {
        try await send(.POST, "/api/v2/sync", body: PushRequest(changes: changes), token: token)
    }

    /// `POST /api/v2/sync` putting back versions a restored server lost (stored above its current revision).
    func restoreLostVersions(_ changes: [PushChange], token: String) async throws(CofferClientError) -> PushResult {
        try await send(
            .POST, "/api/v2/sync", body: PushRequest(changes: changes, restoresLostVersions: true), token: token)
    }

    /// `PUT /api/v2/manifest`; `false` when another device published first.
    public func publish(_ update: ManifestUpdate, token: String) async throws(CofferClientError) -> Bool {
        do {
            let _: Empty = try await send(.PUT, "/api/v2/manifest", body: update, token: token)
            return true
        } catch .server(409, "manifest-moved", _) {
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
    ///
    /// The whole exchange — connecting, the answer's head and every byte of its body — must finish
    /// within ``NetworkDeadline/current``: a server that stalls or drips its answer cannot hold a
    /// device (or the agent serving it) forever.
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
        let answer = try await perform(request)
        let (status, data) = (answer.status, answer.body)
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                let message = ServerText.clean(error.message)
                if error.code == "account-reset" {
                    let notice = AccountResetNotice(
                        resetAt: error.details?["resetAt"].map(ServerText.clean),
                        resetFrom: error.details?["resetFrom"].map(ServerText.clean),
                        epoch: error.details?["epoch"].flatMap { UInt32($0) } ?? 0)
                    throw .accountReset(notice, message: message)
                }
                throw .server(status: status, code: ServerText.clean(error.code), message: message)
            }
            throw .invalidResponse("HTTP \(status)")
        }
        return data
    }

    /// `GET /health`: whether the server answers, how long that took, and its clock (the `Date` header).
    public func probe() async throws(CofferClientError) -> ServerProbe {
        let started = ContinuousClock.now
        let answer = try await perform(HTTPClientRequest(url: baseURL + "/health"))
        guard (200..<300).contains(answer.status) else { throw .invalidResponse("HTTP \(answer.status)") }
        return ServerProbe(roundTrip: ContinuousClock.now - started, serverClock: answer.date.flatMap(ServerProbe.date))
    }

    /// Sends `request` within ``NetworkDeadline/current``; network and certificate failures become
    /// ``CofferClientError`` values, any HTTP status is returned.
    private func perform(_ request: HTTPClientRequest) async throws(CofferClientError) -> (
        status: Int, body: Data, date: String?
    ) {
        let deadline = NetworkDeadline.current
        let http = try ServerTrust.client()
        do {
            return try await Self.within(deadline) {
                let response = try await http.execute(request, timeout: .seconds(Int64(deadline.components.seconds)))
                let data = try await response.body.collect(upTo: Self.largestAnswer)
                return (Int(response.status.code), Data(buffer: data), response.headers.first(name: "Date"))
            }
        } catch is NetworkDeadline.Exceeded {
            throw .timedOut(server: baseURL, after: deadline)
        } catch {
            if let problem = ServerTrust.certificateProblem(error, host: URL(string: baseURL)?.host ?? baseURL) {
                throw .untrustedCertificate(server: baseURL, detail: problem)
            }
            throw .unreachable(server: baseURL)
        }
    }

    /// The largest answer accepted: two pull pages' worth, so a hostile server cannot exhaust memory.
    static let largestAnswer = 80 * 1_048_576

    /// Runs `body`, giving up with ``NetworkDeadline/Exceeded`` once `deadline` has passed.
    static func within<T: Sendable>(_ deadline: Duration, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw NetworkDeadline.Exceeded()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw NetworkDeadline.Exceeded() }
            return first
        }
    }
}

/// How long one exchange with a server may take, head and body together.
public enum NetworkDeadline {
    /// 60 seconds, or `COFFER_NETWORK_TIMEOUT` seconds (1–3600) when set.
    public static var current: Duration {
        if let text = ProcessInfo.processInfo.environment["COFFER_NETWORK_TIMEOUT"], let seconds = Int(text),
            (1...3600).contains(seconds)
        {
            return .seconds(seconds)
        }
        return .seconds(60)
    }

    /// The deadline passed.
    struct Exceeded: Error {}
}

/// Text a server sent, made safe to show: no control or bidirectional-override characters (which
/// could rewrite a terminal line or reorder what the user reads), and a bounded length.
public enum ServerText {
    /// The cleaned text.
    public static func clean(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(2000) {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned:
                out.unicodeScalars.append(" ")
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// What a probe of the server found.
public struct ServerProbe: Sendable {
    /// How long the answer took.
    public let roundTrip: Duration
    /// The server's clock when it answered, when it said.
    public let serverClock: Date?

    /// How far this machine's clock is ahead of the server's (negative: behind), give or take the round trip.
    public func clockSkew(now: Date = Date()) -> TimeInterval? {
        serverClock.map { now.timeIntervalSince($0) }
    }

    /// An HTTP date (RFC 9110's IMF-fixdate, such as `Mon, 30 Nov 2026 14:36:38 GMT`).
    static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
