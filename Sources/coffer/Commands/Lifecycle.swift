import ArgumentParser
import CofferAPI
import CofferAgent
import CofferClient
import CofferCrypto
import CofferModel
import CofferRecall
import CofferStore
import CofferVault
import Foundation

/// `--server` and `--email` for commands that may run with no signed-in vault; they default to the
/// profile's own server and address.
struct AccountAddressOptions: ParsableArguments {
    @Option(help: "The server's URL (default: this profile's server).")
    var server: String?

    @Option(help: "The account's e-mail address (default: this profile's).")
    var email: String?

    @Option(help: "This device's name in device lists and account events (default: user@host (system)).")
    var deviceName: String?

    /// The server and address to use, from the flags or the profile's vault.
    func resolve(_ paths: ProfilePaths) throws -> (server: String, email: String, deviceName: String) {
        let account = try address(paths)
        return (account.server, account.email, account.deviceName)
    }

    /// The account to use, from the flags or the profile's vault.
    func address(_ paths: ProfilePaths) throws(AgentFailure) -> AccountAddress {
        try AccountAddress.resolve(paths, server: server, email: email, deviceName: deviceName)
    }
}

/// `coffer password change`.
struct PasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Change the master password.", subcommands: [Change.self])

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the master password; every item stays as it is.",
            discussion: """
                Your items are not touched: the same vault key is locked again under the new password. Other \
                devices are signed out and ask for the new password; they keep all their data. Backups made \
                before the change still open with the old password. With --password-stdin, give the current \
                password on the first line and the new one on the second.
                """)

        @OptionGroup var secrets: SecretOptions

        func run() throws {
            let reader = secrets.reader()
            let synced = try AccountKeyFlows.changePassword(
                ProfilePaths(),
                current: {
                    let current = try reader.require("Current master password: ")
                    if !reader.isScripted {
                        Terminal.note(
                            "Your items stay exactly as they are; only the lock on the vault key changes. Other devices will ask for the new password and keep their data."
                        )
                    }
                    return current
                }, new: { try MasterPasswordPrompt(reader: reader).newPassword() })
            Terminal.note(
                "Master password changed. Nothing in the vault was changed\(synced ? "; other devices were signed out and will ask for the new password" : ""). Backups made before now still open with the old password."
            )
        }
    }
}

/// `coffer recovery-kit new`.
struct RecoveryKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-kit", abstract: "Make a new recovery kit.", subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new recovery code; the previous one stops working.",
            discussion: """
                Use it when the old kit is lost or may have been seen. The new code opens the same vault; the \
                old code stops opening the account at once (backups made before keep opening with it).
                """)

        @OptionGroup var secrets: SecretOptions

        @Option(help: "Also write a printable HTML page of the kit to this file.")
        var html: String?

        func run() throws {
            let kit = try AccountKeyFlows.newRecoveryCode(ProfilePaths()) {
                try secrets.reader().require("Master password: ")
            }
            try RecoveryKit(code: kit.code, email: kit.email, server: kit.server).show(htmlPath: html)
            Terminal.note("The previous recovery code no longer opens your account.")
        }
    }
}

