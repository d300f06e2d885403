import ArgumentParser
import CofferServer
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `coffer-server`: configuration and start-up; the routes live in CofferServer.
@main
struct CofferServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-server",
        abstract: "The Coffer sync server: stores and relays ciphertext it cannot read.",
        discussion: """
            Settings come from these flags, then COFFER_SERVER_* environment variables (HOST, PORT, PUBLIC_URL, \
            DATA_DIR, DATABASE_URL, SECRET_FILE, QUARANTINE_DAYS, DELETION_DELAY_HOURS, REFRESH_TOKEN_IDLE_DAYS, MAIL, SENDMAIL_COMMAND, MAIL_FROM, LOG_LEVEL, TRUSTED_PROXIES, HEAD_TIMEOUT, \
            BODY_TIMEOUT, IDLE_TIMEOUT, CONNECTIONS_PER_ADDRESS, ATTEMPTS_PER_ADDRESS), then the JSON file named by --config or \
            COFFER_SERVER_CONFIG, then defaults. See docs/operations.md.
            """,
        subcommands: [Migrate.self, CopyData.self, RecordRestore.self, Admin.self])

    @Option(help: "Address to bind (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one (default 8080).")
    var port: Int?

    @Option(help: "Directory for the database and the mail folder (default ./data).")
    var dataDir: String?

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL database (postgres://USER@HOST:PORT/DATABASE) instead of SQLite under --data-dir.",
            discussion: "A URL with a password goes in COFFER_SERVER_DATABASE_URL or the config file, never here."
        ))
    var databaseURL: String?

    @Option(help: "The URL users reach this server at, for links in mail.")
    var publicURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(help: "A JSON configuration file.")
    var config: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help: "A reverse proxy (address or CIDR range) whose X-Forwarded-For is believed; repeat for several.")
    var trustedProxies: [String] = []

    /// The settings from flags, environment and file.
    func settings() throws -> ServerConfiguration {
        if let databaseURL, (try? PostgreSQLAddress(databaseURL))?.password != nil {
            throw ValidationError(
                "A password in --database-url is visible to every user of this machine (ps). Put the URL in COFFER_SERVER_DATABASE_URL or the config file instead."
            )
        }
        return try ConfigurationLoader(
            flags: [
                "host": host, "port": port.map(String.init), "dataDir": dataDir, "databaseURL": databaseURL,
                "publicURL": publicURL, "logLevel": logLevel,
                "trustedProxies": trustedProxies.isEmpty ? nil : trustedProxies.joined(separator: ","),
            ],
            environment: ProcessInfo.processInfo.environment, configFile: config
        ).load()
    }

    func run() async throws {
        // A mail command that exits early must not kill the server through SIGPIPE; writes report EPIPE.
        signal(SIGPIPE, SIG_IGN)
        // Everything the server writes (database, secret, mail, backups) is for its own user only.
        umask(0o077)
        let settings = try settings()
        try settings.checkMailCommand()
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        ServerMetrics.register()
        let logger = Logger(label: "coffer-server")
        let storage = try settings.openStorage(logger: logger)
        try await storage.withConnections {
            try await storage.migrate()
            if settings.database != nil {
                try await CofferServerApplication.checkSharedSecret(configuration: settings, storage: storage)
            }
            let app = try CofferServerApplication.build(
                configuration: settings, storage: storage, mail: settings.mailTransport(), registry: registry,
                logger: logger,
                onRunning: { port in
                    logger.notice("coffer-server listening on http://\(settings.host):\(port)")
                })
            let janitor = QuarantineJanitor(configuration: settings, storage: storage, logger: logger)
            var configuration = ServiceGroupConfiguration(
                services: [app, janitor], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // A service that does not finish shutting down (a wedged database connection) is cancelled
            // after 10 s, and the process ends 10 s after that whatever it waits for: a server asked to
            // stop always stops, and a supervisor never has to kill it.
            configuration.maximumGracefulShutdownDuration = .seconds(10)
            configuration.maximumCancellationDuration = .seconds(10)
            try await ServiceGroup(configuration: configuration).run()
        }
    }
}

