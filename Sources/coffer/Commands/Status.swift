import ArgumentParser
import CofferAPI
import CofferAgent
import CofferModel
import CofferStore
import Foundation

/// `coffer status`: where the vault is, whether it is locked, and what it holds.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show where the vault is, whether it is locked, and item counts per type.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var secrets: SecretOptions

    /// The JSON shape; counts are null while locked, because they are inside the encryption.
    struct Report: Encodable {
        let vault: String
        let exists: Bool
        let locked: Bool
        let pin: Bool
        let items: Int?
        let trash: Int?
        let byType: [String: Int]?
        let server: String?
        let email: String?
        let pendingChanges: Int?
        /// When a sync last completed (ISO 8601); what "in sync" can honestly mean.
        let lastSyncedAt: Date?
        /// Why the last sync could not run, until one completes.
        let syncProblem: String?
        let accountReset: AccountResetNotice?
        let itemsFromBeforeReset: Int
        let beforeResetArchives: [BeforeResetHoldings.Archive]
        /// Deletions of safety nets waiting to happen; `nil` when the server was not asked (locked,
        /// local only, or unreachable).
        let pendingDeletions: [PendingDeletionListing]?
    }

    func run() throws {
        let paths = ProfilePaths()
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else {
            let kept = BeforeResetHoldings.read(paths: paths).itemCount
            let note =
                kept > 0
                ? " \(kept) item(s) from before an account reset are kept in \(VaultArchive.directory(besides: paths.vaultFile)); sign in with `coffer login`, then `coffer recover --from-device` moves them into the account."
                : ""
            throw AgentFailure(.noVault, CofferStoreError.noVault(path: paths.vaultFile).description + note)
        }
        var vault: (any VaultAccess)?
        if let agent = ProfileVault.unlockedAgent(paths) {
            vault = agent
        } else if secrets.passwordStdin {
            vault = try VaultConnector(secrets: secrets.reader()).open()
        }
        let status = try vault?.call(ReadStatus())
        // A deletion someone asked for must be seen where the user looks; status stays usable offline.
        let deletions = status?.server != nil ? try? vault?.call(ListPendingDeletions()) : nil
        let pin = (try? AgentClient.connectIfRunning(paths)?.state().hasPIN) == true
        let holdings = BeforeResetHoldings.read(paths: paths)
        let report = Report(
            vault: paths.vaultFile, exists: true, locked: status?.locked ?? true, pin: pin,
            items: status?.items, trash: status?.trash,
            byType: status.map { Dictionary(uniqueKeysWithValues: $0.itemsByType.map { ($0.key.rawValue, $0.value) }) },
            server: status?.server, email: status?.email, pendingChanges: status?.pendingChanges,
            lastSyncedAt: status?.lastSyncedAt, syncProblem: status?.syncProblem,
            accountReset: holdings.notice, itemsFromBeforeReset: holdings.itemCount,
            beforeResetArchives: holdings.archives, pendingDeletions: deletions)
        if output.json { return try Output.json(report) }
        print("Vault: \(paths.vaultFile)")
        print("State: \(report.locked ? "locked" : "unlocked")\(pin ? " (quick unlock by PIN is on)" : "")")
        printReset(holdings)
        guard let status else {
            print("Unlock with `coffer unlock` to see what the vault holds.")
            return
        }
        print("All items: \(status.items)")
        for type in ItemType.allCases {
            if let count = status.itemsByType[type], count > 0 { print("  \(type.displayName): \(count)") }
        }
        print("Trash: \(status.trash)")
        if let server = status.server {
            // Only what is known: when the last sync completed, not a claim about the server right now.
            let checked =
                status.lastSyncedAt.map {
                    "last synced \($0.formatted(.relative(presentation: .named)))"
                } ?? "not synced yet"
            let pending =
                status.pendingChanges == 0
                ? checked : "\(status.pendingChanges) change(s) waiting to sync; \(checked)"
            print("Sync: \(status.email ?? "") on \(server), \(pending)")
            if let problem = status.syncProblem { print("Last sync failed: \(problem)") }
            for deletion in deletions ?? [] {
                print("Pending deletion \(deletion.id.uuidString.lowercased()): \(deletion.summary)")
                print("  Not yours? `coffer account deletions cancel \(deletion.id.uuidString.lowercased())`.")
            }
        } else {
            print("Sync: local only (`coffer register --server URL --email ADDRESS` connects it)")
        }
    }

    /// What happened when the account was reset elsewhere, and where this device's old items are.
    private func printReset(_ holdings: BeforeResetHoldings) {
        if let notice = holdings.notice {
            print(
                "Account reset: on \(notice.resetAt ?? "an unknown date") from \(notice.resetFrom ?? "an unknown address") (not by this device)."
            )
        }
        guard holdings.itemCount > 0 else { return }
        print("From before the reset: \(holdings.itemCount) item(s) kept on this device; nothing was deleted.")
        if holdings.itemsInVault > 0 {
            print(
                "  Once the account has its new password (`coffer account reset` finishes a reset begun on the website), sign in with it (`coffer login`); then `coffer recover --from-device` moves them into the account."
            )
        } else {
            for archive in holdings.archives { print("  \(archive.items) in \(archive.path)") }
            print("  `coffer recover --from-device` moves them into the account (it asks for the old password).")
        }
    }
}
