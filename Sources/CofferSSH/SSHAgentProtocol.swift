/// The messages of the ssh-agent protocol (draft-miller-ssh-agent) that an agent whose keys live
/// in a vault answers: listing identities and signing. Adding, removing and locking keys are
/// refused; keys are added to the vault instead.
public enum SSHAgentProtocol {
    /// OpenSSH's own limit for one message.
    public static let maximumMessageLength = 256 * 1024

    /// A request the agent understands.
    public enum Request: Equatable, Sendable {
        case listIdentities
        case sign(publicKeyBlob: [UInt8], data: [UInt8], flags: UInt32)
        /// Any other message, answered with a failure.
        case unsupported(UInt8)
    }

    /// One key the agent offers, with the comment ssh-add -l shows.
    public struct Identity: Sendable {
        /// The key.
        public let key: SSHPrivateKey
        /// What ssh-add -l prints after the fingerprint (the item's title).
        public let comment: String

        /// Pairs a key with the name shown for it.
        public init(key: SSHPrivateKey, comment: String) {
            self.key = key
            self.comment = comment
        }
    }

    private static let requestIdentities: UInt8 = 11
    private static let identitiesAnswer: UInt8 = 12
    private static let signRequest: UInt8 = 13
    private static let signResponse: UInt8 = 14
    private static let failureCode: UInt8 = 5

    /// Reads one message body (without its length); `nil` when it is malformed.
    public static func parse(_ message: [UInt8]) -> Request? {
        var reader = SSHReader(message)
        guard let type = try? reader.byte() else { return nil }
        switch type {
        case requestIdentities:
            return reader.isAtEnd ? .listIdentities : nil
        case signRequest:
            guard let blob = try? reader.string(), let data = try? reader.string(), let flags = try? reader.uint32(),
                reader.isAtEnd
            else { return nil }
            return .sign(publicKeyBlob: blob, data: data, flags: flags)
        default:
            return .unsupported(type)
        }
    }

    /// The answer listing `identities`.
    public static func identities(_ identities: [Identity]) -> [UInt8] {
        var writer = SSHWriter()
        writer.byte(identitiesAnswer)
        writer.uint32(UInt32(identities.count))
        for identity in identities {
            writer.string(identity.key.publicKeyBlob)
            writer.string(identity.comment)
        }
        return writer.bytes
    }

    /// The answer carrying a signature blob.
    public static func signature(_ blob: [UInt8]) -> [UInt8] {
        var writer = SSHWriter()
        writer.byte(signResponse)
        writer.string(blob)
        return writer.bytes
    }

    /// The generic failure answer.
    public static let failure: [UInt8] = [failureCode]

    /// Prefixes a message with its length, as it travels on the socket.
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        var writer = SSHWriter()
        writer.string(message)
        return writer.bytes
    }
}