/// The server's housekeeping until it shuts down: storage upkeep, and hourly purges of expired
/// quarantines and access tokens.
struct QuarantineJanitor: Service {
    let configuration: ServerConfiguration
    let storage: any ServerStorage
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            async let upkeep: Void = storage.runMaintenance()
            await CofferServerApplication.janitor(configuration: configuration, storage: storage, logger: logger)
            await upkeep
        }
    }
}

/// Merges flags, environment variables and a JSON file into a `ServerConfiguration`.
struct ConfigurationLoader {
    let flags: [String: String?]
    let environment: [String: String]
    let configFile: String?

    /// Keys of the JSON file and the environment variable each maps to.
    static let keys: [(json: String, environment: String)] = [
        ("host", "COFFER_SERVER_HOST"), ("port", "COFFER_SERVER_PORT"), ("publicURL", "COFFER_SERVER_PUBLIC_URL"),
        ("dataDir", "COFFER_SERVER_DATA_DIR"), ("databaseURL", "COFFER_SERVER_DATABASE_URL"),
        ("secretFile", "COFFER_SERVER_SECRET_FILE"),
        ("quarantineDays", "COFFER_SERVER_QUARANTINE_DAYS"),
        ("deletionDelayHours", "COFFER_SERVER_DELETION_DELAY_HOURS"),
        ("refreshTokenIdleDays", "COFFER_SERVER_REFRESH_TOKEN_IDLE_DAYS"),
        ("mail", "COFFER_SERVER_MAIL"), ("sendmailCommand", "COFFER_SERVER_SENDMAIL_COMMAND"),
        ("mailFrom", "COFFER_SERVER_MAIL_FROM"), ("logLevel", "COFFER_SERVER_LOG_LEVEL"),
        ("trustedProxies", "COFFER_SERVER_TRUSTED_PROXIES"), ("headTimeout", "COFFER_SERVER_HEAD_TIMEOUT"),
        ("bodyTimeout", "COFFER_SERVER_BODY_TIMEOUT"), ("idleTimeout", "COFFER_SERVER_IDLE_TIMEOUT"),
        ("connectionsPerAddress", "COFFER_SERVER_CONNECTIONS_PER_ADDRESS"),
        ("attemptsPerAddress", "COFFER_SERVER_ATTEMPTS_PER_ADDRESS"),
    ]

