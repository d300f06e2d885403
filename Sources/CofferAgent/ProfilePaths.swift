import Foundation

/// Where one profile's files live: the vault, the agent's socket, the configuration.
///
/// `COFFER_HOME` puts all of them under one directory (tests and scripts use it); otherwise the XDG
/// directories of architecture.md are used.
public struct ProfilePaths: Sendable, Equatable {
    /// The SQLite vault file.
    public let vaultFile: String
    /// The owner-only directory that holds the agent's socket.
    public let agentDirectory: String
    /// The agent's socket.
    public var agentSocket: String { agentDirectory + "/agent.sock" }
    /// The ssh-agent socket the agent serves SSH keys on, after `coffer ssh-agent`.
    public var sshAgentSocket: String { agentDirectory + "/ssh-agent.sock" }
    /// The directory of the vault file.
    public var dataDirectory: String { (vaultFile as NSString).deletingLastPathComponent }
    /// The certificate authority (PEM) trusted for this profile's server besides the system's (`--ca-file`).
    public var serverCertificatesFile: String { dataDirectory + "/server-ca.pem" }

    /// Paths from the environment.
    public init(environment: [String: String] = ProfilePaths.variables()) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let cofferHome = environment["COFFER_HOME"], !cofferHome.isEmpty {
            let base = Self.absolute(cofferHome)
            vaultFile = base + "/vault.sqlite"
            agentDirectory = base + "/agent"
        } else {
            let data = environment["XDG_DATA_HOME"].map(Self.absolute) ?? home + "/.local/share"
            vaultFile = data + "/coffer/vault.sqlite"
            let runtime = environment["XDG_RUNTIME_DIR"].map(Self.absolute) ?? data + "/coffer"
            agentDirectory = runtime + "/coffer-agent"
        }
    }

    /// The few variables the paths depend on, read one by one: `ProcessInfo`'s `environment` copies
    /// every variable into a dictionary, half of what `coffer --version` spent before printing.
    public static func variables() -> [String: String] {
        var found: [String: String] = [:]
        for name in ["HOME", "COFFER_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"] {
            if let value = getenv(name) { found[name] = String(cString: value) }
        }
        return found
    }

    /// Creates a directory (and its parents) readable only by the owner.
    public static func makeOwnerOnlyDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
