public import Foundation

/// Hands the agent an account key opened by the CLI, and the idle timeout.
public struct UnlockVault: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "unlock"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// The account key's bytes (crossing only the owner-only socket).
    public var accountKey: Data
    /// Seconds without calls before the agent locks.
    public var idleTimeoutSeconds: Int

    /// Unlocks with `accountKey`, locking after `idleTimeoutSeconds` of inactivity.
    public init(accountKey: Data, idleTimeoutSeconds: Int) {
        self.accountKey = accountKey
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) throws -> AgentState {
        try agent.unlock(accountKey: accountKey, idleTimeoutSeconds: idleTimeoutSeconds)
    }
}

/// Unlocks with the PIN-wrapped copy of the key the agent holds.
public struct UnlockWithPIN: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "unlock-with-pin"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// The PIN the user typed.
    public var pin: String

    /// Unlocks with `pin`.
    public init(pin: String) { self.pin = pin }

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) throws -> AgentState { try agent.unlock(pin: pin) }
}

/// Keeps a copy of the key wrapped under a PIN, for quick unlock after an idle lock.
public struct SetPIN: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "set-pin"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// The new PIN.
    public var pin: String

    /// Sets `pin`.
    public init(pin: String) { self.pin = pin }

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) throws -> Done {
        try agent.setPIN(pin)
        return Done()
    }
}

/// Erases the PIN-wrapped copy of the key.
public struct ClearPIN: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "clear-pin"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local

    /// The call.
    public init() {}

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) -> Done {
        agent.clearPIN()
        return Done()
    }
}

/// Forgets the key now (after backing up changes held back).
public struct LockVault: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "lock"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local

    /// The call.
    public init() {}

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) -> Done {
        agent.lock()
        return Done()
    }
}

/// What the agent holds.
public struct ReadAgentState: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "agent-state"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local

    /// The call.
    public init() {}

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) -> AgentState { agent.state }
}

/// Serves the vault's SSH keys on the agent's ssh-agent socket, asking before each use when
/// `confirmation` says how (and from then on until the agent stops).
public struct ServeSSHKeys: KeyHolderCall {
    /// The call's name on the socket.
    public static let name = "serve-ssh-keys"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// How to ask before each use; `nil` never asks.
    public var confirmation: SSHConfirmation?

    /// Serves the keys, confirming each use through `confirmation`.
    public init(confirmation: SSHConfirmation?) { self.confirmation = confirmation }

    /// Answers from what the agent holds.
    public func answer(by agent: AgentServer) throws -> SSHAgentStatus { try agent.serveSSHKeys(confirmation) }
}
