import CofferAPI
import Crypto
import Foundation
public import Hummingbird
public import Logging
public import Prometheus

/// Builds the Hummingbird application: routes are thin adapters over the storage and mail passed in.
public enum CofferServerApplication {
    /// The application for `configuration`; `onRunning` learns the bound port (useful with port 0).
    public static func build(
        configuration: ServerConfiguration, storage: any ServerStorage, mail: any MailTransport,
        registry: PrometheusCollectorRegistry, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let boundPort = BoundPort()
        let router = try makeRouter(
            configuration: configuration, storage: storage, mail: mail, registry: registry,
            publicURL: { configuration.effectivePublicURL(boundPort: boundPort.value) })
        let counter = ConnectionCounter()
        let (limits, trusted) = (configuration.connectionLimits, configuration.trustedProxies)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionGuard(limits: limits, counter: counter, trustedProxies: trusted)
                    ])),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "coffer-server"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                boundPort.value = port
                await onRunning(port)
            },
            logger: logger)
    }

    /// Every route of the API, with its middleware; `routes` lists them for the OpenAPI check.
    public static func makeRouter(
        configuration: ServerConfiguration, storage: any ServerStorage, mail: any MailTransport,
        registry: PrometheusCollectorRegistry, publicURL: @escaping @Sendable () -> String
    ) throws -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: MetricsMiddleware())
        let authenticated = router.group().add(middleware: BearerAuthenticator(storage: storage))
        let limits = AbuseLimits.standard(perAddress: configuration.attemptsPerAddress)
        let secret = ServerSecret(key: try loadOrCreateSecret(in: configuration.dataDirectory))
        let accounts = AccountRoutes(
            storage: storage, mail: mail, publicURL: publicURL, secret: secret,
            refreshTokenIdleLifetime: TimeInterval(configuration.refreshTokenIdleDays) * 86_400, limits: limits)
        accounts.register(on: router, authenticated: authenticated)
        let lifecycle = lifecycle(
            configuration: configuration, storage: storage, mail: mail, publicURL: publicURL,
            secret: secret)
        LifecycleRoutes(accounts: accounts, lifecycle: lifecycle, limits: limits)
            .register(on: router, authenticated: authenticated)
        PortalRoutes(lifecycle: lifecycle, limits: limits).register(on: router)
        SyncRoutes(storage: storage).register(on: router, authenticated: authenticated)
        BackupRoutes(storage: storage, lifecycle: lifecycle).register(on: authenticated)
        OperationsRoutes(storage: storage, registry: registry).register(on: router)
        routes.load(router.routes)
        return router
    }

    static func lifecycle(
        configuration: ServerConfiguration, storage: any ServerStorage, mail: any MailTransport,
        publicURL: @escaping @Sendable () -> String, secret: ServerSecret
    ) -> AccountLifecycle {
        AccountLifecycle(
            storage: storage, mail: mail, publicURL: publicURL, secret: secret,
            retentionDays: configuration.quarantineRetentionDays,
            codeLifetime: TimeInterval(configuration.emailCodeLifetimeSeconds),
            deletionDelay: TimeInterval(configuration.deletionDelayHours) * 3600)
    }

    /// The server's housekeeping, now and then every hour for as long as it runs: expired quarantines
    /// are purged and confirmed deletions whose wait is over carried out (each an account event), and
    /// expired access tokens deleted through their index, so no request ever pays for clean-up.
    public static func janitor(configuration: ServerConfiguration, storage: any ServerStorage, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let purged = try await storage.purgeExpiredQuarantines(now: Date())
                if purged > 0 { logger.info("purged expired quarantines", metadata: ["count": "\(purged)"]) }
                let deleted = try await storage.executeDueDeletions(now: Date())
                if deleted > 0 { logger.info("carried out confirmed deletions", metadata: ["count": "\(deleted)"]) }
                _ = try await storage.deleteExpiredEmailCodes(before: Date())
                let tokens = try await storage.deleteExpiredAccessTokens(before: Date().addingTimeInterval(-3600))
                if tokens > 0 { logger.debug("deleted expired access tokens", metadata: ["count": "\(tokens)"]) }
            } catch {
                logger.error("housekeeping failed", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// The server's own secret (for stable fake pre-login salts), kept in the data directory. The
    /// server does not start without it: a secret that changed on every restart would make the fake
    /// pre-login answers change too, and so tell unknown addresses from real ones.
    static func loadOrCreateSecret(in directory: URL) throws -> SymmetricKey {
        let url = directory.appendingPathComponent("server-secret")
        if let data = FileManager.default.contents(atPath: url.path) {
            guard data.count == 32 else { throw ServerSecretError.damaged(path: url.path) }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try bytes.write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch {
            throw ServerSecretError.cannotPersist(path: url.path, reason: "\(error.localizedDescription)")
        }
        return key
    }
}

/// Why the server's secret is unusable; the server refuses to start rather than run without it.
public enum ServerSecretError: Error, CustomStringConvertible {
    /// The file exists but is not 32 bytes.
    case damaged(path: String)
    /// It could not be written.
    case cannotPersist(path: String, reason: String)

    /// What to do about it.
    public var description: String {
        switch self {
        case .damaged(let path):
            "The server secret \(path) is not 32 bytes. Restore it from a backup of the data directory; if it is lost, delete it (fake pre-login answers then change once)."
        case .cannotPersist(let path, let reason):
            "The server secret cannot be saved at \(path) (\(reason)). Make the data directory writable by the server's user; the server does not start without a lasting secret."
        }
    }
}

/// The port the server bound, known only once it runs.
///
/// `@unchecked Sendable` is sound: every access goes through `lock`.
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0

    var value: Int {
        get { lock.withLock { port } }
        set { lock.withLock { port = newValue } }
    }
}
