import CSystemSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Talks to a running agent, one request per connection.
public struct AgentClient: VaultAccess {
    private let socketPath: String

    /// A client for the agent of `paths`, if one is listening.
    public static func connectIfRunning(_ paths: ProfilePaths) -> AgentClient? {
        guard let socket = try? UnixSocket.connect(to: paths.agentSocket) else { return nil }
        socket.close()
        return AgentClient(socketPath: paths.agentSocket)
    }

    /// Sends `call` over a fresh connection and returns its answer.
    public func call<Call: AgentCall>(_ call: Call) throws(AgentFailure) -> Call.Answer {
        guard let socket = try UnixSocket.connect(to: socketPath, answerTimeout: Call.patience.seconds) else {
            throw AgentFailure(.agentUnavailable, "The agent stopped. Run `coffer unlock` again.")
        }
        defer { socket.close() }
        try socket.writeFrame(try AgentProtocol.frame(call: call))
        return try AgentProtocol.answer(Call.Answer.self, from: socket.readFrame())
    }

    /// The agent's state.
    public func state() throws(AgentFailure) -> AgentState { try call(ReadAgentState()) }

    /// Returns the running agent, starting `executable agent` in the background first if none runs.
    public static func launch(_ paths: ProfilePaths, executable: String) throws(AgentFailure) -> AgentClient {
        if let running = connectIfRunning(paths) { return running }
        do {
            try ProfilePaths.makeOwnerOnlyDirectory(paths.agentDirectory)
        } catch {
            throw AgentFailure(.agentUnavailable, "Cannot create the agent's directory \(paths.agentDirectory).")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw AgentFailure(.agentUnavailable, "Cannot start the agent (no pipe).") }
        let arguments = ["coffer", "agent"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let pid = coffer_spawn_detached(executable, &argv, pipeEnds[1])
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard pid > 0 else { throw AgentFailure(.agentUnavailable, "Cannot start the agent from \(executable).") }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(pipeEnds[0], &buffer, buffer.count)
        guard count > 0, String(decoding: buffer.prefix(count), as: UTF8.self).hasPrefix("ready"),
            let client = connectIfRunning(paths)
        else {
            throw AgentFailure(
                .agentUnavailable, "The agent did not start. Check that \(paths.agentDirectory) is writable.")
        }
        return client
    }
}
