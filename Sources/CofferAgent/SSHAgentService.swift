import CSystemSupport
import CofferAgentTransport
import CofferModel
import CofferSSH
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How the agent asks before each use of an SSH key: an askpass program on the user's display, as
/// `ssh-agent -c` does.
public struct SSHConfirmation: Codable, Sendable, Equatable {
    /// The askpass program (`SSH_ASKPASS`, or Debian's `/usr/bin/ssh-askpass`).
    public var program: String
    /// The display variables the program needs (`DISPLAY`, `WAYLAND_DISPLAY`, `XAUTHORITY`).
    public var environment: [String: String]

    /// A confirmation through `program` with `environment`.
    public init(program: String, environment: [String: String]) {
        self.program = program
        self.environment = environment
    }
}

/// What `coffer ssh-agent` reports.
public struct SSHAgentStatus: Codable, Sendable, Equatable {
    /// The socket to put in `SSH_AUTH_SOCK`.
    public var socketPath: String
    /// The SSH keys the vault holds that the agent can use.
    public var keyCount: Int
    /// SSH-key items whose key cannot be used, with the reason (shown, never silently skipped).
    public var unusable: [String]
    /// Whether each use asks for confirmation.
    public var confirms: Bool
}

/// Serves the vault's SSH-key items over the ssh-agent protocol while the vault is unlocked.
///
/// Runs inside the agent's single-threaded loop: the agent polls ``descriptors`` with its own and
/// hands each readable one to ``serve(_:session:)``. Parsed keys are cached per item version and
/// dropped with ``forgetKeys()`` when the vault locks. Using a key does not count as activity: the
/// idle timeout is about the person at the keyboard, and a script signing every minute must not keep
/// the vault open forever.
final class SSHAgentService {
    private let socketPath: String
    private var listener: UnixSocket?
    private var connections: [Int32: UnixSocket] = [:]
    private var confirmation: SSHConfirmation?
    private var cache: [UUID: (modified: Date, key: Result<SSHPrivateKey, SSHKeyError>)] = [:]

    /// How long a confirmation may wait for its answer.
    static let confirmationTimeoutMilliseconds: Int32 = 60_000
    /// Open connections beyond this are refused, so no local program can exhaust the agent's descriptors.
    static let maximumConnections = 64

    init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Every descriptor the agent's loop should poll for this service.
    var descriptors: [Int32] { (listener.map { [$0.descriptor] } ?? []) + connections.keys.sorted() }

    /// Starts listening if not yet; confirmation, once asked for, stays on until the agent stops.
    func start(confirmation: SSHConfirmation?, session: VaultSession) throws(AgentFailure) -> SSHAgentStatus {
        if listener == nil {
            do {
                listener = try UnixSocket.listen(at: socketPath)
            } catch {
                throw AgentFailure(error)
            }
        }
        if let confirmation { self.confirmation = confirmation }
        let keys = identities(in: session)
        return SSHAgentStatus(
            socketPath: socketPath, keyCount: keys.usable.count, unusable: keys.unusable,
            confirms: self.confirmation != nil)
    }

    /// Closes the socket (the agent is stopping).
    func stop() {
        for connection in connections.values { connection.close() }
        connections = [:]
        if let listener {
            listener.close()
            unlink(socketPath)
        }
        listener = nil
        forgetKeys()
    }

    /// Drops every parsed key from memory.
    func forgetKeys() { cache = [:] }

    /// Accepts a connection or answers one message on `descriptor`.
    func serve(_ descriptor: Int32, session: VaultSession?) {
        if let listener, descriptor == listener.descriptor {
            guard let connection = listener.acceptConnection() else { return }
            // Only the agent's own user may use the keys; the directory is owner-only too.
            guard connection.peerUID == getuid(), connections.count < Self.maximumConnections else {
                return connection.close()
            }
            connections[connection.descriptor] = connection
            return
        }
        guard let connection = connections[descriptor] else { return }
        guard let message = try? Array(connection.readMessage(maximumLength: SSHAgentProtocol.maximumMessageLength))
        else {
            connection.close()
            connections[descriptor] = nil
            return
        }
        let answer = self.answer(to: message, session: session)
        if (try? connection.writeRaw(SSHAgentProtocol.frame(answer))) == nil {
            connection.close()
            connections[descriptor] = nil
        }
    }

    private func answer(to message: [UInt8], session: VaultSession?) -> [UInt8] {
        guard let session else {
            // Locked: no keys to offer, as a locked ssh-agent answers.
            forgetKeys()
            return SSHAgentProtocol.parse(message) == .listIdentities
                ? SSHAgentProtocol.identities([]) : SSHAgentProtocol.failure
        }
        // Keys added by another process or a sync since the last request count at once.
        try? session.refreshIfChanged()
        switch SSHAgentProtocol.parse(message) {
        case .listIdentities:
            return SSHAgentProtocol.identities(identities(in: session).usable)
        case .sign(let blob, let data, let flags):
            guard let identity = identities(in: session).usable.first(where: { $0.key.publicKeyBlob == blob }),
                confirmed(identity),
                let signature = try? identity.key.sign(data, flags: flags)
            else { return SSHAgentProtocol.failure }
            return SSHAgentProtocol.signature(signature)
        case .unsupported, nil:
            return SSHAgentProtocol.failure
        }
    }

    private func identities(in session: VaultSession) -> (usable: [SSHAgentProtocol.Identity], unusable: [String]) {
        var usable: [SSHAgentProtocol.Identity] = []
        var unusable: [String] = []
        // A vault file that cannot be read offers no key (the command that reads it next says why).
        let items = ((try? session.list(ItemFilter(type: .sshKey))) ?? []).sorted { $0.title < $1.title }
        for item in items {
            switch key(of: item) {
            case .success(let key): usable.append(.init(key: key, comment: item.title))
            case .failure(let error): unusable.append("\"\(item.title)\": \(error)")
            }
        }
        return (usable, unusable)
    }

    private func key(of item: Item) -> Result<SSHPrivateKey, SSHKeyError> {
        if let cached = cache[item.id], cached.modified == item.modified { return cached.key }
        let passphrase = item.value(of: "passphrase").flatMap { $0.isEmpty ? nil : $0 }
        let key = Result { () throws(SSHKeyError) in
            try OpenSSHKeyFile.read(item.value(of: "private-key") ?? "", passphrase: passphrase)
        }
        cache[item.id] = (item.modified, key)
        return key
    }

    /// Asks the askpass program, when confirmation is on; exit status 0 means yes.
    private func confirmed(_ identity: SSHAgentProtocol.Identity) -> Bool {
        guard let confirmation else { return true }
        let prompt = "Allow use of the SSH key \"\(identity.comment)\"?\nKey fingerprint \(identity.key.fingerprint)."
        let environment = confirmation.environment.merging(["SSH_ASKPASS_PROMPT": "confirm"]) { $1 }
        let arguments = [confirmation.program, prompt]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        let pid = coffer_spawn_with_environment(confirmation.program, &argv, &envp, -1, -1)
        // The agent serves nothing else while it asks (as `ssh-agent -c`); a question nobody answers
        // within a minute is a refusal, so a hung askpass cannot hold the agent.
        return pid > 0 && coffer_wait_for_exit_within(pid, Self.confirmationTimeoutMilliseconds) == 0
    }
}
