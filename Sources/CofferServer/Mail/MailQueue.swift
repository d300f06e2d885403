public import Foundation
import Logging

/// Sends mail after the request that asked for it has answered. A request that mails (a code to an
/// existing address) must take as long as one that does not (an unknown address), or the time of the
/// answer tells who has an account; and a slow mail server must not hold requests open.
///
/// The queue is in memory: a message not yet delivered when the process stops is lost, and the user
/// asks again (codes are short-lived anyway). Failed deliveries are retried three times.
public struct MailQueue: MailTransport {
    private let continuation: AsyncStream<MailMessage>.Continuation

    /// Starts delivering through `transport`, one message at a time, in the order queued.
    public init(delivering transport: any MailTransport) {
        let (stream, continuation) = AsyncStream.makeStream(of: MailMessage.self)
        self.continuation = continuation
        Task.detached {
            let logger = Logger(label: "coffer-server.mail")
            for await message in stream {
                for attempt in 1...3 {
                    do {
                        try await transport.send(message)
                        break
                    } catch {
                        // The recipient and error type only: the body holds codes and links.
                        logger.error(
                            "mail delivery failed",
                            metadata: ["attempt": "\(attempt)", "error.type": "\(type(of: error))"])
                        try? await Task.sleep(for: .seconds(attempt * 2))
                    }
                }
            }
        }
    }

    /// Queues `message` and returns at once.
    public func send(_ message: MailMessage) async throws {
        continuation.yield(message)
    }
}