    func load() throws -> ServerConfiguration {
        var file: [String: String] = [:]
        if let path = configFile ?? environment["COFFER_SERVER_CONFIG"] {
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { throw ValidationError("The configuration file \(path) is missing or not a JSON object.") }
            for (key, value) in object {
                file[key] = (value as? [Any]).map { $0.map { "\($0)" }.joined(separator: ",") } ?? "\(value)"
            }
        }
        func value(_ key: String) -> String? {
            let environmentName = Self.keys.first { $0.json == key }?.environment ?? ""
            return (flags[key] ?? nil) ?? environment[environmentName] ?? file[key]
        }
        var settings = ServerConfiguration()
        if let host = value("host") { settings.host = host }
        if let port = value("port") {
            guard let number = Int(port), (0...65535).contains(number) else {
                throw ValidationError("The port '\(port)' is not a number from 0 to 65535.")
            }
            settings.port = number
        }
        settings.publicURL = value("publicURL")
        if let directory = value("dataDir") { settings.dataDirectory = URL(fileURLWithPath: directory) }
        if let file = value("secretFile"), !file.isEmpty { settings.secretFile = URL(fileURLWithPath: file) }
        if let url = value("databaseURL"), !url.isEmpty {
            do {
                settings.database = try PostgreSQLAddress(url)
            } catch let error as InvalidDatabaseURL {
                throw ValidationError(error.description)
            }
        }
        if let days = value("quarantineDays") {
            guard let number = Int(days), number >= 1 else {
                throw ValidationError("quarantineDays must be a whole number of days, at least 1.")
            }
            settings.quarantineRetentionDays = number
        }
        if let hours = value("deletionDelayHours") {
            guard let number = Int(hours), (1...8760).contains(number) else {
                throw ValidationError("deletionDelayHours must be a whole number of hours from 1 to 8760.")
            }
            settings.deletionDelayHours = number
        }
        if let days = value("refreshTokenIdleDays") {
            guard let number = Int(days), (1...3650).contains(number) else {
                throw ValidationError("refreshTokenIdleDays must be a whole number of days from 1 to 3650.")
            }
            settings.refreshTokenIdleDays = number
        }
        switch value("mail") ?? "file" {
        case "file": settings.mail = .file
        case "sendmail":
            let command =
                value("sendmailCommand")?.split(separator: " ").map(String.init) ?? ["/usr/sbin/sendmail", "-t", "-i"]
            settings.mail = .sendmail(command: command)
        case let other: throw ValidationError("The mail transport '\(other)' is unknown: use file or sendmail.")
        }
        if let sender = value("mailFrom") { settings.mailSender = sender }
        if let proxies = value("trustedProxies") {
            settings.trustedProxies = try proxies.split(separator: ",").map { text in
                guard let range = IPRange(String(text)) else {
                    throw ValidationError(
                        "'\(text)' is not an address or a CIDR range (such as 127.0.0.1 or 10.0.0.0/8) for a trusted proxy."
                    )
                }
                return range
            }
        }
        func seconds(_ key: String, _ keyPath: WritableKeyPath<ConnectionLimits, Duration>) throws {
            guard let text = value(key) else { return }
            guard let number = Int(text), (1...86_400).contains(number) else {
                throw ValidationError("\(key) must be a whole number of seconds from 1 to 86400.")
            }
            settings.connectionLimits[keyPath: keyPath] = .seconds(number)
        }
        try seconds("headTimeout", \.headTimeout)
        try seconds("bodyTimeout", \.bodyTimeout)
        try seconds("idleTimeout", \.idleTimeout)
        if let text = value("connectionsPerAddress") {
            guard let number = Int(text), (1...100_000).contains(number) else {
                throw ValidationError("connectionsPerAddress must be a whole number from 1 to 100000.")
            }
            settings.connectionLimits.connectionsPerAddress = number
        }
        if let text = value("attemptsPerAddress") {
            guard let number = Int(text), (1...1_000_000).contains(number) else {
                throw ValidationError("attemptsPerAddress must be a whole number from 1 to 1000000.")
            }
            settings.attemptsPerAddress = number
        }
        if let level = value("logLevel") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ValidationError(
                    "The log level '\(level)' is unknown: use trace, debug, info, notice, warning, error or critical.")
            }
            settings.logLevel = parsed
        }
        return settings
    }
}

/// `coffer-server record-restore`: the operator's step after putting a backup of the data directory
/// back, before starting the server on it.
///
/// Devices remember newer state than a backup holds, and refuse an older one as they would a
/// rollback attack. The record tells them (and each account's activity) that a restore happened, so
/// they put back what the backup lacked instead of stopping — they never take the older data.
struct RecordRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record-restore",
        abstract: "Record that the data directory was restored from a backup (run it before starting the server).")

    @ParentCommand var server: CofferServerCommand

    @Argument(help: "The restored data directory; without it, the server's settings (--data-dir or --database-url).")
    var dataDirectory: String?

    func run() async throws {
        umask(0o077)
        var settings = try server.settings()
        if let dataDirectory {
            settings.dataDirectory = URL(fileURLWithPath: dataDirectory)
            settings.database = nil
        }
        let file = settings.dataDirectory.appendingPathComponent(SQLiteDriver.databaseFileName).path
        guard settings.database != nil || FileManager.default.fileExists(atPath: file) else {
            throw ValidationError(
                "\(settings.dataDirectory.path) holds no Coffer database (\(SQLiteDriver.databaseFileName)); give the restored data directory."
            )
        }
        let storage = try settings.openStorage(logger: Logger(label: "coffer-server"))
        let accounts = try await storage.withConnections {
            try await storage.migrate()
            return try await storage.recordRestore(at: Date())
        }
        print(
            "Recorded the restore for \(accounts) account(s). Start the server; each device puts back what the backup lacked at its next sync, after telling its user (`coffer sync --yes` in scripts)."
        )
    }
}

