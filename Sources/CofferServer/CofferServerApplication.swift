import CofferAPI
import CofferFiles
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
        let feed = ChangeFeed()
        let secret = ServerSecret(key: try loadOrCreateSecret(at: configuration.effectiveSecretFile))
        let (outbox, doorbell) = MailOutbox.make(secret: secret)
        let router = try makeRouter(
            configuration: configuration, storage: storage, secret: secret, outbox: outbox, registry: registry,
            changes: feed, publicURL: { configuration.effectivePublicURL(boundPort: boundPort.value) })
        let dispatcher = MailDispatcher(
            storage: storage, outbox: outbox, doorbell: doorbell, transport: mail,
            logger: Logger(label: "coffer-server.mail"))
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
            services: [ChangeRelay(feed: feed, storage: storage), dispatcher],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                boundPort.value = port
                await onRunning(port)
            },
            logger: logger)
    }

    /// Every route of the API, with its middleware, for the OpenAPI check: mail is posted to an outbox
    /// nothing delivers.
    public static func makeRouter(
        configuration: ServerConfiguration, storage: any ServerStorage, registry: PrometheusCollectorRegistry
    ) throws -> Router<CofferRequestContext> {
        let secret = ServerSecret(key: try loadOrCreateSecret(at: configuration.effectiveSecretFile))
        return try makeRouter(
            configuration: configuration, storage: storage, secret: secret, outbox: MailOutbox.make(secret: secret).0,
            registry: registry, changes: ChangeFeed(), publicURL: { "" })
    }

    /// Every route of the API, with its middleware, keyed by the server's `secret` (read once, by the caller).
    static func makeRouter(
        configuration: ServerConfiguration, storage: any ServerStorage, secret: ServerSecret, outbox: MailOutbox,
        registry: PrometheusCollectorRegistry, changes: ChangeFeed, publicURL: @escaping @Sendable () -> String
    ) throws -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: MetricsMiddleware())
        let authenticated = router.group().add(middleware: BearerAuthenticator(storage: storage))
        // One server counts in memory; several on one PostgreSQL database count together.
        let counting: AttemptCounting = configuration.database == nil ? .inMemory : .shared(storage)
        let limits = AbuseLimits.standard(perAddress: configuration.attemptsPerAddress, counting: counting)
        let accounts = AccountRoutes(
            storage: storage, outbox: outbox, publicURL: publicURL, secret: secret,
            refreshTokenIdleLifetime: TimeInterval(configuration.refreshTokenIdleDays) * 86_400, limits: limits)
        accounts.register(on: router, authenticated: authenticated)
        let lifecycle = lifecycle(
            configuration: configuration, storage: storage, outbox: outbox, publicURL: publicURL,
            secret: secret)
        LifecycleRoutes(accounts: accounts, lifecycle: lifecycle, limits: limits)
            .register(on: router, authenticated: authenticated)
        PortalRoutes(lifecycle: lifecycle, limits: limits).register(on: router)
        SyncRoutes(storage: storage).register(on: router, authenticated: authenticated)
        ChangeRoutes(feed: changes).register(on: authenticated)
        BackupRoutes(storage: storage, lifecycle: lifecycle).register(on: authenticated)
        OperationsRoutes(storage: storage, registry: registry).register(on: router)
        routes.load(router.routes)
        return router
    }

    static func lifecycle(
        configuration: ServerConfiguration, storage: any ServerStorage, outbox: MailOutbox,
        publicURL: @escaping @Sendable () -> String, secret: ServerSecret
    ) -> AccountLifecycle {
        AccountLifecycle(
            storage: storage, outbox: outbox, publicURL: publicURL, secret: secret,
            retentionDays: configuration.quarantineRetentionDays,
            codeLifetime: TimeInterval(configuration.emailCodeLifetimeSeconds),
            deletionDelay: TimeInterval(configuration.deletionDelayHours) * 3600)
    }

    /// The server's housekeeping, now and then every hour for as long as it runs: expired quarantines
    /// are purged and confirmed deletions whose wait is over carried out (each an account event), and
    /// expired access tokens deleted through their index, so no request ever pays for clean-up.
    ///
    /// Several server processes on one database take turns: each round, the one holding the janitor's
    /// lease (``CoordinationRepository/takeJanitorLease(holder:now:until:)``) does the work, and a process that
    /// stopped gives it up when its lease runs out.
    public static func janitor(configuration: ServerConfiguration, storage: any ServerStorage, logger: Logger) async {
        let holder = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))"
        while !Task.isCancelled {
            do {
                let now = Date()
                guard
                    try await storage.takeJanitorLease(
                        holder: holder, now: now, until: now.addingTimeInterval(2 * 3600))
                else {
                    try? await Task.sleep(for: .seconds(3600))
                    continue
                }
                let purged = try await storage.purgeExpiredQuarantines(now: Date())
                if purged > 0 { logger.info("purged expired quarantines", metadata: ["count": "\(purged)"]) }
                let deleted = try await storage.executeDueDeletions(now: Date())
                if deleted > 0 { logger.info("carried out confirmed deletions", metadata: ["count": "\(deleted)"]) }
                _ = try await storage.deleteExpiredEmailCodes(before: Date())
                let tokens = try await storage.deleteExpiredAccessTokens(before: Date().addingTimeInterval(-3600))
                if tokens > 0 { logger.debug("deleted expired access tokens", metadata: ["count": "\(tokens)"]) }
                _ = try await storage.deleteAttemptWindows(before: Date().addingTimeInterval(-3600))
            } catch {
                logger.error("housekeeping failed", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// The server's own secret (stable fake pre-login salts, keyed hashes of mailed codes), kept in a
    /// file and never in the database. The server does not start without it: a secret that changed on
    /// every restart would make the fake pre-login answers change too, and so tell unknown addresses
    /// from real ones. Created once: two processes starting together on one new file both end up with
    /// the one that was linked into place first.
    static func loadOrCreateSecret(at url: URL) throws -> SymmetricKey {
        if let key = try readSecret(at: url) { return key }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw ServerSecretError.cannotPersist(path: url.path, reason: "\(error.localizedDescription)")
        }
        // Never in place of a secret another process linked first: that one is read below.
        do {
            try OwnerOnlyFile.write(bytes, to: url.path, existing: .refuse)
        } catch .exists {
        } catch {
            throw ServerSecretError.cannotPersist(path: url.path, reason: error.reason)
        }
        guard let key = try readSecret(at: url) else {
            throw ServerSecretError.cannotPersist(path: url.path, reason: "it vanished after it was written")
        }
        return key
    }

    private static func readSecret(at url: URL) throws -> SymmetricKey? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        guard data.count == 32 else { throw ServerSecretError.damaged(path: url.path) }
        return SymmetricKey(data: data)
    }

    /// Checks, for several server processes on one database, that this process has the same server
    /// secret as the others: the first to start records its fingerprint (an HMAC of a fixed text,
    /// which does not reveal the secret); one with another secret would answer codes and pre-logins
    /// differently, so it refuses to start.
    public static func checkSharedSecret(configuration: ServerConfiguration, storage: any ServerStorage) async throws {
        let key = try loadOrCreateSecret(at: configuration.effectiveSecretFile)
        let fingerprint = Data(
            HMAC<SHA256>.authenticationCode(for: Data("coffer-server secret fingerprint".utf8), using: key))
        guard try await storage.adoptSecretFingerprint(fingerprint) else {
            throw ServerSecretError.differsFromOtherServers(path: configuration.effectiveSecretFile.path)
        }
    }
}

/// Why the server's secret is unusable; the server refuses to start rather than run without it.
public enum ServerSecretError: Error, CustomStringConvertible {
    /// The file exists but is not 32 bytes.
    case damaged(path: String)
    /// It could not be written.
    case cannotPersist(path: String, reason: String)
    /// Another server process on the same database has another secret.
    case differsFromOtherServers(path: String)

    /// What to do about it.
    public var description: String {
        switch self {
        case .damaged(let path):
            "The server secret \(path) is not 32 bytes. Restore it from a backup of the data directory; if it is lost, delete it (fake pre-login answers then change once)."
        case .cannotPersist(let path, let reason):
            "The server secret cannot be saved at \(path) (\(reason)). Make the data directory writable by the server's user; the server does not start without a lasting secret."
        case .differsFromOtherServers(let path):
            "The server secret \(path) is not the one the other servers on this database use. Copy the secret file of the first server to every server (or point COFFER_SERVER_SECRET_FILE at one shared copy) and start again (docs/operations.md, \"Several servers\")."
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
