import CofferAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `GET /api/v2/changes`: a server-sent-events stream on which a signed-in device hears
/// "account changed, sequence N" for its account, then syncs as usual.
///
/// The stream carries no vault data. A comment line every ``heartbeat`` keeps proxies from closing
/// it and lets the device notice a dead connection; after ``longestStream`` the server ends it and
/// the device connects again (with a fresh token: a signed-out device stops hearing hints then).
struct ChangeRoutes: Sendable {
    let feed: ChangeFeed

    /// Between keep-alive comments.
    static let heartbeat: Duration = .seconds(15)
    /// The longest one stream lasts.
    static let longestStream: Duration = .seconds(600)

    func register(on authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.get("/api/v2/changes") { _, context in try stream(context) }
    }

    private func stream(_ context: CofferRequestContext) throws -> Response {
        let session = try context.requireSession()
        let feed = feed
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        // nginx passes each announcement on as it is written even where the site forgot
        // `proxy_buffering off`.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let (announcements, stop) = feed.subscribe(accountID: session.accountID)
                defer { stop() }
                // Heartbeats and announcements in one sequence, so one loop writes both.
                let (events, events_) = AsyncStream.makeStream(of: Int64?.self, bufferingPolicy: .bufferingNewest(8))
                let ticker = Task {
                    let deadline = ContinuousClock.now + Self.longestStream
                    while ContinuousClock.now < deadline {
                        try await Task.sleep(for: Self.heartbeat)
                        events_.yield(nil)
                    }
                    events_.finish()
                }
                let relay = Task {
                    for await sequence in announcements { events_.yield(sequence) }
                    events_.finish()
                }
                defer {
                    ticker.cancel()
                    relay.cancel()
                }
                try await writer.write(ByteBuffer(string: ChangeAnnouncement.greeting))
                // A server shutting down ends its streams, so it never waits for them; devices reconnect.
                try await withGracefulShutdownHandler {
                    for await event in events {
                        let text = event.map(ChangeAnnouncement.event(sequence:)) ?? ChangeAnnouncement.heartbeat
                        try await writer.write(ByteBuffer(string: text))
                    }
                } onGracefulShutdown: {
                    events_.finish()
                }
                try await writer.finish(nil)
            })
    }
}

/// Hands the changes announced on the database to this process's ``ChangeFeed`` while the server
/// runs.
struct ChangeRelay: Service {
    let feed: ChangeFeed
    let storage: any CoordinationRepository

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await storage.receiveChanges { account, sequence in feed.deliver(accountID: account, sequence: sequence) }
        }
    }
}