/// `coffer-server migrate`: creates or upgrades the database's schema and exits, so a deployment
/// upgrades its schema once, before new server processes start (they also migrate at start-up;
/// the migrations hold a lock, so several starting together migrate once).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the database schema (SQLite under --data-dir, or --database-url) and exit.")

    @ParentCommand var server: CofferServerCommand

    func run() async throws {
        umask(0o077)
        let settings = try server.settings()
        let logger = Logger(label: "coffer-server")
        let storage = try settings.openStorage(logger: logger)
        try await storage.withConnections { try await storage.migrate() }
        print(
            "The database is at the schema this coffer-server expects (\(settings.database?.description ?? settings.dataDirectory.path))."
        )
    }
}

/// `coffer-server copy-data`: moves a deployment from its SQLite database to PostgreSQL. The
/// servers are stopped first; the source is only read.
struct CopyData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-data",
        abstract: "Copy every account from a SQLite database into an empty PostgreSQL database, and verify the copy.",
        discussion: """
            Stop the server first: writes made during the copy would not be in it. The target must be empty; \
            its schema is created. Afterwards, start the servers with --database-url and the same server secret \
            file (docs/operations.md, "Moving from SQLite to PostgreSQL").
            """)

    @Option(help: "The source: sqlite:DATA_DIR (the server's --data-dir) or sqlite:PATH/coffer.sqlite.")
    var from: String

    @Option(
        help: "The target postgres:// URL (default: COFFER_SERVER_DATABASE_URL, where a URL with a password belongs).")
    var to: String?

    func run() async throws {
        umask(0o077)
        guard from.hasPrefix("sqlite:") else {
            throw ValidationError("--from must be sqlite:DATA_DIR (the server's data directory).")
        }
        var directory = URL(fileURLWithPath: String(from.dropFirst("sqlite:".count)))
        if directory.lastPathComponent == SQLiteDriver.databaseFileName { directory.deleteLastPathComponent() }
        guard
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(SQLiteDriver.databaseFileName).path)
        else {
            throw ValidationError("\(directory.path) holds no Coffer database (\(SQLiteDriver.databaseFileName)).")
        }
        let environmentURL = ProcessInfo.processInfo.environment["COFFER_SERVER_DATABASE_URL"]
        guard let text = to ?? environmentURL else {
            throw ValidationError(
                "Give the target with --to postgres://USER@HOST:PORT/DATABASE or COFFER_SERVER_DATABASE_URL.")
        }
        let address: PostgreSQLAddress
        do {
            address = try PostgreSQLAddress(text)
        } catch let error as InvalidDatabaseURL {
            throw ValidationError(error.description)
        }
        if to != nil, address.password != nil {
            throw ValidationError(
                "A password in --to is visible to every user of this machine (ps). Put the URL in COFFER_SERVER_DATABASE_URL instead."
            )
        }
        let source = try SQLiteDriver(directory: directory)
        let target = PostgreSQLDriver(address: address, logger: Logger(label: "coffer-server"))
        let report = try await target.withConnections {
            try await DatabaseCopy(from: source, to: target).run()
        }
        for (table, rows) in report.tables { print("\(table): \(rows) rows") }
        print(
            "Copied and verified (SHA-256 \(report.checksum)) into \(address). Start the servers with --database-url and the same server secret file."
        )
    }
}
