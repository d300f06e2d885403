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
    case mergeRecovered(ItemBatch)
    /// Imports items, finding duplicates among the vault's items here (none of them crosses the
    /// socket), in one transaction; with `dryRun` only says what that would do.
    case importItems(ItemBatch, duplicates: DuplicateChoice, dryRun: Bool)
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
    case items(ItemBatch)
    /// Values of secret references, in the order asked.
    case values([String])
    case summaries(SummaryBatch)
    case status(VaultStatus)
    case agentState(AgentState)
    case syncReport(SyncReport)
    case devices([DeviceSummary])
    case events([AccountEvent])
    case deletions([PendingDeletion])
    case emailConfirmation(EmailConfirmation)
    case merged(RecoveryMerge)
    case imported(ImportOutcome)
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
///
/// A frame is a 4-byte big-endian length of the JSON envelope, the envelope (`{"version":N,
/// "body":…}`, written by `JSONEncoder`), then the item section that ``ItemBatch`` values write
/// their items into.
public enum AgentProtocol {
    /// Bumped on any incompatible change to the enums above or to the framing.
    public static let version = 6
    /// The largest frame either side accepts (a listing of a very large vault fits).
    static let maximumFrame = 512 * 1024 * 1024

    struct VersionOnly: Codable { var version: Int }

    struct Envelope<Body: Codable>: Codable {
        var version: Int
        var body: Body
    }

    static func encode<Body: Codable>(_ body: Body) throws -> Data {
        let section = ItemSection.Writer()
        let encoder = JSONEncoder()
        encoder.userInfo[ItemSection.key] = section
        let envelope = try encoder.encode(Envelope(version: version, body: body))
        var length = UInt32(envelope.count).bigEndian
        var frame = Data(bytes: &length, count: 4)
        frame.reserveCapacity(4 + envelope.count + section.byteCount)
        frame.append(envelope)
        section.append(to: &frame)
        return frame
    }

    static func decode<Body: Codable>(_ type: Body.Type, from frame: Data) throws(AgentFailure) -> Body {
        let parts = split(frame)
        guard let parts, let peer = try? JSONDecoder().decode(VersionOnly.self, from: parts.envelope) else {
            // A peer of protocol 5 or earlier sent its envelope alone; name its version if it says one.
            if let peer = try? JSONDecoder().decode(VersionOnly.self, from: frame), peer.version != version {
                throw mismatch(peer.version)
            }
            throw AgentFailure(
                .agentUnavailable,
                "The agent sent a message this version of Coffer cannot read. Run `coffer lock` and unlock again.")
        }
        guard peer.version == version else { throw mismatch(peer.version) }
        let decoder = JSONDecoder()
        decoder.userInfo[ItemSection.key] = ItemSection.Reader(parts.items)
        guard let envelope = try? decoder.decode(Envelope<Body>.self, from: parts.envelope) else { throw malformed }
        return envelope.body
    }

    static let malformed = AgentFailure(
        .agentUnavailable, "A malformed message reached the agent or came back from it.")

    private static func split(_ frame: Data) -> (envelope: Data, items: Data)? {
        guard frame.count >= 4 else { return nil }
        let start = frame.startIndex
        let length = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard length <= frame.count - 4 else { return nil }
        return (frame[(start + 4)..<(start + 4 + length)], frame[(start + 4 + length)...])
    }

    private static func mismatch(_ peerVersion: Int) -> AgentFailure {
        AgentFailure(
            .agentUnavailable,
            "The running agent speaks protocol version \(peerVersion), this coffer speaks \(version): run `coffer lock` and unlock again."
        )
    }
}
