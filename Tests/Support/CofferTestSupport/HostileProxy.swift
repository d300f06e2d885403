import AsyncHTTPClient
public import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A server that lies: an HTTP proxy between the real `coffer` and the real `coffer-server` that
/// forwards everything unless a rule says otherwise, and then rewrites, replaces, stalls or drops
/// the answer — exactly what a hostile or broken server can do to a device.
///
/// Rules match a method and a path prefix and may be limited to a number of uses; the first matching
/// rule acts. Every request is recorded, and a test can wait for one to arrive (to act while the
/// device is inside it) without sleeping.
public final class HostileProxy: Sendable {
    /// What a rule does with one exchange.
    public enum Action: Sendable {
        /// Passes the request and the answer through.
        case forward
        /// Answers without telling the real server.
        case respond(status: Int, body: Data)
        /// Forwards, then answers with what `rewrite` makes of the real answer.
        case rewrite(@Sendable (Exchange) throws -> Exchange)
        /// Forwards, then sends the head and the first `bytes` of the body, and nothing more.
        case stallBody(afterBytes: Int)
        /// Never answers at all.
        case hang
    }

    /// One answer as the proxy is about to send it.
    public struct Exchange: Sendable {
        /// The request's method.
        public var method: String
        /// The request's path and query.
        public var path: String
        /// The request's body.
        public var requestBody: Data
        /// The answer's status.
        public var status: Int
        /// The answer's body.
        public var body: Data
    }

    struct Rule: Sendable {
        var method: String
        var pathPrefix: String
        var remainingUses: Int?
        var action: Action
    }

    struct State: Sendable {
        var rules: [Rule] = []
        var requests: [(method: String, path: String)] = []
        var arrivals: [(method: String, pathPrefix: String, continuation: AsyncStream<Void>.Continuation)] = []
    }

    /// The rules and the record of requests, shared with the request handlers.
    final class Shared: Sendable {
        let mutex = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    /// The proxy's base URL, which devices use as their server.
    public let url: String
    private let state = Shared()
    private let group: ServiceGroup

    /// A certificate and its key (PEM files) for a proxy that speaks TLS, as a reverse proxy in front
    /// of a real deployment does.
    public struct TLSIdentity: Sendable {
        /// The certificate chain, leaf first.
        public var certificateFile: String
        /// The leaf's private key.
        public var keyFile: String
        /// The host name the certificate is made out to; the proxy's URL uses it.
        public var hostName: String

        /// An identity from PEM files.
        public init(certificateFile: String, keyFile: String, hostName: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.hostName = hostName
        }
    }

    /// Starts a proxy in front of `upstream` on a free port of 127.0.0.1, speaking TLS with `tls` if given.
    public init(upstream: String, tls: TLSIdentity? = nil) async throws {
        let state = self.state
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await Self.handle(request, upstream: upstream, state: state)
        }
        let server: HTTPServerBuilder =
            if let tls {
                try .tls(
                    .http1(),
                    tlsConfiguration: .makeServerConfiguration(
                        certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map {
                            .certificate($0)
                        },
                        privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyFile, format: .pem))))
            } else {
                .http1()
            }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "hostile-proxy"),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: {
                var logger = Logger(label: "hostile-proxy")
                logger.logLevel = .warning
                return logger
            }())
        // Stopped gracefully (cancelling the server's task mid-connection traps in NIO's writers).
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "hostile-proxy")))
        self.group = group
        // Its own threads: the tests it serves block the cooperative pool while they wait for `coffer`.
        Task(executorPreference: Self.executor) { try await group.run() }
        var port = 0
        for await bound in ports { port = bound }
        url = tls.map { "https://\($0.hostName):\(port)" } ?? "http://127.0.0.1:\(port)"
    }

    deinit {
        let group = group
        Task { await group.triggerGracefulShutdown() }
    }

    /// Adds a rule; the first matching rule acts. `times` limits how often it applies.
    public func on(_ method: String, _ pathPrefix: String, times: Int? = nil, _ action: Action) {
        state.withLock {
            $0.rules.append(Rule(method: method, pathPrefix: pathPrefix, remainingUses: times, action: action))
        }
    }

    /// Removes every rule: the proxy forwards faithfully again.
    public func reset() {
        state.withLock { $0.rules.removeAll() }
    }

    /// How many requests with `method` and a path starting with `pathPrefix` arrived so far.
    public func count(_ method: String, _ pathPrefix: String) -> Int {
        state.withLock { $0.requests.filter { $0.method == method && $0.path.hasPrefix(pathPrefix) }.count }
    }

    /// A request the test expects: `await arrival.wait()` returns once a request with `method` and a
    /// path starting with `pathPrefix` has arrived after this call (registered at once, so no race).
    public func expectRequest(_ method: String, _ pathPrefix: String) -> Arrival {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        state.withLock { $0.arrivals.append((method, pathPrefix, continuation)) }
        return Arrival(stream: stream)
    }

    /// A request being waited for.
    public struct Arrival: Sendable {
        let stream: AsyncStream<Void>
        /// Returns once the request has arrived.
        public func wait() async {
            for await _ in stream { return }
        }
    }

    /// Shared by every proxy of the test process; idle threads cost nothing.
    private static let executor = DedicatedExecutor(threads: 2, name: "hostile-proxy")

    private static func handle(_ request: Request, upstream: String, state: Shared) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.description
        let body = try await request.body.collect(upTo: 64 * 1_048_576)
        let action = state.withLock { state -> Action in
            state.requests.append((method, path))
            state.arrivals.removeAll { arrival in
                guard arrival.method == method, path.hasPrefix(arrival.pathPrefix) else { return false }
                arrival.continuation.yield()
                arrival.continuation.finish()
                return true
            }
            guard let index = state.rules.firstIndex(where: { $0.method == method && path.hasPrefix($0.pathPrefix) })
            else { return .forward }
            let rule = state.rules[index]
            if let remaining = rule.remainingUses {
                if remaining <= 1 {
                    state.rules.remove(at: index)
                } else {
                    state.rules[index].remainingUses = remaining - 1
                }
            }
            return rule.action
        }
        switch action {
        case .respond(let status, let data):
            return response(status: status, body: data)
        case .hang:
            try await Task.sleep(for: .seconds(120))
            return response(status: 504, body: Data())
        case .forward, .rewrite, .stallBody:
            var exchange = try await forward(
                request, path: path, body: Data(buffer: body), upstream: upstream)
            switch action {
            case .rewrite(let rewrite):
                exchange = try rewrite(exchange)
            case .stallBody(let bytes):
                let prefix = exchange.body.prefix(bytes)
                return Response(
                    status: .init(code: exchange.status),
                    headers: [.contentType: "application/json", .contentLength: String(exchange.body.count)],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(bytes: prefix))
                        try await Task.sleep(for: .seconds(120))
                    })
            default:
                break
            }
            return response(status: exchange.status, body: exchange.body)
        }
    }

    private static func forward(_ request: Request, path: String, body: Data, upstream: String) async throws
        -> Exchange
    {
        var outgoing = HTTPClientRequest(url: upstream + path)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where field.name.canonicalName != "host" && field.name != .contentLength {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if !body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let answer = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(60))
        let data = try await answer.body.collect(upTo: 256 * 1_048_576)
        return Exchange(
            method: request.method.rawValue, path: path, requestBody: body, status: Int(answer.status.code),
            body: Data(buffer: data))
    }

    private static func response(status: Int, body: Data) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
