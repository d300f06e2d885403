import CSystemSupport
import CofferAgentTransport
import CofferCrypto
import CofferStore
import CofferVault
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The long-running agent: keeps the account key in memory and serves other `coffer` processes of
/// the same user over a Unix socket in an owner-only directory.
///
/// Single-threaded by design: one request at a time, so the session needs no locking. It locks
/// after `idleTimeout` without requests and exits once it holds nothing (no key and no PIN copy).
public final class AgentServer {
    private let paths: ProfilePaths
    private var session: VaultSession? {
        didSet {
            guard session !== oldValue else { return }
            if let session { liveSync?.start(store: session.store, keyring: session.keyring) } else { liveSync?.stop() }
        }
    }
    /// Hints of other devices' changes while unlocked.
    private var liveSync: LiveSync?
    private var pinEnvelope: PINEnvelope?
    private var idleTimeoutSeconds = AgentServer.defaultIdleTimeoutSeconds
    /// Steps run after the current answer is written (backups), so no command waits for them.
    private var afterResponse: [() -> Void] = []
    private var lastActivity = ContinuousClock.now
    private var isFinished = false
    private var syncs: BackgroundSync?
    private var sshAgent: SSHAgentService?
    /// Set while handling a request that changed the vault and wants it synced.
    private var syncRequested = false

    /// 15 minutes, as security.md's convenience window.
    public static let defaultIdleTimeoutSeconds = 15 * 60
    /// The longest idle timeout: a week.
    public static let longestIdleTimeoutSeconds = 7 * 24 * 3600
    /// How long a freshly started agent waits for its first unlock before giving up.
    static let startupGraceSeconds = 30

    /// An agent for the profile at `paths`.
    public init(paths: ProfilePaths) {
        self.paths = paths
    }

