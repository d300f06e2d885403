import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer totp NAME`: prints the current one-time code of an item.
struct TOTPCode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "totp", abstract: "Print an item's current one-time code.")

    @Argument(help: "The item's title or id.")
    var name: String

    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let code: String
        let secondsRemaining: Int
        let period: Int
    }

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: .live))
        guard let field = item.allFields.first(where: { $0.kind == .totp && !$0.value.isEmpty }) else {
            throw AgentFailure(
                .notFound,
                "\"\(item.title)\" has no one-time password; add one with `coffer edit \"\(item.title)\" --set-secret totp`."
            )
        }
        let totp = try TOTP(parsing: field.value)
        let now = Date()
        let report = Report(
            code: totp.code(at: now), secondsRemaining: totp.secondsRemaining(at: now), period: totp.period)
        if output.json { return try Output.json(report) }
        print(report.code)
        Terminal.note("Valid for \(report.secondsRemaining) more second(s).")
    }
}
