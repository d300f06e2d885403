import ArgumentParser
import CofferAPI
import CofferAgent
import CofferBackup
import Foundation

/// `coffer backup`: encrypted backups that say which secrets open them.
struct BackupCommandGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Make, list, check and restore encrypted backups.",
        discussion: """
            Backups are made automatically after changes (at most one per COFFER_BACKUP_INTERVAL, default 1h, \
            and before the agent locks) and daily, into COFFER_BACKUP_DIR (default: backups/ next to the \
            vault; any folder works, the files are sealed). Automatic backups are thinned by COFFER_BACKUP_KEEP \
            (default last=10,daily=14,weekly=8,monthly=12); ones you make are never deleted. Every backup opens \
            with your current password while the vault key is unchanged, with the password in force when it \
            was made, and with the recovery code in force then.
            """,
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Download.self, DeleteRemote.self])

    /// Answers a backup call on the unlocked vault, asking again with the backup's own secret when
    /// the current keys do not open it and one was given. `make` builds the call from the settings
    /// and that secret.
    static func call<Call: VaultCall>(
        secrets: SecretOptions, recoveryCode: String?, _ make: (BackupSettings, BackupSecretInput?) -> Call
    ) throws -> Call.Answer {
        let reader = secrets.reader()
        let vault = try VaultConnector(secrets: reader).open()
        let settings = try BackupSettings(paths: ProfilePaths())
        do {
            return try vault.call(make(settings, nil))
        } catch let failure where failure.kind == .wrongSecret {
            let secret: BackupSecretInput
            if let recoveryCode {
                secret = .recoveryCode(
                    recoveryCode == "-" ? try reader.standardInputLine("Recovery code: ") : recoveryCode)
            } else if secrets.passwordStdin {
                secret = .password(try reader.require("The backup's password: "))
            } else if !reader.isScripted {
                Terminal.note(failure.message)
                secret = .password(try reader.require("Password that opens this backup: "))
            } else {
                throw failure
            }
            return try vault.call(make(settings, secret))
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the vault now; prints the new file's path.")
        @OptionGroup var secrets: SecretOptions
        @Flag(help: "Also keep a copy on the sync server, so a new device can restore it.")
        var upload = false

        func run() throws {
            let path = try BackupCommandGroup.call(secrets: secrets, recoveryCode: nil) { settings, _ in
                CreateBackup(settings: settings)
            }
            print(path)
            if upload {
                _ = try BackupCommandGroup.call(secrets: secrets, recoveryCode: nil) { settings, _ in
                    UploadBackup(path: path, settings: settings)
                }
                Terminal.note("A copy is kept on the sync server (sealed; the server cannot open it).")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List backups: time, items, size, and which secrets open each.")
        @OptionGroup var secrets: SecretOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "List the copies kept on the sync server instead (`coffer backup download ID` fetches one).")
        var server = false

        func run() throws {
            if server { return try listServer() }
            let backups = try BackupCommandGroup.call(secrets: secrets, recoveryCode: nil) { settings, _ in
                ListBackups(settings: settings)
            }
            if output.json { return try Output.json(backups) }
            if backups.isEmpty { Terminal.note("No backups yet; `coffer backup create` makes one.") }
            for backup in backups { print(Self.describe(backup)) }
        }

        private func listServer() throws {
            let backups = try BackupCommandGroup.call(secrets: secrets, recoveryCode: nil) { settings, _ in
                ListServerBackups(settings: settings)
            }
            if output.json { return try Output.json(backups) }
            if backups.isEmpty {
                Terminal.note("The server keeps no backups; `coffer backup create --upload` stores one.")
            }
            for backup in backups {
                let size = ByteCountFormatter.string(fromByteCount: Int64(backup.size), countStyle: .file)
                print("\(backup.id.uuidString.lowercased())  stored \(backup.storedAt.formatted())  \(size)")
            }
        }

        static func describe(_ backup: BackupListing) -> String {
            let when = backup.created.formatted(
                Date.VerbatimFormatStyle(
                    format:
                        "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)",
                    timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
            let items =
                backup.items.map { "\($0) item(s)\(backup.trash.map { $0 > 0 ? " + \($0) in trash" : "" } ?? "")" }
                ?? "items sealed"
            let size = ByteCountFormatter.string(fromByteCount: Int64(backup.size), countStyle: .file)
            return """
                \(when) UTC  \(items)  \(size)\(backup.automatic ? "  (automatic)" : "")
                  \(backup.path)
                  opens with: \(backup.opensWith.joined(separator: "; "))
                """
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a backup completely and check every item, changing nothing.")
        @Argument(help: "The backup file.") var path: String
        @OptionGroup var secrets: SecretOptions
        @Option(help: "- to open the backup with a recovery code (asked for, or read from standard input).")
        var recoveryCode: String?
        @OptionGroup var output: OutputOptions

        func validate() throws { try SecretArgument.requireStandardInput(recoveryCode, option: "--recovery-code") }

        func run() throws {
            let file = absolute(path)
            let backup = try BackupCommandGroup.call(secrets: secrets, recoveryCode: recoveryCode) {
                VerifyBackup(path: file, secret: $1, settings: $0)
            }
            if output.json { return try Output.json(backup) }
            print("The backup is whole and opens.\n" + List.describe(backup))
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup into the vault (a backup of the current state is made first).",
            discussion: """
                --merge (the default) adds items the vault lacks and, of items in both, keeps the newer. \
                --replace makes the vault hold what the backup holds: other items move to the trash, where \
                `coffer restore` brings them back. With --password-stdin, the first line is the master password \
                if the vault is locked, then the password that opens the backup if the current one does not.
                """)
        @Argument(help: "The backup file.") var path: String
        @Flag(help: "Add missing items; keep the newer of items in both (default).") var merge = false
        @Flag(help: "Hold exactly the backup's items; move the others to the trash.") var replace = false
        @Flag(help: "Show what would change; change nothing.") var dryRun = false
        @Option(help: "- to open the backup with a recovery code (asked for, or read from standard input).")
        var recoveryCode: String?
        @OptionGroup var secrets: SecretOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard !(merge && replace) else { throw ValidationError("Choose --merge or --replace, not both.") }
            try SecretArgument.requireStandardInput(recoveryCode, option: "--recovery-code")
        }

        func run() throws {
            let file = absolute(path)
            let mode: RestoreMode = replace ? .replace : .merge
            let summary = try BackupCommandGroup.call(secrets: secrets, recoveryCode: recoveryCode) {
                RestoreBackup(path: file, mode: mode, dryRun: dryRun, secret: $1, settings: $0)
            }
            if output.json { return try Output.json(summary) }
            let counts =
                "\(summary.added) added, \(summary.updated) replaced by the backup's version, \(summary.trashed) moved to the trash, \(summary.unchanged) unchanged"
            if summary.dryRun {
                Terminal.note("Dry run, nothing changed. Restoring would give: \(counts).")
            } else {
                Terminal.note(
                    "Restored: \(counts). The state before the restore was backed up to \(summary.safetyBackup ?? "-")."
                )
            }
        }
    }
}

extension BackupCommandGroup {
    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a backup kept on the sync server into the backup folder; prints its path.",
            discussion: """
                A backup made before an account reset is released only to the master password or recovery code \
                in force then: you are asked for the password, or give --recovery-code - for the code.
                """)
        @Argument(help: "The backup's id, from `coffer backup list --server`.") var id: String
        @OptionGroup var secrets: SecretOptions
        @Option(
            help: "- to prove a backup from before a reset with that time's recovery code (read from standard input).")
        var recoveryCode: String?

        func validate() throws { try SecretArgument.requireStandardInput(recoveryCode, option: "--recovery-code") }

        func run() throws {
            guard let uuid = UUID(uuidString: id) else {
                throw AgentFailure(
                    .invalidInput, "'\(id)' is not a backup id; `coffer backup list --server` lists them.")
            }
            let path = try BackupCommandGroup.call(secrets: secrets, recoveryCode: recoveryCode) {
                DownloadBackup(id: uuid, secret: $1, settings: $0)
            }
            print(path)
        }
    }
}

extension BackupCommandGroup {
    struct DeleteRemote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-remote",
            abstract: "Ask the sync server to delete a backup it keeps.",
            discussion: """
                Nothing goes at once: the server mails a confirmation link, then waits 72 hours (the operator \
                may set another delay), and any signed-in device can cancel (`coffer account deletions cancel ID`). \
                Backup files on this computer are not touched.
                """)
        @Argument(help: "The backup's id, from `coffer backup list --server`.") var id: String
        @OptionGroup var secrets: SecretOptions
        @Flag(help: "Do not ask for the typed confirmation (for scripts).") var yes = false

        func run() throws {
            guard let uuid = UUID(uuidString: id) else {
                throw AgentFailure(
                    .invalidInput, "'\(id)' is not a backup id; `coffer backup list --server` lists them.")
            }
            try DeletionRequestFlow.run(
                .backup, backupID: uuid, secrets: secrets, yes: yes,
                warning:
                    "This asks the server to delete its copy of backup \(uuid.uuidString.lowercased()); a new device could then no longer restore from it."
            )
        }
    }
}

/// A path as the user typed it, made absolute (the agent runs in another directory).
private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
