import CofferAgentTransport
import Foundation

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

/// The protocol's envelopes, in the transport's frames (`Frame`: a JSON envelope, then the bulk
/// section that ``Batch`` values write their elements into). A call's envelope is `{"version":N,"call":NAME,
/// "body":…}`; an answer's is `{"version":N,"answer":…}` or `{"version":N,"failure":…}`. The
/// protocol is versioned as a whole: a peer of another version gets a clear error, never a guess.
public enum AgentProtocol {
    /// Bumped on any incompatible change to a call, an answer or the framing.
    public static let version = 7

    private struct VersionOnly: Codable { var version: Int }

    private struct CallName: Codable {
        var version: Int
        var call: String
    }

    private struct CallEnvelope<Call: AgentCall>: Codable {
        var version: Int
        var call: String
        var body: Call
    }

    private struct AnswerEnvelope<Answer: Codable>: Codable {
        var version: Int
        var answer: Answer?
        var failure: AgentFailure?
    }

    /// The frame that carries `call`.
    static func frame<Call: AgentCall>(call: Call) throws(AgentFailure) -> Data {
        do {
            return try Frame.encode(CallEnvelope(version: version, call: Call.name, body: call))
        } catch {
            throw AgentFailure(.invalidInput, "The request could not be encoded.")
        }
    }

    /// The call a frame carries, of whichever type its name says.
    static func call(from frame: Data) throws(AgentFailure) -> any AgentCall {
        let parts = try envelope(of: frame)
        guard let name = try? parts.decode(CallName.self) else { throw malformed }
        guard let type = AgentCalls.byName[name.call] else {
            throw AgentFailure(
                .agentUnavailable,
                "The agent does not know the request '\(name.call)'. Run `coffer lock` and unlock again.")
        }
        return try body(of: type, parts)
    }

    private static func body<Call: AgentCall>(of type: Call.Type, _ parts: Frame.Parts) throws(AgentFailure) -> Call {
        guard let envelope = try? parts.decode(CallEnvelope<Call>.self) else { throw malformed }
        return envelope.body
    }

    /// The frame that answers with `result`; a failure frame when the answer cannot be encoded.
    static func frame<Answer: Codable>(answer result: Result<Answer, AgentFailure>) -> Data {
        let envelope: AnswerEnvelope<Answer> =
            switch result {
            case .success(let answer): AnswerEnvelope(version: version, answer: answer)
            case .failure(let failure): AnswerEnvelope(version: version, failure: failure)
            }
        if let data = try? Frame.encode(envelope) { return data }
        let failure = AgentFailure(.storage, "The agent could not encode its answer.")
        // Encoding a failure alone cannot fail: it is a few strings.
        return (try? Frame.encode(AnswerEnvelope<Answer>(version: version, failure: failure))) ?? Data()
    }

    /// The answer a frame carries: `Answer`, or the failure it reports.
    static func answer<Answer: Codable>(_ type: Answer.Type, from frame: Data) throws(AgentFailure) -> Answer {
        let parts = try envelope(of: frame)
        let envelope: AnswerEnvelope<Answer>
        do {
            envelope = try parts.decode(AnswerEnvelope<Answer>.self)
        } catch {
            throw malformed
        }
        if let failure = envelope.failure { throw failure }
        guard let answer = envelope.answer else { throw malformed }
        return answer
    }

    /// The parts of a frame of this protocol version.
    private static func envelope(of frame: Data) throws(AgentFailure) -> Frame.Parts {
        guard let parts = Frame.Parts(frame),
            let peer = try? JSONDecoder().decode(VersionOnly.self, from: parts.envelope)
        else {
            // A peer of protocol 5 or earlier sent its envelope alone; name its version if it says one.
            if let peer = try? JSONDecoder().decode(VersionOnly.self, from: frame), peer.version != version {
                throw mismatch(peer.version)
            }
            throw AgentFailure(
                .agentUnavailable,
                "The agent sent a message this version of Coffer cannot read. Run `coffer lock` and unlock again.")
        }
        guard peer.version == version else { throw mismatch(peer.version) }
        return parts
    }

    static let malformed = AgentFailure(
        .agentUnavailable, "A malformed message reached the agent or came back from it.")

    private static func mismatch(_ peerVersion: Int) -> AgentFailure {
        AgentFailure(
            .agentUnavailable,
            "The running agent speaks protocol version \(peerVersion), this coffer speaks \(version): run `coffer lock` and unlock again."
        )
    }
}