/// `coffer recover`: the ways back in, from the gentlest to the last resort.
struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Get back into your account, or bring back data from before an account reset.",
        discussion: """
            Forgot the master password? On a vault that syncs with no server, `coffer recover --recovery-code -` \
            sets a new one with your recovery code, offline (standard input: the code, then the new password). \
            On a synced vault, `coffer recover --email ADDRESS --server URL` e-mails you a code; then \
            `coffer recover --code CODE --recovery-code -` sets a new password with your recovery code. Every \
            item stays.

            After an account reset, bring the old items into the new account:
              --from-device            from this device (asks for the new password, then the old one,
                                       unless the agent still has the old vault unlocked)
              --old-password           from the server's quarantine, with the password used before the reset
              --old-recovery-code -    from the quarantine, with the recovery code in force before the reset
            Recovering the same data twice adds nothing twice. Recovery codes are given as `-`: asked for on
            the terminal, or read from standard input (after the passwords); never on the command line.

            Half remember an old password? `coffer recover --guess FILE` tries variants of the passwords you
            type (capitals, look-alikes such as 0 for o, years, endings such as !, typos) against FILE, a
            backup, a vault file in before-reset/, or a vault file, likeliest first on every core. Nothing
            is sent anywhere; stopped, it continues next time. With --password-stdin, each line of standard
            input is one remembered password; the one found is printed on a line of its own.
            """)

    @OptionGroup var address: AccountAddressOptions
    @OptionGroup var secrets: SecretOptions

    @Option(help: "The one-time code from the e-mail.")
    var code: String?

    @Option(help: "- to give your recovery code (asked for, or read from standard input).")
    var recoveryCode: String?

    @Flag(help: "Move this device's items from before a reset into the account.")
    var fromDevice = false

    @Flag(help: "Recover the quarantined data with the master password used before the reset.")
    var oldPassword = false

    @Option(help: "- to recover the quarantined data with the recovery code in force before the reset.")
    var oldRecoveryCode: String?

    @Option(help: "Write a printable HTML page of a new recovery kit here, when one is made.")
    var recoveryKitHTML: String?

    @Option(help: "Guess a half-remembered password against this backup, before-reset/ archive or vault file.")
    var guess: String?

    @Option(help: "With --guess: your own patterns, one per line (append TEXT, prepend TEXT, replace OLD NEW).")
    var rules: String?

    @Option(help: "With --guess: your keyboard for typos, qwerty, qwertz or azerty (default: from LANG).")
    var keyboard: String?

    @Flag(help: "With --guess: start again from the first variant instead of continuing.")
    var restart = false

    @Option(help: "With --guess: at most this many changes to what you typed, 0 to 4 (default 4).")
    var maxChanges: Int?

    func validate() throws {
        try SecretArgument.requireStandardInput(recoveryCode, option: "--recovery-code")
        try SecretArgument.requireStandardInput(oldRecoveryCode, option: "--old-recovery-code")
        let modes = [
            fromDevice, oldPassword, oldRecoveryCode != nil, code != nil || recoveryCode != nil, guess != nil,
        ]
        guard modes.filter({ $0 }).count <= 1 else {
            throw ValidationError(
                "Choose one of --from-device, --old-password, --old-recovery-code, --guess, or --code with --recovery-code."
            )
        }
        if guess == nil, rules != nil || keyboard != nil || restart || maxChanges != nil {
            throw ValidationError("--rules, --keyboard, --max-changes and --restart go with --guess FILE.")
        }
        if let maxChanges, !(0...4).contains(maxChanges) {
            throw ValidationError("--max-changes takes a number from 0 to 4, not \(maxChanges).")
        }
        if let keyboard, !KeyboardLayout.all.contains(where: { $0.name == keyboard }) {
            throw ValidationError("--keyboard takes qwerty, qwertz or azerty, not '\(keyboard)'.")
        }
    }

    func run() throws {
        let paths = ProfilePaths()
        let reader = secrets.reader()
        if let guess {
            try PasswordGuessing(
                path: guess, reader: reader, rulesFile: rules,
                keyboard: KeyboardLayout.all.first { $0.name == keyboard }
                    ?? .likely(forLocale: ProcessInfo.processInfo.environment["LANG"]),
                maximumChanges: maxChanges ?? VariantRules().maximumSteps, restart: restart, paths: paths
            ).run()
        } else if fromDevice {
            try RecoverFromDevice(paths: paths, reader: reader, address: address).run()
        } else if oldPassword || oldRecoveryCode != nil {
            try recoverQuarantine(paths: paths, reader: reader)
        } else if let code {
            try recoverWithCode(code, paths: paths, reader: reader)
        } else if recoveryCode != nil, address.server == nil, address.email == nil, try ProfileVault.isLocalOnly(paths)
        {
            try recoverLocally(paths: paths, reader: reader)
        } else {
            let (server, email, _) = try address.resolve(paths)
            try AsyncBridge.wait {
                try await AccountRecovery.requestCode(server: server, email: email, purpose: .recover)
            }
            Terminal.note(
                """
                If \(email) has an account on \(server) and the address was confirmed, a one-time code is on its
                way (valid for one hour). No code comes to an address that was never confirmed (the link mailed at
                registration): then use a device that is still signed in, or a backup. With the code, run: coffer recover --server \(server) --email \(email) --code CODE --recovery-code -
                it asks for your recovery code (from your recovery kit) and a new master password. Every item stays.
                """)
        }
    }

    private func recoverWithCode(_ code: String, paths: ProfilePaths, reader: SecretReader) throws {
        let (server, email, device) = try address.resolve(paths)
        guard let typed = recoveryCode else {
            throw AgentFailure(.invalidInput, "Add --recovery-code CODE (or - to read it from standard input).")
        }
        let recovery = try RecoveryCode(parsing: typed == "-" ? try reader.standardInputLine("Recovery code: ") : typed)
        let password = try MasterPasswordPrompt(reader: reader).newPassword()
        AgentHandoff.lockRunningAgent(paths)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        let file = paths.vaultFile
        let result = try AsyncBridge.wait {
            try await AccountRecovery.recover(
                server: server, email: email, emailCode: code, recoveryCode: recovery, newPassword: password,
                deviceName: device, vaultFile: file)
        }
        try AgentHandoff.unlockAgent(
            paths, with: result.keyring)
        Terminal.note(
            "New master password set; every item is still there (\(result.report.pulled) downloaded). Other devices were signed out and will ask for the new password. Your recovery code still works."
        )
    }

    /// A vault that syncs with no server: the recovery code opens it and sets a new password, offline.
    private func recoverLocally(paths: ProfilePaths, reader: SecretReader) throws {
        let recovery = try RecoveryCode(parsing: try reader.standardInputLine("Recovery code: "))
        let password = try MasterPasswordPrompt(reader: reader).newPassword()
        try AccountKeyFlows.recoverLocally(paths, recoveryCode: recovery, newPassword: password)
        Terminal.note(
            "New master password set with your recovery code; every item is still there, and the recovery code still works."
        )
    }

    private func recoverQuarantine(paths: ProfilePaths, reader: SecretReader) throws {
        let current = try reader.require("Current master password: ")
        let (store, keyring) = try CurrentEpoch.signedIn(paths, password: current) { try address.address(paths) }
        let secret: AccountRecovery.OldSecret
        if let oldRecoveryCode {
            secret = .recoveryCode(
                try RecoveryCode(
                    parsing: oldRecoveryCode == "-"
                        ? try reader.standardInputLine("Old recovery code: ") : oldRecoveryCode))
        } else {
            secret = .password(try reader.require("Master password used before the reset: "))
        }
        let sets = try AsyncBridge.wait {
            try await AccountRecovery.quarantinedItems(store: store, keyring: keyring, secret: secret)
        }
        let merge = try CurrentEpoch.merge(sets.flatMap(\.items), into: store, keyring: keyring)
        try AgentHandoff.unlockAgent(paths, with: keyring)
        Terminal.note(
            "Recovered from the server's quarantine: \(merge.added) item(s) added, \(merge.updated) updated, \(merge.unchanged) already here."
        )
    }
}

