import CofferAgent
import CofferCrypto
import CofferFiles
import Foundation

/// The recovery kit: the recovery code with the words that say what it opens, as text on the
/// terminal and, on request, as a printable HTML page (owner-only file).
struct RecoveryKit {
    let code: RecoveryCode
    let email: String?
    let server: String?

    /// Where the kit's explanation starts; the same in the text and the HTML.
    private var explanation: [String] {
        [
            "Your master password opens your vault. If you forget it, this recovery code opens it instead: "
                + "`coffer recover` sets a new password with it and keeps every item.",
            "Nobody else can help: the server stores only encrypted data, so neither Coffer nor the server's "
                + "operator can open your vault or recover it for you.",
            "Keep this kit on paper or in a safe place that is not this computer. A new kit "
                + "(`coffer recovery-kit new`) replaces this one; this code then stops working.",
        ]
    }

    /// Prints the kit on standard output.
    func printText() {
        var lines = [
            "RECOVERY KIT — write this code down or print it, and keep it somewhere safe.", "",
            "    Recovery code: \(code.formatted)", "",
        ]
        if let email { lines.append("    Account: \(email)\(server.map { " on \($0)" } ?? "")") }
        print((lines + explanation.map { "  \($0)" }).joined(separator: "\n"))
    }

    /// Writes the printable page to `path` with owner-only permissions.
    func writeHTML(to path: String) throws {
        let escape = { (value: String) in
            value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let created = Date().formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
        let account =
            email.map { "<p>Account: <strong>\(escape($0))</strong>\(server.map { " on \(escape($0))" } ?? "")</p>" }
            ?? ""
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Coffer recovery kit</title>
            <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto}
            .code{font:1.6rem ui-monospace,monospace;letter-spacing:.1rem;border:2px solid #000;padding:1rem;text-align:center}
            @media print{a{color:#000}}</style></head>
            <body><h1>Coffer recovery kit</h1>
            <p>Made on \(created).</p>
            \(account)
            <p class="code">\(escape(code.formatted))</p>
            \(explanation.map { "<p>\(escape($0))</p>" }.joined(separator: "\n"))
            <p>Master password hint (optional, never the password itself): ______________________</p>
            </body></html>
            """
        do {
            try OwnerOnlyFile.write(Data(html.utf8), to: path, existing: .replace)
        } catch {
            throw AgentFailure(
                .invalidInput, "Cannot write the recovery kit to \(path): \(error.reason). Choose a writable path.")
        }
        Terminal.note(
            "Printable recovery kit written to \(path) (only you can read it). Print it, then delete the file.")
    }

    /// Shows the kit as text, and as HTML at `htmlPath` when given.
    func show(htmlPath: String?) throws {
        printText()
        if let htmlPath { try writeHTML(to: htmlPath) }
    }
}
