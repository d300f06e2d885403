public import CofferModel
import Foundation

/// A way to reach an unlocked vault: the agent's socket, or a session in this process.
public protocol VaultAccess {
    /// Sends one request and returns the answer; failures come back as `.failure`.
    func send(_ request: AgentRequest) throws(AgentFailure) -> AgentResponse
}

/// A session opened by this process with the master password, for when no agent runs.
public struct InProcessVault: VaultAccess {
    private let handler: VaultRequestHandler

    /// Serves requests from `session`.
    public init(session: VaultSession) {
        handler = VaultRequestHandler(session: session, isLocked: true, pinEnabled: false)
    }

    /// Handles the request in this process.
    public func send(_ request: AgentRequest) throws(AgentFailure) -> AgentResponse {
        handler.handle(request)
    }
}

extension VaultAccess {
    /// Sends a request that answers with one item.
    public func item(_ request: AgentRequest) throws(AgentFailure) -> Item {
        switch try send(request) {
        case .item(let item): return item
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// Sends a request that answers with items.
    public func items(_ request: AgentRequest) throws(AgentFailure) -> [Item] {
        switch try send(request) {
        case .items(let batch): return batch.elements
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// Asks for item summaries (`.summaries`).
    public func summaries(filter: ItemFilter, query: String? = nil) throws(AgentFailure) -> [ItemSummary] {
        switch try send(.summaries(filter: filter, query: query)) {
        case .summaries(let batch): return batch.elements
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// The values `references` name, in order (`.resolveReferences`): every one, or an error.
    public func values(of references: [SecretReference]) throws(AgentFailure) -> [SecretReference: String] {
        guard !references.isEmpty else { return [:] }
        switch try send(.resolveReferences(references)) {
        case .values(let values) where values.count == references.count:
            return Dictionary(zip(references, values), uniquingKeysWith: { first, _ in first })
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// Imports `items` (`.importItems`), or with `dryRun` says what that would do.
    public func importItems(_ items: [Item], duplicates: DuplicateChoice, dryRun: Bool) throws(AgentFailure)
        -> ImportOutcome
    {
        switch try send(.importItems(ItemBatch(items), duplicates: duplicates, dryRun: dryRun)) {
        case .imported(let outcome): return outcome
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// Asks for the vault's status.
    public func status() throws(AgentFailure) -> VaultStatus {
        switch try send(.status) {
        case .status(let status): return status
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    /// Sends a request that answers with `.done`.
    public func perform(_ request: AgentRequest) throws(AgentFailure) {
        switch try send(request) {
        case .done: return
        case .failure(let failure): throw failure
        default: throw Self.unexpected
        }
    }

    private static var unexpected: AgentFailure {
        AgentFailure(.agentUnavailable, "The agent gave an unexpected answer. Run `coffer lock` and unlock again.")
    }
}
