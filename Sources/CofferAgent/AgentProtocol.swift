public import CofferAPI
public import CofferClient
public import CofferModel
public import Foundation

/// A request to the vault, served by the agent over its socket or in-process when no agent runs.
///
/// The protocol is a few Codable enums in length-prefixed JSON frames, versioned as a whole
/// (`AgentProtocol.version`); a peer with another version gets a clear error, never a guess.
public enum AgentRequest: Codable, Sendable {
    case status
    /// Whole items passing the filter (export, import's preview, recovery).
    case list(ItemFilter)
    /// Whole items matching the query.
    case search(query: String, filter: ItemFilter)
    /// Summaries of the items passing the filter and, with a query, matching it best first: what
    /// `coffer list` and `coffer search` print, without any item's secrets crossing the socket.
    case summaries(filter: ItemFilter, query: String?)
    case resolve(name: String, scope: ItemScope)
    /// The values secret references name, in order; all or nothing.
    case resolveReferences([SecretReference])
    case add(Item)
    case update(Item)
    case trash(id: UUID)
    case restore(id: UUID)
    case purge(id: UUID)
    /// Hands the agent an account key opened by the CLI, and the idle timeout.
    case unlock(accountKey: Data, idleTimeoutSeconds: Int)
    case unlockWithPIN(pin: String)
    case setPIN(pin: String)
    case clearPIN
    case lock
    case agentState
    /// Syncs with the server now.
    case sync
    /// Syncs, putting back on the server what it lost (the user agreed).
    case healServer
    /// Lists the account's signed-in devices.
    case devices
    /// Signs a device out.
    case revokeDevice(id: UUID)
    /// Lists the account's events.
    case accountEvents
    /// Mails a new address-confirmation link unless the address is confirmed.
    case confirmEmail
    /// Deletions of safety nets asked for and not yet carried out.
    case pendingDeletions
    /// Cancels a pending deletion (no password needed: cancelling never loses data).
    case cancelDeletion(id: UUID)
    /// Signs this device out and makes the vault local-only.
    case logout
    /// Adds items recovered from an older key epoch (a device archive or the server's quarantine),
    /// re-encrypted under the current account key; see ``VaultSession/mergeRecovered(_:)``.
    case mergeRecovered([Item])
    /// Adds imported items and replaces merged ones, in one transaction.
    case importItems(adding: [Item], updating: [Item])
    /// Serves the vault's SSH keys on the agent's ssh-agent socket, asking before each use when
    /// `confirmation` says how (and from then on until the agent stops).
    case serveSSHKeys(confirmation: SSHConfirmation?)
    /// Makes, lists, verifies or restores backups, in the folder `settings` names.
    case backup(BackupCommand, settings: BackupSettings)
}

/// The answer to an `AgentRequest`.
public enum AgentResponse: Codable, Sendable {
    case done
    case item(Item)
    case items([Item])
    /// Values of secret references, in the order asked.
    case values([String])
    case summaries([ItemSummary])
    case status(VaultStatus)
    case agentState(AgentState)
    case syncReport(SyncReport)
    case devices([DeviceSummary])
    case events([AccountEvent])
    case deletions([PendingDeletion])
    case emailConfirmation(EmailConfirmation)
    case merged(RecoveryMerge)
    case backupCreated(path: String)
    case backups([BackupListing])
    case restored(RestoreSummary)
    case serverBackups([ServerBackup])
    case sshAgent(SSHAgentStatus)
    case failure(AgentFailure)
}

/// What the agent holds.
public struct AgentState: Codable, Sendable, Equatable {
    /// Whether the account key is in memory.
    public var isUnlocked: Bool
    /// Whether a PIN-wrapped copy of the key is in memory.
    public var hasPIN: Bool
    /// Wrong PINs left before the PIN copy is erased.
    public var pinAttemptsLeft: Int
    /// Seconds of inactivity before the agent locks.
    public var idleTimeoutSeconds: Int

    /// Creates a state.
    public init(isUnlocked: Bool, hasPIN: Bool, pinAttemptsLeft: Int, idleTimeoutSeconds: Int) {
        self.isUnlocked = isUnlocked
        self.hasPIN = hasPIN
        self.pinAttemptsLeft = pinAttemptsLeft
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// Framing shared by both ends of the socket.
public enum AgentProtocol {
    /// Bumped on any incompatible change to the enums above.
    public static let version = 5
    /// The largest frame either side accepts (a listing of a very large vault fits).
    static let maximumFrame = 512 * 1024 * 1024

    struct VersionOnly: Codable { var version: Int }

    struct Envelope<Body: Codable>: Codable {
        var version: Int
        var body: Body
    }

    static func encode<Body: Codable>(_ body: Body) throws -> Data {
        try JSONEncoder().encode(Envelope(version: version, body: body))
    }

    static func decode<Body: Codable>(_ type: Body.Type, from data: Data) throws(AgentFailure) -> Body {
        guard let peer = try? JSONDecoder().decode(VersionOnly.self, from: data) else {
            throw AgentFailure(
                .agentUnavailable,
                "The agent sent a message this version of Coffer cannot read. Run `coffer lock` and unlock again.")
        }
        guard peer.version == version else {
            throw AgentFailure(
                .agentUnavailable,
                "The running agent speaks protocol version \(peer.version), this coffer speaks \(version): run `coffer lock` and unlock again."
            )
        }
        guard let envelope = try? JSONDecoder().decode(Envelope<Body>.self, from: data) else {
            throw AgentFailure(.agentUnavailable, "A malformed message reached the agent or came back from it.")
        }
        return envelope.body
    }
}
