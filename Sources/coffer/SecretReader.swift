import CofferAgent
import CofferModel
import Foundation

/// Reads secrets one per line from standard input (`--password-stdin`) or asks on the terminal,
/// in the order the command needs them. Secrets never come from command-line arguments, which
/// other users can see in `ps`.
final class SecretReader {
    private let fromStandardInput: Bool
    private var linesRead = 0

    init(fromStandardInput: Bool) {
        self.fromStandardInput = fromStandardInput
    }

    /// Whether a secret can be obtained at all.
    var canRead: Bool { fromStandardInput || isTerminalAvailable }

    private var isTerminalAvailable: Bool {
        FileManager.default.isReadableFile(atPath: "/dev/tty") && Terminal.isInteractive
    }

    /// The next secret; `prompt` is shown when asking on the terminal.
    func read(_ prompt: String, required: Bool = true) throws(AgentFailure) -> String? {
        if fromStandardInput {
            linesRead += 1
            guard let line = readLine(strippingNewline: true) else {
                if !required { return nil }
                throw AgentFailure(
                    .invalidInput,
                    "Standard input ended before secret number \(linesRead) (\(prompt.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: [":"]))). Give one secret per line."
                )
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        guard isTerminalAvailable, let answer = Terminal.ask(prompt, hidden: true) else {
            if !required { return nil }
            throw AgentFailure(
                .locked,
                "No terminal to ask for the \(prompt.lowercased().trimmingCharacters(in: [" ", ":"])): pass --password-stdin and give it on standard input."
            )
        }
        return answer
    }

    /// The next secret, which must be present.
    func require(_ prompt: String) throws(AgentFailure) -> String {
        guard let value = try read(prompt, required: true) else {
            throw AgentFailure(.invalidInput, "Missing \(prompt).")
        }
        return value
    }

    /// A secret given as `-` on the command line: asked on the terminal (echo off) when there is one
    /// and --password-stdin was not passed, else the next line of standard input.
    func standardInputLine(_ prompt: String) throws(AgentFailure) -> String {
        try (fromStandardInput || isTerminalAvailable ? self : SecretReader(fromStandardInput: true)).require(prompt)
    }

    /// Whether secrets come from a script rather than a person.
    var isScripted: Bool { fromStandardInput || !isTerminalAvailable }
}
