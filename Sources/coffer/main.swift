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

// Every file this process creates (vault, journal, sockets) is readable by its owner only.
umask(0o077)
signal(SIGPIPE, SIG_IGN)

do {
    // The profile's own CA (from `--ca-file`), for this command and for the agent it may start.
    ServerTrust.trustProfileCertificates(at: ProfilePaths().serverCertificatesFile)
    var command = try Coffer.parseAsRoot()
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
