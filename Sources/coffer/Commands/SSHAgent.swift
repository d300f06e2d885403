import ArgumentParser
import CofferAgent
import CofferSSH
import CofferStore
import Foundation

/// `coffer ssh-agent`: serves the vault's SSH keys to ssh, git and anything that reads `SSH_AUTH_SOCK`.
struct SSHAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-agent",
        abstract: "Serve the vault's SSH keys on an ssh-agent socket while the vault is unlocked.",
        discussion: """
            Prints the socket's path as the last line: `export SSH_AUTH_SOCK=$(coffer ssh-agent --print-socket)`. \
            The agent offers every SSH-key item (Ed25519, ECDSA P-256, RSA with SHA-2) and signs with it; the \
            private key never leaves the agent. When the vault locks, the socket offers no keys; when the agent \
            stops, the socket goes away. Adding or removing keys with ssh-add is refused: add them to the vault \
            with `coffer add ssh-key --private-key-file FILE` or `--generate`.
            """)

    @Flag(help: "Print only the socket's path.")
    var printSocket = false

    @Flag(
        help: """
            Ask before every use of a key, through SSH_ASKPASS (or /usr/bin/ssh-askpass) on your display; \
            stays on until the agent stops.
            """)
    var confirm = false

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let confirmation = confirm ? try Self.askpassConfirmation() : nil
        let agent = try Self.unlockedAgent(secrets: secrets.reader())
        let status = try agent.call(ServeSSHKeys(confirmation: confirmation))
        if !printSocket {
            Terminal.note(
                "Serving \(status.keyCount) SSH key(s)\(status.confirms ? ", asking before each use" : ""). Use it with: export SSH_AUTH_SOCK=\(status.socketPath)"
            )
        }
        for problem in status.unusable { Terminal.note("warning: cannot use the SSH key \(problem)") }
        print(status.socketPath)
    }

    /// The running agent when it holds the key; otherwise unlocks with the master password when one
    /// can be asked for, or fails with the locked exit code and a one-line hint.
    static func unlockedAgent(secrets: SecretReader) throws -> AgentClient {
        try VaultConnector(secrets: secrets).unlockedAgent()
    }

    /// The askpass program and display the agent will use to ask, checked now so a missing one is
    /// reported here rather than as a refused signature later.
    static func askpassConfirmation() throws -> SSHConfirmation {
        let environment = ProcessInfo.processInfo.environment
        let program = environment["SSH_ASKPASS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/ssh-askpass"
        guard program.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: program) else {
            throw AgentFailure(
                .unavailable,
                "--confirm asks through an askpass program, and \(program) is not one (give an absolute path in SSH_ASKPASS, or install Debian's ssh-askpass)."
            )
        }
        let display = environment.filter { ["DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"].contains($0.key) }
        return SSHConfirmation(program: program, environment: display)
    }
}