    /// Listens, tells the launcher it is ready on `readyDescriptor`, and serves until there is nothing left to hold.
    public func run(readyDescriptor: Int32) throws {
        coffer_harden_process()
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.agentDirectory)
        let listener = try UnixSocket.listen(at: paths.agentSocket)
        defer {
            listener.close()
            unlink(paths.agentSocket)
        }
        let syncs = try BackgroundSync()
        self.syncs = syncs
        let liveSync = try LiveSync()
        self.liveSync = liveSync
        defer { liveSync.stop() }
        let sshAgent = SSHAgentService(socketPath: paths.sshAgentSocket)
        self.sshAgent = sshAgent
        defer { sshAgent.stop() }
        DetachedProcess.signalReady(on: readyDescriptor)
        lastActivity = .now
        // A sync still running when the agent is done holding keys finishes first: its result is written.
        while !isFinished || syncs.isBusy {
            let own = [listener.descriptor, syncs.wakeDescriptor, liveSync.wakeDescriptor]
            let ready = UnixSocket.readable(own + sshAgent.descriptors, timeoutMilliseconds: waitMilliseconds())
            if ready.contains(syncs.wakeDescriptor) {
                _ = syncs.finish()
                try? session?.refreshIfChanged()
            }
            if ready.contains(liveSync.wakeDescriptor) {
                liveSync.drain()
                if let session { syncs.request(store: session.store, keyring: session.keyring, reply: nil) }
            }
            if ready.contains(listener.descriptor), let connection = listener.acceptConnection() {
                if serve(connection) { connection.close() }
            }
            for descriptor in ready where !own.contains(descriptor) {
                sshAgent.serve(descriptor, session: session)
            }
            if idleTimeHasPassed() { lockForInactivity() }
        }
    }

    private func waitMilliseconds() -> Int32 {
        let limit = session != nil ? idleTimeoutSeconds : (pinEnvelope != nil ? -1 : Self.startupGraceSeconds)
        guard limit >= 0 else { return -1 }
        let elapsed = ContinuousClock.now - lastActivity
        let remaining = Duration.seconds(limit) - elapsed
        let milliseconds =
            remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, milliseconds))
    }

    private func idleTimeHasPassed() -> Bool { waitMilliseconds() == 0 }

    private func lockForInactivity() {
        Self.backUpBeforeLock(session, paths: paths)
        session = nil
        sshAgent?.forgetKeys()
        if pinEnvelope == nil { isFinished = true }
        lastActivity = .now
    }

    /// Changes the backup interval held back are backed up, and the index cache brought up to date,
    /// before the keys leave memory.
    private static func backUpBeforeLock(_ session: VaultSession?, paths: ProfilePaths) {
        guard let session else { return }
        try? session.saveIndexCache()
        try? BackupService.automatic(for: session, paths: paths)?.beforeLock()
    }

    /// Serves one connection; returns `false` when the connection waits for a sync and stays open.
    private func serve(_ connection: UnixSocket) -> Bool {
        // Only processes of the agent's own user may talk to it; the directory is owner-only too.
        guard let uid = connection.peerUID, uid == getuid() else { return true }
        let answer: Data
        do {
            let call = try AgentProtocol.call(from: connection.readMessage())
            if let sync = call as? SyncNow, !sync.healsServer, let session, let syncs {
                lastActivity = .now
                syncs.request(store: session.store, keyring: session.keyring, reply: connection)
                return false
            }
            syncRequested = false
            answer = answerFrame(call)
        } catch {
            answer = AgentProtocol.frame(answer: Result<Done, AgentFailure>.failure(AgentFailure(error)))
        }
        if syncRequested, let session, let syncs {
            // The change is saved; its answer waits for the sync it started, other commands do not.
            syncRequested = false
            lastActivity = .now
            syncs.request(store: session.store, keyring: session.keyring, reply: connection, answer: answer)
            runDeferredWork()
            return false
        }
        lastActivity = .now
        try? connection.writeMessage(answer)
        // Work the answer does not wait for (backups), done once the client has it.
        runDeferredWork()
        return true
    }

    /// Work the answer does not wait for (backups), done once the client has it.
    private func runDeferredWork() {
        let work = afterResponse
        afterResponse = []
        for step in work { step() }
    }

    /// The answer to `call`, framed: the agent answers calls about its key itself, vault calls on
    /// its session.
    private func answerFrame(_ call: any AgentCall) -> Data {
        if let call = call as? any KeyHolderCall { return answerFrame(keyHolderCall: call) }
        guard let call = call as? any VaultCall else {
            return AgentProtocol.frame(answer: Result<Done, AgentFailure>.failure(AgentProtocol.malformed))
        }
        return answerFrame(vaultCall: call)
    }

    private func answerFrame<Call: KeyHolderCall>(keyHolderCall call: Call) -> Data {
        AgentProtocol.frame(
            answer: Result { () throws(AgentFailure) -> Call.Answer in
                do { return try call.answer(by: self) } catch { throw AgentFailure(error) }
            })
    }

    private func answerFrame<Call: VaultCall>(vaultCall call: Call) -> Data {
        guard let session else {
            return AgentProtocol.frame(answer: Result<Call.Answer, _>.failure(Self.lockedFailure))
        }
        var vault = VaultContext(session: session, isLocked: false, pinEnabled: pinEnvelope != nil)
        vault.schedule = { [unowned self] work in afterResponse.append(work) }
        vault.syncInBackground = { [unowned self] in syncRequested = true }
        return AgentProtocol.frame(answer: Result { () throws(AgentFailure) in try vault.answer(call) })
    }

    // MARK: What the key-holder calls do

    /// What the agent holds.
    var state: AgentState {
        AgentState(
            isUnlocked: session != nil, hasPIN: pinEnvelope != nil,
            pinAttemptsLeft: pinEnvelope?.attemptsLeft ?? 0, idleTimeoutSeconds: idleTimeoutSeconds)
    }

    /// Opens the vault with an account key the CLI derived.
    func unlock(accountKey: Data, idleTimeoutSeconds timeout: Int) throws -> AgentState {
        try unlock({ try VaultSetup.keyring(store: $0, accountKeyBytes: accountKey) }, timeout: timeout)
    }

    /// Keeps a PIN-wrapped copy of the key in memory.
    func setPIN(_ pin: String) throws {
        guard let session else { throw Self.lockedFailure }
        pinEnvelope = try PINEnvelope(pin: pin, keyring: session.keyring)
    }

    /// Erases the PIN-wrapped copy; an agent holding nothing then exits.
    func clearPIN() {
        pinEnvelope = nil
        if session == nil { isFinished = true }
    }

    /// Forgets the key once the answer is sent (backing up changes held back first).
    func lock() {
        let held = session
        afterResponse.append { [paths] in Self.backUpBeforeLock(held, paths: paths) }
        session = nil
        sshAgent?.forgetKeys()
        if pinEnvelope == nil { isFinished = true }
    }

    /// Serves the vault's SSH keys on the ssh-agent socket.
    func serveSSHKeys(_ confirmation: SSHConfirmation?) throws -> SSHAgentStatus {
        guard let session, let sshAgent else { throw Self.lockedFailure }
        return try sshAgent.start(confirmation: confirmation, session: session)
    }

    private func unlock(_ makeKeyring: (VaultStore) throws -> Keyring, timeout: Int?) throws -> AgentState {
        let store = try VaultStore.open(at: paths.vaultFile)
        let session = try VaultSession(store: store, keyring: try makeKeyring(store))
        self.session = session
        // Clamped as the CLI clamps it: a number from the socket never overflows the idle arithmetic.
        if let timeout { idleTimeoutSeconds = min(max(1, timeout), Self.longestIdleTimeoutSeconds) }
        // After the unlock's answer: a one-time move to the compact format (a backup first) takes
        // the next command's time, not the unlock's.
        afterResponse.append { [paths] in ContentFormatMove.runIfDue(session, paths: paths) }
        afterResponse.append { try? session.saveIndexCache() }
        afterResponse.append { [paths] in try? BackupService.automatic(for: session, paths: paths)?.daily() }
        afterResponse.append { coffer_release_free_memory() }
        return state
    }

    /// Opens the vault with the PIN-wrapped key; wrong PINs count down to erasing it.
    func unlock(pin: String) throws -> AgentState {
        guard var envelope = pinEnvelope else {
            throw AgentFailure(.locked, "Quick unlock by PIN is not set up. Unlock with your master password.")
        }
        let accountKey: AccountKey
        do {
            accountKey = try envelope.open(pin: pin)
            pinEnvelope = envelope
        } catch {
            pinEnvelope = envelope.attemptsLeft > 0 ? envelope : nil
            if pinEnvelope == nil && session == nil { isFinished = true }
            if envelope.attemptsLeft > 0 {
                throw AgentFailure(
                    .wrongSecret,
                    "Wrong PIN; \(envelope.attemptsLeft) attempt(s) left before quick unlock is turned off.")
            }
            throw AgentFailure(
                .wrongSecret,
                "Wrong PIN \(PINEnvelope.maximumAttempts) times: quick unlock is now off and its key erased. Your vault is untouched; unlock with your master password."
            )
        }
        return try unlock(
            { store in
                let header = try store.header()
                return Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
            }, timeout: nil)
    }

    private static let lockedFailure = AgentFailure(
        .locked, "The vault is locked. Run `coffer unlock` (or pass --password-stdin) and try again.")
}
