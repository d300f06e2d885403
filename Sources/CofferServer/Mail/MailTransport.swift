import CofferFiles
public import Foundation

/// A message the server sends: verification links and codes.
public struct MailMessage: Sendable {
    /// The recipient.
    public var to: String
    /// The subject line.
    public var subject: String
    /// Plain text.
    public var body: String
    /// Its `Message-ID`: the outbox row's id, so a message delivered again after a crash is the same
    /// message to the mail system (and the same file to ``FileMailTransport``).
    public var id: UUID
    /// When it was posted.
    public var date: Date

    /// Creates a message.
    public init(to: String, subject: String, body: String, id: UUID = UUID(), date: Date = Date()) {
        self.to = to
        self.subject = subject
        self.body = body
        self.id = id
        self.date = date
    }

    /// The RFC 5322 form.
    func rfc5322(from sender: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let clean = { (text: String) in
            text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
        }
        return """
            From: \(clean(sender))\r
            To: \(clean(to))\r
            Subject: \(clean(subject))\r
            Date: \(formatter.string(from: date))\r
            Message-ID: <\(id.uuidString.lowercased())@coffer>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n"))\r

            """
    }
}

/// Delivers mail; chosen by configuration.
public protocol MailTransport: Sendable {
    /// Sends one message.
    func send(_ message: MailMessage) async throws
}

/// Writes each message as its own `.eml` file in a directory: the default for local use and tests.
/// The file is named by the message's date and id, so a message delivered twice is one file.
public struct FileMailTransport: MailTransport {
    /// Where messages go.
    public let directory: URL
    /// The From address.
    public let sender: String

    /// Creates a transport writing into `directory`.
    public init(directory: URL, sender: String) {
        self.directory = directory
        self.sender = sender
    }

    /// Implements ``MailTransport/send(_:)``.
    public func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = "\(Int(message.date.timeIntervalSince1970 * 1000))-\(message.id.uuidString.lowercased()).eml"
        // Owner-only: a message may carry a one-time code or link.
        try OwnerOnlyFile.write(
            Data(message.rfc5322(from: sender).utf8), to: directory.appendingPathComponent(name).path,
            existing: .replace)
    }
}

/// Pipes RFC 5322 messages to a sendmail-compatible command (`sendmail -t -i` by default).
///
/// The command runs on a thread of its own, never on one of Swift's cooperative threads, and is
/// ended after `timeout`: a mail system that hangs delays that message's retry, not the server.
public struct SendmailTransport: MailTransport {
    /// The command and its arguments.
    public let command: [String]
    /// The From address.
    public let sender: String
    /// How long the command may take before it is ended and the delivery counts as failed.
    public let timeout: TimeInterval

    /// Creates a transport.
    public init(
        command: [String] = ["/usr/sbin/sendmail", "-t", "-i"], sender: String, timeout: TimeInterval = 60
    ) {
        self.command = command
        self.sender = sender
        self.timeout = timeout
    }

    /// Implements ``MailTransport/send(_:)``.
    public func send(_ message: MailMessage) async throws {
        let input = Data(message.rfc5322(from: sender).utf8)
        let (command, timeout) = (command, timeout)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.run(command, input: input, timeout: timeout) })
            }
        }
    }

    /// Runs `command` with `input` on standard input and waits for it, at most `timeout` seconds.
    private static func run(_ command: [String], input: Data, timeout: TimeInterval) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // A command that exits without reading its input makes the write fail with EPIPE; its exit
        // status is what explains the failure, so that is what is reported.
        let written = (try? pipe.fileHandleForWriting.write(contentsOf: input)) != nil
        try? pipe.fileHandleForWriting.close()
        guard exited.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            throw MailError.timedOut(seconds: Int(timeout))
        }
        guard process.terminationStatus == 0, written else { throw MailError.commandFailed(process.terminationStatus) }
    }
}

/// Mail delivery failures.
public enum MailError: Error, CustomStringConvertible {
    /// The sendmail command exited with a status.
    case commandFailed(Int32)
    /// The sendmail command did not finish in time and was ended.
    case timedOut(seconds: Int)

    /// The sentence an operator reads in the log.
    public var description: String {
        switch self {
        case .commandFailed(let status): "the sendmail command exited with status \(status)"
        case .timedOut(let seconds): "the sendmail command did not finish within \(seconds) seconds and was ended"
        }
    }
}
