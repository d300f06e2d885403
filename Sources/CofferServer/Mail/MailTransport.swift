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

    /// Implements .
    public func send(_ message: MailMessage) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = "\(Int(message.date.timeIntervalSince1970 * 1000))-\(message.id.uuidString.lowercased()).eml"
        try Data(message.rfc5322(from: sender).utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
    }
}

/// Pipes RFC 5322 messages to a sendmail-compatible command (`sendmail -t -i` by default).
public struct SendmailTransport: MailTransport {
    /// The command and its arguments.
    public let command: [String]
    /// The From address.
    public let sender: String

    /// Creates a transport.
    public init(command: [String] = ["/usr/sbin/sendmail", "-t", "-i"], sender: String) {
        self.command = command
        self.sender = sender
    }

    /// Implements .
    public func send(_ message: MailMessage) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A command that exits without reading its input makes the write fail with EPIPE; its exit
        // status is what explains the failure, so that is what is reported.
        let written =
            (try? input.fileHandleForWriting.write(contentsOf: Data(message.rfc5322(from: sender).utf8))) != nil
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0, written else { throw MailError.commandFailed(process.terminationStatus) }
    }
}

/// Mail delivery failures.
public enum MailError: Error, CustomStringConvertible {
    /// The sendmail command exited with a status.
    case commandFailed(Int32)

    /// The sentence an operator reads in the log.
    public var description: String {
        switch self {
        case .commandFailed(let status): "the sendmail command exited with status \(status)"
        }
    }
}
