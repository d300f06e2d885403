public import CofferAgentTransport
public import CofferModel
import Foundation

/// A way to reach an unlocked vault: the agent's socket, or a session in this process.
public protocol VaultAccess {
    /// Answers `call` on the unlocked vault.
    func call<Call: VaultCall>(_ call: Call) throws(AgentFailure) -> Call.Answer
}

/// A session opened by this process with the master password, for when no agent runs.
public struct InProcessVault: VaultAccess {
    private let vault: VaultContext

    /// Serves calls from `session`.
    public init(session: VaultSession) {
        vault = VaultContext(session: session, isLocked: true, pinEnabled: false)
    }

    /// Answers `call` in this process.
    public func call<Call: VaultCall>(_ call: Call) throws(AgentFailure) -> Call.Answer { try vault.answer(call) }
}

extension VaultAccess {
    /// Answers a call whose answer comes in bulk (items, summaries), as its elements.
    public func elements<Call: VaultCall, Element>(of call: Call) throws(AgentFailure) -> [Element]
    where Call.Answer == Batch<Element> {
        try self.call(call).elements
    }

    /// The values `references` name (``ResolveReferences``): every one, or an error.
    public func values(of references: [SecretReference]) throws(AgentFailure) -> [SecretReference: String] {
        guard !references.isEmpty else { return [:] }
        let values = try call(ResolveReferences(references))
        guard values.count == references.count else { throw AgentProtocol.malformed }
        return Dictionary(zip(references, values), uniquingKeysWith: { first, _ in first })
    }
}
