import Foundation

/// Where a PostgreSQL database is, from a `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL
/// (`postgresql://` too). `?host=/run/postgresql` reaches the server through its socket directory;
/// `?sslmode=disable|prefer|require` chooses TLS (default: `disable` on loopback, `require`
/// elsewhere, so credentials never cross a network in clear by default).
public struct PostgreSQLAddress: Sendable, Equatable, CustomStringConvertible {
    /// TLS towards the database.
    public enum TLSMode: String, Sendable {
        /// Never.
        case disable
        /// When the server offers it.
        case prefer
        /// Always, with the system's trusted certificates.
        case require
    }

    /// The database user.
    public var user: String
    /// The password, if the URL has one.
    public var password: String?
    /// Host name or address.
    public var host: String
    /// The port (5432 unless given).
    public var port: Int
    /// The database name.
    public var database: String
    /// A socket directory to connect through instead of TCP.
    public var socketDirectory: String?
    /// TLS.
    public var tls: TLSMode

    /// The address without its password, for logs and messages.
    public var description: String {
        if let socketDirectory { return "\(user)@\(socketDirectory):\(port)/\(database)" }
        return "\(user)@\(host):\(port)/\(database)"
    }

    /// Parses `text`, or says what is wrong with it and what a good one looks like.
    public init(_ text: String) throws {
        let example = "postgres://USER@HOST:PORT/DATABASE"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw InvalidDatabaseURL("it is not a postgres:// URL; give one like \(example)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw InvalidDatabaseURL("it names no database user; give one like \(example)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw InvalidDatabaseURL("it names no database after the host; give one like \(example)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let unknown = Set(query.keys).subtracting(["host", "sslmode"])
        guard unknown.isEmpty else {
            throw InvalidDatabaseURL(
                "it has options Coffer does not know (\(unknown.sorted().joined(separator: ", "))); "
                    + "only host= (a socket directory) and sslmode= are read")
        }
        if let socket = query["host"], !socket.hasPrefix("/") {
            throw InvalidDatabaseURL("host= must be a socket directory such as /run/postgresql")
        }
        let host = components.host ?? ""
        guard !host.isEmpty || query["host"] != nil else {
            throw InvalidDatabaseURL("it names no host; give one like \(example)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw InvalidDatabaseURL("the port must be 1–65535")
        }
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased())
        let tls: TLSMode
        if let mode = query["sslmode"] {
            guard let parsed = TLSMode(rawValue: mode) else {
                throw InvalidDatabaseURL("sslmode must be disable, prefer or require")
            }
            tls = parsed
        } else {
            tls = loopback || query["host"] != nil ? .disable : .require
        }
        self.user = user
        password = components.password
        self.host = host
        self.port = port
        self.database = database
        socketDirectory = query["host"]
        self.tls = tls
    }
}

/// A database URL that cannot be used; the message says why without repeating the URL, which may
/// carry a password.
public struct InvalidDatabaseURL: Error, CustomStringConvertible {
    /// What is wrong and what to give instead.
    public var reason: String

    init(_ reason: String) { self.reason = reason }

    /// For the terminal.
    public var description: String { "The database URL cannot be used: \(reason)." }
}
