import CSystemSupport
import CofferAgent
import CofferModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Standard streams and the controlling terminal.
enum Terminal {
    /// Prints an error sentence on standard error, prefixed with the program's name.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("coffer: \(message)\n".utf8))
    }

    /// Prints a note on standard error, so standard output stays clean for scripts.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// Whether standard input is a terminal a person types at.
    static var isInteractive: Bool { isatty(0) == 1 }

    /// Asks on the controlling terminal; `hidden` turns echo off. `nil` when there is no terminal.
    static func ask(_ prompt: String, hidden: Bool) -> String? {
        guard let tty = fopen("/dev/tty", "r+") else { return nil }
        defer { fclose(tty) }
        let descriptor = fileno(tty)
        fputs(prompt, tty)
        fflush(tty)
        if hidden { _ = coffer_set_echo(descriptor, 0) }
        defer {
            if hidden {
                _ = coffer_set_echo(descriptor, 1)
                fputs("\n", tty)
            }
        }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        guard getline(&line, &capacity, tty) >= 0, let line else { return nil }
        var text = String(cString: line)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// Asks a yes/no question on the terminal; no terminal or no answer means no.
    static func confirm(_ question: String) -> Bool {
        guard let answer = ask("\(question) [y/N] ", hidden: false) else { return false }
        return ["y", "yes"].contains(answer.lowercased())
    }
}
