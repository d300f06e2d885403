import ArgumentParser
import CofferModel
import Foundation

/// The `coffer` command: a zero-knowledge password manager for the terminal.
struct Coffer: ParsableCommand {
    /// Printed by `coffer --version`.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "A password manager that keeps your vault encrypted on your devices.",
        discussion: """
            Start with `coffer init`. `coffer unlock` keeps the vault open in a background agent for \
            15 minutes of inactivity, so later commands need no password. Set COFFER_HOME to keep a \
            profile's files in one directory.
            """,
        version: version,
        subcommands: [
            Init.self, Unlock.self, Lock.self, Status.self, Doctor.self,
            Add.self, Edit.self, Show.self, Get.self, List.self, Search.self,
            Remove.self, Restore.self, Purge.self,
            Generate.self, TOTPCode.self, Copy.self, PIN.self,
            Read.self, Run.self, Inject.self, GitCredential.self, SSHAgentCommand.self,
            Register.self, Login.self, Logout.self, Sync.self, Devices.self, Account.self,
            PasswordCommand.self, RecoveryKitCommand.self, Recover.self, BackupCommandGroup.self,
            Import.self, Export.self, AttachmentCommand.self,
            Completion.self,
            Agent.self, ClipboardClear.self,
        ]
    )
}