/// `coffer recover --from-device`.
struct RecoverFromDevice {
    let paths: ProfilePaths
    let reader: SecretReader
    let address: AccountAddressOptions

    func run() throws {
        // An agent still unlocked on this device's vault can hand over its items without the old
        // password; they are used only if that vault turns out to be of an older key epoch.
        var fromAgent: (epoch: UInt32, items: [Item])?
        if let agent = ProfileVault.unlockedAgent(paths), let epoch = ProfileVault.epoch(paths) {
            fromAgent = (epoch, try agent.elements(of: ListItems(ItemFilter(scope: .all))))
        }
        let current = try reader.require("Current master password: ")
        let (store, keyring) = try CurrentEpoch.signedIn(paths, password: current) { try address.address(paths) }
        let items: [Item]
        if let fromAgent, fromAgent.epoch < keyring.epoch {
            items = fromAgent.items
        } else {
            items = try EpochRecovery.archivedItems(
                paths: paths, accountID: keyring.accountID, before: keyring.epoch,
                oldPassword: try reader.require("Master password this device used before the reset: "))
        }
        let merge = try CurrentEpoch.merge(items, into: store, keyring: keyring)
        try AgentHandoff.unlockAgent(paths, with: keyring)
        Terminal.note(
            "Moved this device's items from before the reset into the account: \(merge.added) added, \(merge.updated) updated, \(merge.unchanged) already there. The old vault file stays in \(VaultArchive.directory(besides: paths.vaultFile)) until you delete it."
        )
    }
}

