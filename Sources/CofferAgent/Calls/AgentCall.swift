import Foundation

/// One thing a `coffer` process asks of the vault, typed with its answer.
///
/// A call is a value of its own type, not a case of one big enum: the client gets back exactly
/// `Answer` (or an `AgentFailure`), so no command can meet an answer of the wrong kind, and each
/// call's handling sits beside its definition. On the socket a call travels by ``name``
/// (`AgentProtocol`); the names are the protocol's vocabulary and never reuse the server's HTTP
/// types' shapes by accident of an enum.
public protocol AgentCall: Codable, Sendable {
    /// What the call answers with.
    associatedtype Answer: Codable & Sendable
    /// The call's name on the socket; unique among ``AgentCalls/all``.
    static var name: String { get }
    /// How long a client waits for the answer.
    static var patience: AnswerPatience { get }
}

/// How long a client waits for an answer before it calls the agent stuck.
public enum AnswerPatience: Sendable {
    /// Read from memory or the vault file: a minute is already a hung agent.
    case local
    /// May wait for the server, or for the sync a change starts, each exchange under its own deadline.
    case mayWaitForServer

    /// The wait, in seconds.
    var seconds: Int {
        switch self {
        case .local: 60
        case .mayWaitForServer: 3600
        }
    }
}

extension AgentCall {
    /// Calls wait for the server unless they say otherwise.
    public static var patience: AnswerPatience { .mayWaitForServer }
}

/// The answer of a call that has nothing to say beyond having been done.
public struct Done: Codable, Sendable, Equatable {
    /// Done.
    public init() {}
}

/// A call any unlocked vault answers: the agent's session, or a session this process opened with
/// the master password. Calls that need the agent itself are ``KeyHolderCall``s instead, so sending
/// one to a vault without an agent does not compile.
public protocol VaultCall: AgentCall {
    /// What the call answers with.
    associatedtype Answer
    /// Answers the call on the unlocked vault `vault`.
    func answer(in vault: VaultContext) throws -> Answer
}

/// A call only the agent answers: it is about the key the agent holds, not about the vault.
public protocol KeyHolderCall: AgentCall {
    /// What the call answers with.
    associatedtype Answer
    /// Answers the call with the agent's state.
    func answer(by agent: AgentServer) throws -> Answer
}

/// Every call the agent knows, by name.
public enum AgentCalls {
    /// The protocol's vocabulary. A call missing here is refused by the agent as unknown.
    public static let all: [any AgentCall.Type] = [
        ReadStatus.self, ListItems.self, SearchItems.self, ListSummaries.self, ResolveItem.self,
        ResolveReferences.self, AddItem.self, UpdateItem.self, TrashItem.self, RestoreItem.self, PurgeItem.self,
        MergeRecovered.self, ImportItems.self,
        SyncNow.self, ListDevices.self, RevokeDevice.self, ListAccountEvents.self, SendEmailConfirmation.self,
        ListPendingDeletions.self, CancelDeletion.self, SignOut.self,
        CreateBackup.self, ListBackups.self, VerifyBackup.self, RestoreBackup.self, UploadBackup.self,
        ListServerBackups.self, DownloadBackup.self,
        UnlockVault.self, UnlockWithPIN.self, SetPIN.self, ClearPIN.self, LockVault.self, ReadAgentState.self,
        ServeSSHKeys.self,
    ]

    /// ``all`` by ``AgentCall/name``.
    static let byName: [String: any AgentCall.Type] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
}
