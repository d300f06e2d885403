import CofferAgentTransport
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
        let connection = Result { () throws(TransportFailure) in
            try UnixSocket.connect(to: socketPath, answerTimeout: Call.patience.seconds)
        }
        guard let socket = try connection.mapError({ AgentFailure($0) }).get() else {
            throw AgentFailure(.agentUnavailable, "The agent stopped. Run `coffer unlock` again.")
        }
        defer { socket.close() }
        do {
            try socket.writeMessage(try AgentProtocol.frame(call: call))
            return try AgentProtocol.answer(Call.Answer.self, from: socket.readMessage())
        } catch {
            throw AgentFailure(error)
        }
    }

    /// Ends the agent's process when it cannot be asked to lock: an agent of another protocol
    /// version left running by an upgrade, or one that stopped answering. Only a process of this
    /// user is signalled (the kernel names the socket's peer); returns once it no longer listens.
    public func stopProcess() throws(AgentFailure) {
        guard let socket = try? UnixSocket.connect(to: socketPath) else { return }
        let (uid, pid) = (socket.peerUID, socket.peerProcessID)
        socket.close()
        // The kernel names the process that listened; it is checked to be this user's still, as a
        // process id can be reused once its process is gone.
        guard uid == getuid(), let pid, pid > 1, Self.realUID(of: pid) == getuid(), kill(pid, SIGTERM) == 0 else {
            throw AgentFailure(
                .agentUnavailable, "The process listening at \(socketPath) could not be stopped; end it and try again.")
        }
        // SIGTERM ends it at once unless it inherited the signal ignored; then SIGKILL, after two seconds.
        for (signal, attempts) in [(SIGTERM, 200), (SIGKILL, 300)] {
            if signal == SIGKILL { kill(pid, SIGKILL) }
            for _ in 0..<attempts {
                guard let probe = try? UnixSocket.connect(to: socketPath) else { return }
                probe.close()
                usleep(10_000)
            }
        }
        throw AgentFailure(.agentUnavailable, "The agent (process \(pid)) did not stop; end it and try again.")
    }

    /// The real uid of process `pid` now, from `/proc`; `nil` when it is gone or unreadable.
    private static func realUID(of pid: Int32) -> UInt32? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line?.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { UInt32($0) }
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
        do {
            try DetachedProcess.startAndWaitUntilReady(executable: executable, arguments: ["coffer", "agent"])
        } catch {
            throw AgentFailure(
                .agentUnavailable, "\(error) Check that \(paths.agentDirectory) is writable and try again.")
        }
        guard let client = connectIfRunning(paths) else {
            throw AgentFailure(
                .agentUnavailable, "The agent did not start. Check that \(paths.agentDirectory) is writable.")
        }
        return client
    }
}
