public import Foundation
public import Logging

/// The server's settings; `coffer-server` reads them from flags, `COFFER_SERVER_*` variables and an
/// optional JSON file (in that order of precedence). Documented in docs/operations.md.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one.
    public var port = 8080
    /// The URL users reach the server at, for links in mail.
    public var publicURL: String?
    /// Where the SQLite database and the mail directory live.
    public var dataDirectory = URL(fileURLWithPath: "data")
    /// The server secret's file; `nil` keeps it in ``dataDirectory``. Several server processes on one
    /// database need the same secret: give each a copy, or one shared path.
    public var secretFile: URL?
    /// The PostgreSQL database several server processes share; `nil` keeps the embedded SQLite
    /// database in ``dataDirectory``.
    public var database: PostgreSQLAddress?
    /// Days a reset account's old data stays in quarantine.
    public var quarantineRetentionDays = 30
    /// Hours between confirming the deletion of a safety net (quarantine, server backup) and the
    /// deletion, so a device or the owner can still cancel what someone else asked for.
    public var deletionDelayHours = 72
    /// Days a device's sign-in lasts without being used (refreshed); then the device signs in again.
    public var refreshTokenIdleDays = 90
    /// How long e-mailed codes and reset links work, in seconds (security.md: one hour).
    public var emailCodeLifetimeSeconds = 3600
    /// How mail is delivered.
    public var mail: MailSetting = .file
    /// The From address of mail.
    public var mailSender = "Coffer <no-reply@localhost>"
    /// Log level.
    public var logLevel: Logger.Level = .info
    /// Reverse proxies whose `X-Forwarded-For` is believed, and whose connections are not capped.
    public var trustedProxies: [IPRange] = []
    /// Timeouts and the per-address connection cap.
    public var connectionLimits = ConnectionLimits()
    /// Logins, code requests and registrations one client address may make in five minutes, per kind.
    /// Raise it when many people share one address (a company behind one NAT without a trusted proxy).
    public var attemptsPerAddress = 100

    /// How mail leaves the server.
    public enum MailSetting: Sendable, Equatable {
        /// `.eml` files under `DATA/mail/`.
        case file
        /// Piped to a sendmail-compatible command.
        case sendmail(command: [String])
    }

    /// The defaults.
    public init() {}

    /// The URL links in mail point at.
    public func effectivePublicURL(boundPort: Int) -> String {
        publicURL ?? "http://\(host):\(boundPort)"
    }

    /// Refuses a sendmail command that does not exist, at start-up: otherwise every code and link
    /// would be lost quietly after the requests that sent them had answered.
    public func checkMailCommand() throws(MailSettingError) {
        guard case .sendmail(let command) = mail, let program = command.first else { return }
        let candidates =
            program.contains("/")
            ? [program]
            : (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":")
                .map { "\($0)/\(program)" }
        guard candidates.contains(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .missingCommand(program)
        }
    }

    /// The mail transport the settings describe; the server's outbox delivers through it, so no
    /// request waits for mail.
    public func mailTransport() -> any MailTransport {
        switch mail {
        case .file: FileMailTransport(directory: dataDirectory.appendingPathComponent("mail"), sender: mailSender)
        case .sendmail(let command): SendmailTransport(command: command, sender: mailSender)
        }
    }
}

/// Why the mail settings cannot work.
public enum MailSettingError: Error, CustomStringConvertible {
    /// The sendmail command is not an executable program.
    case missingCommand(String)

    /// What to do about it.
    public var description: String {
        switch self {
        case .missingCommand(let program):
            "The mail command \(program) does not exist or is not executable. Install a mail transfer agent (for example `apt-get install msmtp-mta` or `postfix`), set COFFER_SERVER_SENDMAIL_COMMAND to one, or use COFFER_SERVER_MAIL=file."
        }
    }
}

extension ServerConfiguration {
    /// Where the server secret is: ``secretFile``, or `server-secret` in the data directory.
    public var effectiveSecretFile: URL { secretFile ?? dataDirectory.appendingPathComponent("server-secret") }

    /// The storage these settings name: PostgreSQL when ``database`` is set, else SQLite in
    /// ``dataDirectory``. Nothing is opened on PostgreSQL until ``StorageConnection/withConnections(_:)``.
    public func openStorage(logger: Logger) throws -> RelationalServerStorage {
        if let database {
            return RelationalServerStorage(driver: PostgreSQLDriver(address: database, logger: logger))
        }
        return try RelationalServerStorage.sqlite(directory: dataDirectory)
    }
}
