/// What can go wrong moving bytes between `coffer` and its agent. The transport knows nothing of
/// vaults; the agent's application layer turns these into the sentences the user reads.
public enum TransportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No socket could be made (descriptor limits and the like).
    case cannotCreateSocket(reason: String)
    /// The agent could not listen at `path`.
    case cannotListen(path: String, reason: String)
    /// The agent process could not be started.
    case cannotSpawn(reason: String)
    /// The peer closed the connection, stopped half-way, or took longer than allowed.
    case brokenConnection
    /// A frame or message claims more bytes than either side accepts.
    case tooLarge
    /// A frame whose lengths do not add up, or whose envelope is not JSON.
    case malformedFrame

    /// What happened, in a sentence without advice (the caller knows what to do next).
    public var description: String {
        switch self {
        case .cannotCreateSocket(let reason): "No socket could be created: \(reason)."
        case .cannotListen(let path, let reason): "Cannot listen at \(path): \(reason)."
        case .cannotSpawn(let reason): "The background process did not start: \(reason)."
        case .brokenConnection: "The connection broke off."
        case .tooLarge: "A message was larger than the 512 MiB either side accepts."
        case .malformedFrame: "A malformed message arrived."
        }
    }
}