/// `coffer account reset`.
struct AccountReset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Reset the account: the last resort when both the password and the recovery code are lost.",
        discussion: """
            Without --code, e-mails a one-time code after listing what still works without a reset. With \
            --code (from that e-mail, or from the web portal's reset page) it makes a new vault key and \
            password. Your current data is NOT deleted: the server keeps it in quarantine (30 days by \
            default), and this device keeps its copy; `coffer recover` brings it back with the old password, \
            the old recovery code, or a device that still holds it.
            """)

    @OptionGroup var address: AccountAddressOptions
    @OptionGroup var secrets: SecretOptions

    @Option(help: "The one-time code from the e-mail or the portal.")
    var code: String?

    @Flag(help: "Do not ask for the typed confirmation (for scripts).")
    var yes = false

    @Option(help: "Write a printable HTML page of the new recovery kit here.")
    var recoveryKitHTML: String?

    static let confirmationPhrase = "reset my account"

    func run() throws {
        let paths = ProfilePaths()
        let (server, email, device) = try address.resolve(paths)
        guard let code else {
            Terminal.note(
                """
                Before you reset, check what still works — each keeps all your data:
                  • your recovery code:        coffer recover --server \(server) --email \(email)
                  • a device still signed in:  coffer password change (on that device)
                  • a backup:                  it opens with the password or recovery code in force when it was made
                """)
            try AsyncBridge.wait {
                try await AccountRecovery.requestCode(server: server, email: email, purpose: .reset)
            }
            Terminal.note(
                "If \(email) has an account on \(server) and the address was confirmed, a one-time reset code is on its way (valid for one hour). No code comes to an address that was never confirmed (the link mailed at registration): then `coffer recover` with your recovery code, a device that is still signed in, or a backup is the way back. With the code, run: coffer account reset --server \(server) --email \(email) --code CODE"
            )
            return
        }
        let check = try AsyncBridge.wait {
            try await AccountRecovery.checkReset(server: server, email: email, code: code)
        }
        let local = BeforeResetHoldings.read(paths: paths)
        // The whole vault file is archived by the reset, whichever epoch its records belong to; the
        // holdings' own count of it would count those records twice.
        let held = ProfileVault.recordCount(paths)
        var lines = [
            check.awaitingKeys
                ? "The account was already reset; this sets its new password and vault key."
                : "A reset gives the account a new vault key. Nothing is deleted: the server keeps the current data in quarantine for \(check.quarantineDays) days.",
            "This device keeps its \(held + local.itemsInArchives) item(s) in an archive file; `coffer recover --from-device` moves them into the new account.",
        ]
        if !check.devices.isEmpty {
            lines.append(
                "Signed-in devices still hold your data and will keep it: \(check.devices.map(\.name).joined(separator: ", "))."
            )
        }
        Terminal.note(lines.joined(separator: "\n"))
        let reader = secrets.reader()
        if !yes {
            guard !reader.isScripted,
                Terminal.ask("Type \"\(Self.confirmationPhrase)\" to reset \(email): ", hidden: false)?
                    .trimmingCharacters(in: .whitespaces).lowercased() == Self.confirmationPhrase
            else {
                throw AgentFailure(
                    .invalidInput,
                    "Nothing was changed. Type \"\(Self.confirmationPhrase)\" when asked, or pass --yes in scripts.")
            }
        }
        let password = try MasterPasswordPrompt(reader: reader).newPassword()
        AgentHandoff.lockRunningAgent(paths)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        let file = paths.vaultFile
        let result = try AsyncBridge.wait {
            try await AccountRecovery.reset(
                server: server, email: email, code: code, check: check, newPassword: password, deviceName: device,
                vaultFile: file)
        }
        print("The account \(email) was reset and this device is signed in with the new password.\n")
        try RecoveryKit(code: result.recoveryCode, email: email, server: server).show(htmlPath: recoveryKitHTML)
        try AgentHandoff.unlockAgent(
            paths, with: result.keyring)
        let archived = BeforeResetHoldings.read(paths: paths).itemCount
        Terminal.note(
            """
            Your previous data is in quarantine on the server for \(check.quarantineDays) days\(archived > 0 ? ", and \(archived) item(s) from before are kept on this device" : "").
            Bring it back with: coffer recover --from-device   (this device's copy, with the old password)
                           or: coffer recover --old-password   (the server's quarantine)
                           or: coffer recover --old-recovery-code -
            """)
    }
}

