import CofferAPI
public import Foundation

/// The operator's support desk: what happened to an account, in words a support person can repeat
/// to the user, without anything that could open the user's data.
///
/// It runs as `coffer-server admin …` on the server machine against the server's database; nothing
/// of it is reachable over the network. Every look at one account is recorded in that account's
/// events, so the user can see that support looked, and when.
public struct SupportConsole: Sendable {
    let storage: any ServerStorage & SupportStorage
    /// Whose hands the records show, e.g. `support (alice@server)`.
    let operatorName: String

    /// Creates a console over `storage`, naming `operatorName` in the events it records.
    public init(storage: any ServerStorage & SupportStorage, operatorName: String) {
        self.storage = storage
        self.operatorName = operatorName
    }

    /// Why a console command could not do what was asked.
    public enum Failure: Error, CustomStringConvertible {
        /// What was typed is not an e-mail address (shown with invisible characters removed).
        case notAnAddress(shown: String)
        /// No account has that address.
        case noAccount(email: String)
        /// The account holds no quarantined data that could be kept longer.
        case nothingToExtend(email: String)

        /// The sentence the operator reads.
        public var description: String {
            switch self {
            case .notAnAddress(let shown):
                "'\(shown)' is not an e-mail address: give the account's address, such as name@example.org."
            case .noAccount(let email):
                "No account has the address \(email). Check the spelling, or search with `coffer-server admin accounts --search PART`."
            case .nothingToExtend(let email):
                "\(email) has no quarantined data left to keep longer: it has never been reset, or what a reset left behind was already deleted. `coffer-server admin account show \(email)` tells which."
            }
        }
    }

    /// The dossier of the account with `email`; the look is recorded in the account's events first.
    public func dossier(email: String, now: Date = Date()) async throws -> AccountDossier {
        let account = try await account(email)
        try await storage.recordEvent(accountID: account.id, event: supportEvent(.supportViewed, at: now))
        let budget = GuessBudget.standard
        async let devices = storage.deviceHistory(accountID: account.id)
        async let stored = storage.storedItems(accountID: account.id)
        async let quarantines = storage.quarantines(accountID: account.id)
        async let proofs = storage.quarantinesNeedingOldSecret(accountID: account.id)
        async let backups = storage.backups(accountID: account.id)
        async let deletions = storage.pendingDeletions(accountID: account.id, now: now)
        async let guessing = storage.guessing(
            accountID: account.id, since: now.addingTimeInterval(-budget.window), now: now)
        async let events = storage.events(accountID: account.id, limit: 1_000)
        async let restoredAt = storage.lastRestore()
        let (epochs, lastChangeAt) = try await stored
        let itemsPerEpoch = Dictionary(epochs.map { ($0.epoch, $0.items) }, uniquingKeysWith: +)
        let needingProof = try await proofs
        let allEvents = try await events
        let limits = try await guessing
        return AccountDossier(
            email: account.email, id: account.id, createdAt: account.createdAt, emailConfirmed: account.emailVerified,
            epoch: account.epoch, awaitingNewPassword: account.awaitingKeys, serverRestoredAt: try await restoredAt,
            devices: try await devices, storage: epochs, lastChangeAt: lastChangeAt,
            resets: allEvents.filter { $0.kind == .reset }.map {
                AccountDossier.Reset(at: $0.at, from: $0.clientAddress, through: $0.deviceName)
            },
            quarantines: try await quarantines.map {
                AccountDossier.Quarantine(
                    epoch: $0.epoch, resetAt: $0.resetAt, expiresAt: $0.expiresAt, purgedAt: $0.purgedAt,
                    items: $0.purgedAt == nil ? itemsPerEpoch[$0.epoch] ?? 0 : 0,
                    needsOldSecret: needingProof.contains($0.epoch))
            },
            backups: try await backups, pendingDeletions: try await deletions,
            limits: AccountDossier.Limits(
                wrongOldSecretsLastHour: limits.wrongOldSecrets, oldSecretsAllowedPerHour: budget.limit,
                liveEmailCodes: limits.liveEmailCodes, wrongEmailCodes: limits.wrongEmailCodes),
            events: allEvents)
    }

    /// Keeps the account's quarantined data `days` days longer, at the user's request; returns the new expiries.
    public func extendQuarantine(email: String, days: Int, now: Date = Date()) async throws -> [Date] {
        let account = try await account(email)
        let expiries = try await storage.extendQuarantines(
            accountID: account.id, days: days, event: supportEvent(.quarantineExtended, at: now))
        guard !expiries.isEmpty else { throw Failure.nothingToExtend(email: account.email) }
        return expiries
    }

    /// Accounts whose address contains `fragment`, one page. Only addresses, dates and device
    /// counts: nothing of any account's history, so a search is not recorded as a look at each.
    public func accounts(containing fragment: String, page: Int, perPage: Int) async throws -> [AccountListing] {
        try await storage.accounts(containing: fragment, offset: (page - 1) * perPage, limit: perPage)
    }

    /// The deployment's counts; registrations, resets and recoveries over the last `days` days.
    public func statistics(days: Int, now: Date = Date()) async throws -> ServerStatistics {
        try await storage.statistics(since: now.addingTimeInterval(-Double(days) * 86_400))
    }

    private func account(_ email: String) async throws -> StoredAccount {
        guard let normalized = try? EmailAddress.normalize(email) else {
            throw Failure.notAnAddress(
                shown: String(email.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(80)))
        }
        guard let account = try await storage.account(email: normalized) else {
            throw Failure.noAccount(email: normalized)
        }
        return account
    }

    private func supportEvent(_ kind: AccountEventKind, at now: Date) -> AccountEvent {
        AccountEvent(kind: kind, at: now, deviceName: operatorName, clientAddress: nil)
    }
}
