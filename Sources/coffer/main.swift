import ArgumentParser
import CofferAgent
import CofferBackup
import CofferClient
import CofferCrypto
import CofferInterchange
import CofferModel
import CofferStore
import CofferVault
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// What ArgumentParser prints for `--version`, before any set-up: building the command tree and the
// profile's paths was most of what this took.
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == "--version" {
    print(Coffer.version)
    exit(0)
}
// Every file this process creates (vault, journal, sockets) is readable by its owner only.
umask(0o077)
signal(SIGPIPE, SIG_IGN)

do {
    // The profile's own CA (from `--ca-file`), for this command and for the agent it may start.
    ServerTrust.trustProfileCertificates(at: ProfilePaths().serverCertificatesFile)
    var arguments = CommandLine.arguments.dropFirst()
    // Installed as `git-credential-coffer`, this program is git's credential helper.
    if (CommandLine.arguments[0] as NSString).lastPathComponent == "git-credential-coffer" {
        arguments = ["git-credential"] + arguments
    }
    var command = try CommandLookup.parse(arguments)
    try command.run()
} catch let error where isCofferError(error) {
    let failure = AgentFailure(error)
    Terminal.error(failure.message)
    for candidate in failure.candidates {
        Terminal.note(
            "  \(candidate.id.uuidString.lowercased())  \(candidate.type.rawValue)  \(candidate.title)  \(candidate.subtitle)"
        )
    }
    exit(ExitStatus(failure.kind).rawValue)
} catch {
    Coffer.exit(withError: error)
}

/// Whether an error comes from Coffer's own layers (and carries the user's sentence) rather than argument parsing.
func isCofferError(_ error: any Error) -> Bool {
    error is AgentFailure || error is CofferVaultError || error is CofferStoreError || error is CofferCryptoError
        || error is CofferModelError || error is CofferClientError || error is BackupError || error is ImportError
}

/// Finds the command to run without building ArgumentParser's whole command tree when it can.
///
/// Building the tree checks every subcommand type's protocol conformances at run time, and in a binary
/// this size each such check scans tens of thousands of conformance records: most of what `coffer get`
/// spent before doing anything. A valid invocation of a subcommand is therefore parsed by that
/// subcommand alone; anything else (help, a mistake, the root's own flags) goes through the root, so
/// help and error messages are exactly ArgumentParser's.
enum CommandLookup {
    static func parse(_ arguments: ArraySlice<String>) throws -> any ParsableCommand {
        let wantsHelp = arguments.contains {
            ["-h", "--help", "help", "--version", "--experimental-dump-help"].contains($0)
        }
        if !wantsHelp, let name = arguments.first,
            let subcommand = Coffer.configuration.subcommands.first(where: { $0._commandName == name }),
            let parsed = try? subcommand.parseAsRoot(Array(arguments.dropFirst()))
        {
            return parsed
        }
        return try Coffer.parseAsRoot(Array(arguments))
    }
}