/// `coffer account purge-quarantine`.
struct PurgeQuarantine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge-quarantine",
        abstract: "Ask the server to delete the data kept from before an account reset.",
        discussion: """
            Nothing goes at once: the server mails a confirmation link to the account's address, and after \
            it is confirmed waits 72 hours (the operator may set another delay); until then any signed-in \
            device can cancel (`coffer account deletions cancel ID`). Afterwards only a backup made before the \
            reset or a device that still holds the data can bring it back. Asks for the master password, and \
            for a typed confirmation unless --yes.
            """)

    @OptionGroup var secrets: SecretOptions

    @Flag(help: "Do not ask for the typed confirmation (for scripts).")
    var yes = false

    func run() throws {
        try DeletionRequestFlow.run(
            .quarantine, backupID: nil, secrets: secrets, yes: yes,
            warning:
                "This asks the server to delete, for good, its copy of your data from before the account reset. Only a backup made before the reset, or a device that still holds the data, could bring it back."
        )
    }
}

/// The steps every deletion of a safety net takes on this side: a typed confirmation, the master
/// password, the request, and a note on what happens next and how to cancel.
enum DeletionRequestFlow {
    static func run(_ what: DeletionKind, backupID: UUID?, secrets: SecretOptions, yes: Bool, warning: String) throws {
        let paths = ProfilePaths()
        let reader = secrets.reader()
        if !yes {
            Terminal.note(warning)
            guard !reader.isScripted,
                Terminal.ask("Type \"delete\" to confirm: ", hidden: false)?.lowercased() == "delete"
            else {
                throw AgentFailure(
                    .invalidInput, "Nothing was deleted. Type \"delete\" when asked, or pass --yes in scripts.")
            }
        }
        let password = try reader.require("Master password: ")
        let pending = try AccountKeyFlows.requestDeletion(paths, what, backupID: backupID, password: password)
        Terminal.note(
            "Nothing is deleted yet. Open the link mailed to \(pending.email ?? "the account's address") to confirm; the deletion then waits the server's delay (72 hours unless its operator set another), and any signed-in device can stop it with `coffer account deletions cancel \(pending.id.uuidString.lowercased())`."
        )
    }
}

/// `coffer account deletions`: deletions asked for and not carried out, and cancelling them.
struct Deletions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show pending deletions of quarantined data or server backups, and cancel them.",
        subcommands: [List.self, Cancel.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending deletions.")
        @OptionGroup var secrets: SecretOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            let deletions = try vault.call(ListPendingDeletions())
            if output.json { return try Output.json(deletions) }
            guard !deletions.isEmpty else { return print("No deletion is pending.") }
            for deletion in deletions { print("\(deletion.id.uuidString.lowercased())  \(deletion.summary)") }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a pending deletion; nothing is deleted. Needs no password beyond unlocking.")
        @Argument(help: "The deletion's id, from `coffer account deletions`.")
        var id: String
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            guard let uuid = UUID(uuidString: id) else {
                throw AgentFailure(
                    .invalidInput, "'\(id)' is not a deletion id; `coffer account deletions` lists them.")
            }
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            _ = try vault.call(CancelDeletion(id: uuid))
            Terminal.note("Cancelled; nothing will be deleted.")
        }
    }
}
