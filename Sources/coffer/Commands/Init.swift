import ArgumentParser
import CofferAgent
import CofferCrypto
import CofferModel
import Foundation

/// `coffer init`: creates a local-only vault and shows its recovery kit.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new vault protected by a master password, and show its recovery kit.")

    @OptionGroup var secrets: SecretOptions

    @Flag(help: "Leave the vault locked afterwards instead of starting the agent.")
    var noUnlock = false

    @Option(help: .hidden)
    var kdfMemoryMib: UInt32?

    @Option(help: "Also write a printable HTML page of the recovery kit to this file.")
    var recoveryKitHTML: String?

    func run() throws {
        let paths = ProfilePaths()
        let reader = secrets.reader()
        guard !FileManager.default.fileExists(atPath: paths.vaultFile) else {
            throw AgentFailure(
                .noVault,
                "A vault already exists at \(paths.vaultFile); nothing was changed. Use another COFFER_HOME for a second vault."
            )
        }
        let password = try MasterPasswordPrompt(reader: reader).newPassword()
        var parameters = KDFParameters.default
        if let kdfMemoryMib { parameters.memoryKiB = kdfMemoryMib * 1024 }
        let (keyring, recoveryCode) = try VaultSetup.create(paths: paths, password: password, parameters: parameters)
        print("Your vault is ready: \(paths.vaultFile)\n")
        try RecoveryKit(code: recoveryCode, email: nil, server: nil).show(htmlPath: recoveryKitHTML)
        if !noUnlock {
            try AgentHandoff.unlockAgent(
                paths, with: keyring, idleTimeoutSeconds: AgentServer.defaultIdleTimeoutSeconds)
            Terminal.note("Unlocked for 15 minutes of inactivity; `coffer lock` locks now.")
        }
    }
}

/// Asks for a new master password, enforcing the policy and warning about weak ones.
struct MasterPasswordPrompt {
    let reader: SecretReader

    func newPassword() throws -> String {
        let password = try reader.require("New master password: ")
        if !reader.isScripted {
            let again = try reader.require("Repeat the master password: ")
            guard again == password else {
                throw AgentFailure(
                    .invalidInput, "The two passwords differ; nothing was created. Run the command again.")
            }
        }
        let estimator = try StrengthEstimator()
        switch MasterPasswordPolicy(estimator: estimator).check(password) {
        case .rejected(let reason):
            throw AgentFailure(.invalidInput, reason + " Nothing was created.")
        case .weak(let estimate):
            let suggestion = try PasswordGenerator().generate(.passphrase(PassphraseRecipe(wordCount: 5)))
            Terminal.note("Warning: this master password is \(estimate.label). \(estimate.warning ?? "")")
            for advice in estimate.suggestions { Terminal.note("  - \(advice)") }
            Terminal.note("  A passphrase such as \"\(suggestion)\" is easy to remember and hard to guess.")
            if !reader.isScripted && !Terminal.confirm("Use the weak password anyway?") {
                throw AgentFailure(
                    .invalidInput, "Nothing was created. Run the command again with a stronger password.")
            }
        case .acceptable:
            break
        }
        return password
    }
}
