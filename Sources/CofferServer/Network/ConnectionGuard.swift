import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// How long a connection may take over each part of a request, and how many one address may hold.
public struct ConnectionLimits: Sendable, Equatable {
    /// From the connection's start (or the previous answer's end) to a complete request head.
    /// Closes slow-header ("slowloris") connections and idle keep-alive ones.
    public var headTimeout: Duration = .seconds(10)
    /// From a request's head to the end of its body: a body that never arrives frees its connection.
    public var bodyTimeout: Duration = .seconds(120)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// Open connections one client address may hold; trusted proxies are not counted.
    public var connectionsPerAddress = 64

    /// The defaults.
    public init() {}
}

/// Counts open connections per peer address, shared by every connection of the server.
final class ConnectionCounter: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    /// Counts one more connection from `address`; `false` (and nothing counted) when it already
    /// holds `limit`.
    func open(_ address: String, limit: Int) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
    }

    /// Forgets one connection from `address`.
    func close(_ address: String) {
        counts.withLockedValue { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}

/// Enforces ``ConnectionLimits`` on one connection, in the channel pipeline between HTTP decoding and
/// the application: it sees whole request heads, body parts and ends, and the answer's end.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let counter: ConnectionCounter
    private let trustedProxies: [IPRange]
    private var deadline: Scheduled<Void>?
    private var counted: String?
    private var isFirstRequest = true

    init(limits: ConnectionLimits, counter: ConnectionCounter, trustedProxies: [IPRange]) {
        self.limits = limits
        self.counter = counter
        self.trustedProxies = trustedProxies
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private var isStarted = false

    /// Counts the connection (or closes it, over the cap) and starts the head deadline; once.
    private func start(context: ChannelHandlerContext) {
        guard !isStarted else { return }
        isStarted = true
        if let address = context.channel.remoteAddress?.ipAddress,
            !trustedProxies.contains(where: { $0.contains(address) })
        {
            guard counter.open(address, limit: limits.connectionsPerAddress) else {
                context.close(promise: nil)
                return
            }
            counted = address
        }
        arm(limits.headTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        if let counted { counter.close(counted) }
        counted = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(limits.bodyTimeout, context: context)
        case .end: disarm()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            // The next request on a kept-alive connection must arrive, head complete, within the idle
            // timeout; one that trickles bytes is closed like an idle one.
            arm(limits.idleTimeout, context: context)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ timeout: Duration, context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        let (seconds, attoseconds) = timeout.components
        let nanoseconds =
            seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue + attoseconds / 1_000_000_000
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { channel.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
