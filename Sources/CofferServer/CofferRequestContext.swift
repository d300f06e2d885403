public import Foundation
public import Hummingbird
import NIOCore

/// The per-request context: the client's address (for rate limits and events) and, once
/// authenticated, the account and device.
public struct CofferRequestContext: RequestContext {
    /// Hummingbird's core storage.
    public var coreContext: CoreRequestContextStorage
    /// The address of the connection's other end (a reverse proxy, when there is one).
    public let peerAddress: String
    /// The client's IP address as text: the peer's, or the one a trusted proxy forwarded.
    public var clientAddress: String
    /// The authenticated session, set by the bearer-token check.
    public var session: AuthenticatedSession?

    /// Creates a context for a new request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        clientAddress = peerAddress
        session = nil
    }

    /// Bodies larger than this are refused with 413 (a large sync push fits).
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}

/// Who is making an authenticated request.
public struct AuthenticatedSession: Sendable {
    /// The account.
    public let accountID: UUID
    /// The device.
    public let deviceID: UUID
    /// The device's name.
    public let deviceName: String
}
