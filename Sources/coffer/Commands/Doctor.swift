import ArgumentParser
import CofferAPI
import CofferAgent
import CofferBackup
import CofferClient
import CofferCrypto
import CofferStore
import CofferVault
import Foundation

/// `coffer doctor`: this device's state in plain words, and the one next step that matters.
///
/// Made to be pasted into a support chat: it reads only what needs no secret (the vault file's
/// header and counts, the agent's state, the sync settings, backup headers) and asks the server
/// only whether it answers and what time it has. It prints no item, key, token or password.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain this device's state in plain words, and the next step; nothing secret is shown.",
        discussion: "Exits 0 whenever it could examine the device, whatever it found.")

    @OptionGroup var output: OutputOptions

    /// One thing looked at.
    struct Finding: Encodable {
        /// What: vault, agent, sync, server, changes, reset, backups, recovery-kit.
        let topic: String
        /// `ok`, `attention` (worth doing something about) or `problem` (something does not work).
        let state: Health
        /// The sentence.
        let text: String
    }

    enum Health: String, Encodable {
        case ok, attention, problem
    }

    /// The JSON shape.
    struct Report: Encodable {
        let profile: String
        let findings: [Finding]
        let nextStep: String
    }

    /// How far apart the two clocks may be before sign-ins and one-time codes suffer.
    static let clockTolerance: TimeInterval = 120

    /// What was found so far, and the candidate next steps by urgency (lowest first).
    struct Examination {
        var findings: [Finding] = []
        var steps: [(priority: Int, text: String)] = []

        mutating func note(_ topic: String, _ state: Health, _ text: String) {
            findings.append(Finding(topic: topic, state: state, text: text))
        }

        mutating func suggest(_ priority: Int, _ text: String) { steps.append((priority, text)) }

        var nextStep: String { steps.min { $0.priority < $1.priority }?.text ?? "Nothing needs doing." }
    }

    func run() throws {
        let paths = ProfilePaths()
        let examination = examine(paths)
        if output.json {
            return try Output.json(
                Report(profile: paths.dataDirectory, findings: examination.findings, nextStep: examination.nextStep))
        }
        for finding in examination.findings {
            let mark = finding.state == .ok ? "ok" : finding.state == .attention ? "!!" : "XX"
            print("[\(mark)] \(finding.text)")
        }
        print("")
        print("Next step: \(examination.nextStep)")
    }

    private func examine(_ paths: ProfilePaths) -> Examination {
        var exam = Examination()
        let holdings = BeforeResetHoldings.read(paths: paths)
        guard FileManager.default.fileExists(atPath: paths.vaultFile) else {
            exam.note("vault", .attention, "There is no vault on this device yet (\(paths.vaultFile)).")
            resetFindings(holdings, &exam)
            exam.suggest(
                50,
                "`coffer init` makes a new vault; `coffer login --server URL --email ADDRESS` brings an existing account to this device."
            )
            return exam
        }
        let header: AccountHeader
        do {
            header = try VaultStore.readHeader(at: paths.vaultFile)
        } catch {
            exam.note("vault", .problem, "The vault file \(paths.vaultFile) cannot be read: \(error)")
            exam.suggest(0, "Restore your newest backup (`coffer backup list`, then `coffer backup restore FILE`).")
            return exam
        }
        let kdf = header.kdfParameters
        exam.note(
            "vault", .ok,
            "Vault: \(paths.vaultFile) (key epoch \(header.epoch); password stretched with Argon2id, \(kdf.memoryKiB / 1024) MiB, \(kdf.iterations) passes)."
        )
        let agentState = try? AgentClient.connectIfRunning(paths)?.state()
        let unlocked = agentState?.isUnlocked == true
        if let agentState, agentState.isUnlocked {
            exam.note(
                "agent", .ok,
                "Unlocked: the agent holds the key and locks after \(agentState.idleTimeoutSeconds / 60) idle minute(s)\(agentState.hasPIN ? "; quick unlock by PIN is on" : "")."
            )
        } else {
            exam.note(
                "agent", .ok, "Locked: `coffer unlock` opens it (commands also ask for the password when needed).")
        }
        let store = try? VaultStore.open(at: paths.vaultFile)
        let sync = try? store?.syncState()
        resetFindings(holdings, &exam)
        if let sync {
            syncFindings(sync, pending: (try? store?.pendingChangeCount()) ?? 0, unlocked: unlocked, &exam)
        } else {
            exam.note(
                "sync", .ok,
                "Local only: this vault syncs with no server (`coffer register --server URL --email ADDRESS` connects it)."
            )
        }
        backupFindings(paths: paths, header: header, &exam)
        recoveryKitFinding(paths: paths, signedIn: sync?.sealedRefreshToken != nil, &exam)
        return exam
    }

    private func syncFindings(
        _ sync: SyncState, pending: Int, unlocked: Bool, _ exam: inout Examination
    ) {
        let last = sync.lastSyncedAt.map { "last synced \(Self.when($0))" } ?? "never synced"
        if sync.sealedRefreshToken == nil || sync.lastSyncProblemKind == .signedOut {
            let why = sync.lastSyncProblem.map { ": \($0)" } ?? "."
            exam.note(
                "sync", .problem, "Signed out of \(sync.email) on \(sync.serverURL)\(why) Items on this device stay.")
            exam.suggest(
                10,
                "Sign in again with the current password: `coffer login --server \(sync.serverURL) --email \(sync.email)`; nothing on this device is lost."
            )
        } else {
            exam.note("sync", .ok, "Signed in as \(sync.email) on \(sync.serverURL), \(last).")
            if let problem = sync.lastSyncProblem {
                exam.note("sync", .attention, "The last sync failed: \(problem)")
            }
            if sync.lastSyncProblemKind == .serverLostData {
                exam.suggest(15, "`coffer sync` says what the server lost and offers to put this device's copy back.")
            }
        }
        if pending > 0 {
            exam.note("changes", .attention, "\(pending) change(s) on this device are not on the server yet.")
            exam.suggest(
                40, unlocked ? "`coffer sync` sends them." : "`coffer unlock`, then `coffer sync`, sends them.")
        } else {
            exam.note("changes", .ok, "Every change on this device is on the server.")
        }
        let server = sync.serverURL
        do {
            let probe = try AsyncBridge.wait { try await APIClient(baseURL: server).probe() }
            let milliseconds = Int(
                probe.roundTrip.components.seconds * 1000 + probe.roundTrip.components.attoseconds
                    / 1_000_000_000_000_000)
            exam.note("server", .ok, "The server answers (in \(milliseconds) ms).")
            if let skew = probe.clockSkew(), abs(skew) > Self.clockTolerance {
                let minutes = Int((abs(skew) / 60).rounded())
                exam.note(
                    "clock", .problem,
                    "This computer's clock is \(minutes) minute(s) \(skew > 0 ? "ahead of" : "behind") the server's: one-time codes and sign-ins can fail."
                )
                exam.suggest(5, "Set this computer's clock right (turn on automatic time), then try again.")
            } else if probe.serverClock != nil {
                exam.note("clock", .ok, "This computer's clock agrees with the server's.")
            }
        } catch {
            exam.note("server", .problem, "The server cannot be reached: \(error)")
            exam.suggest(
                30, "Check the network connection and that \(server) is up; changes wait on this device meanwhile.")
        }
    }

    private func resetFindings(
        _ holdings: BeforeResetHoldings, _ exam: inout Examination
    ) {
        if let notice = holdings.notice {
            exam.note(
                "reset", .attention,
                "The account was reset on \(notice.resetAt ?? "an unknown date") from \(notice.resetFrom ?? "an unknown address"), not by this device."
            )
        }
        guard holdings.itemCount > 0 else { return }
        exam.note(
            "reset", .attention,
            "\(holdings.itemCount) item(s) from before the reset are kept on this device; nothing was deleted.")
        exam.suggest(
            20,
            holdings.itemsInVault > 0
                ? "Finish the reset (`coffer account reset` with the code from the reset mail or page) or sign in with the new password (`coffer login`); then `coffer recover --from-device` moves these items into the account."
                : "`coffer recover --from-device` moves the items from before the reset into the account (it asks for the old password)."
        )
    }

    private func backupFindings(
        paths: ProfilePaths, header: AccountHeader, _ exam: inout Examination
    ) {
        guard let settings = try? BackupSettings(paths: paths) else {
            exam.note(
                "backups", .problem,
                "The backup settings (COFFER_BACKUP_*) are not valid: `coffer backup list` says why.")
            return
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: settings.directory)) ?? []
        let files = names.filter { $0.hasSuffix("." + BackupFormat.fileExtension) }.compactMap {
            try? BackupFile.read(at: (settings.directory as NSString).appendingPathComponent($0))
        }
        guard let newest = files.max(by: { $0.header.createdAt < $1.header.createdAt }) else {
            exam.note("backups", .attention, "No backup in \(settings.directory) yet.")
            exam.suggest(60, "`coffer backup create` makes a backup now (automatic ones follow your changes).")
            return
        }
        let opens = newest.header.opensWith(current: header).map(\.description).joined(separator: ", or ")
        exam.note(
            "backups", .ok,
            "\(files.count) backup(s) in \(settings.directory); the newest, \(Self.when(newest.header.createdAt)), opens with \(opens)."
        )
    }

    /// The kit's age comes from the account's events (registration, new kit, reset), which only a
    /// signed-in, unlocked device can fetch; otherwise it says how to check.
    private func recoveryKitFinding(
        paths: ProfilePaths, signedIn: Bool, _ exam: inout Examination
    ) {
        guard signedIn, let agent = ProfileVault.unlockedAgent(paths),
            let events = try? agent.call(ListAccountEvents())
        else {
            exam.note(
                "recovery-kit", .ok,
                "Recovery kit: keep its code on paper; `coffer recovery-kit new` replaces a lost one (its age shows here when the vault is unlocked and signed in)."
            )
            return
        }
        let kinds: Set<AccountEventKind> = [.register, .recoveryKitRotated, .resetCompleted, .recovery]
        guard let made = events.filter({ kinds.contains($0.kind) }).map(\.at).max() else { return }
        let days = Int(Date().timeIntervalSince(made) / 86_400)
        exam.note("recovery-kit", .ok, "The recovery kit in force was made \(Self.when(made)) (\(days) day(s) ago).")
    }

    private static func when(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt))
    }
}
