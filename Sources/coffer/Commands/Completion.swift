import ArgumentParser
import CofferModel
import Foundation

/// `coffer completion SHELL`: prints a shell completion script.
struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a completion script for bash, zsh or fish.",
        discussion: "For bash: `coffer completion bash > ~/.local/share/bash-completion/completions/coffer`.")

    @Argument(help: "bash, zsh or fish.")
    var shell: String

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            throw ValidationError("'\(shell)' is not a supported shell: use bash, zsh or fish.")
        }
        print(Coffer.completionScript(for: kind))
    }
}
