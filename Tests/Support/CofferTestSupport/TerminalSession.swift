public import Foundation
import Synchronization

/// `coffer` on a pseudo-terminal (script(1) from util-linux), answered prompt by prompt as a person
/// types. An answer is sent only once its prompt is on the screen: hidden prompts discard whatever was
/// typed ahead (TCSAFLUSH), exactly as they should for a password.
public final class TerminalSession {
    private let process = Process()
    private let input = Pipe()
    private let screen = Screen()

    /// Everything the terminal showed so far, and a signal for each new piece.
    final class Screen: Sendable {
        let text = Mutex("")
        let changed = DispatchSemaphore(value: 0)
    }

    /// Starts `arguments` in `cli`'s profile on a new terminal.
    public init(_ cli: CofferCLI, _ arguments: [String]) throws {
        let quoted = ([cli.executable.path] + arguments).map {
            "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", quoted.joined(separator: " "), "/dev/null"]
        process.environment = cli.environment(adding: [:])
        process.standardInput = input
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let screen = self.screen
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil }
            screen.text.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            screen.changed.signal()
        }
        try process.run()
    }

    /// What the terminal showed so far.
    public var shown: String { screen.text.withLock { $0 } }

    /// Waits until the terminal shows `prompt` (at most `seconds`, then fails with what it shows).
    public func waitFor(_ prompt: String, seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !shown.contains(prompt) {
            guard screen.changed.wait(timeout: .now() + deadline.timeIntervalSinceNow) == .success else {
                throw CocoaError(
                    .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no \"\(prompt)\" on: \(shown)"])
            }
        }
    }

    /// Waits for `prompt`, then types `answer` and Enter.
    public func answer(_ prompt: String, with answer: String) throws {
        try waitFor(prompt)
        try input.fileHandleForWriting.write(contentsOf: Data((answer + "\r").utf8))
    }

    /// Waits for the command to end and returns its exit status.
    public func finish() throws -> Int32 {
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
