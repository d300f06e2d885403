import CofferAPI
import Foundation
import HTTPTypes

/// The steps of recovery and reset that both the JSON API and the portal's pages take: one-time
/// codes by e-mail, the reset itself, and the quarantine's expiry.
///
/// Nothing here decrypts or deletes vault data: a reset moves the old epoch into quarantine for
/// `retentionDays`, and only expiry or the user's own confirmation purges it (security.md).
struct AccountLifecycle: Sendable {
    let storage: any ServerStorage
    let outbox: MailOutbox
    let publicURL: @Sendable () -> String
    /// Keys code and token hashes, and stands in for accounts that do not exist or cannot receive
    /// codes, so answers and their timing are the same either way.
    let secret: ServerSecret
    let retentionDays: Int
    let codeLifetime: TimeInterval
    /// Time between confirming the deletion of a safety net and the deletion.
    let deletionDelay: TimeInterval
    /// Wrong proofs of an old secret allowed per account before the quarantine waits.
    var guessBudget = GuessBudget.standard
    /// Wrong codes after which every live code of that purpose is cancelled: a 40-bit code cannot be
    /// guessed in five tries, and the owner asks for a new one.
    static let codeFailureLimit = 5

    /// Mails a one-time code for `purpose`; an address that gets none gets the same work and no mail,
    /// so the answer does not reveal who has an account.
    func sendCode(to recipient: CodeRecipient, purpose: EmailCodePurpose, address: String) async throws {
        let code = Tokens.emailCode()
        let minutes = Int(codeLifetime / 60)
        let body: String
        switch purpose {
        case .recover:
            body = """
                Someone (hopefully you) asked to set a new Coffer password with the recovery code.

                Your one-time code: \(code)

                It works once, for \(minutes) minutes. Setting a new password this way keeps all your data:
                your recovery code opens the same vault. Every signed-in device will ask for the new password.
                If this was not you, ignore this message: without your recovery code the code is useless.
                """
        case .reset:
            if case .account(let account) = recipient {
                try await storage.recordEvent(
                    accountID: account.id,
                    event: AccountEvent(kind: .resetRequested, at: Date(), deviceName: nil, clientAddress: address))
            }
            body = """
                Someone (hopefully you) asked to RESET your Coffer account.

                Your one-time code: \(code)

                It works once, for \(minutes) minutes. Before you use it: a reset is the last resort. If you still
                have your recovery code, or a device that is still signed in, you do not need a reset — see
                \(publicURL())/portal. A reset keeps your current data in quarantine for \(retentionDays) days, and
                it comes back only with your old password, your old recovery code, or a device that still holds it.
                If this was not you, ignore this message.
                """
        }
        try await mail(code, purpose: purpose.rawValue, to: recipient, subject: "Your Coffer code: \(code)") { _ in body
        }
    }

    /// Stores `code` (or a link's token) for `purpose` until the code lifetime ends and posts the mail
    /// that carries it, in one transaction: once the code exists its mail is on its way, even if the
    /// process dies now. For ``CodeRecipient/nobody(address:)`` the same work is done for a stand-in
    /// account and a stand-in message that is never delivered. `body` gets the account's id (for links).
    func mail(
        _ code: String, purpose: String, to recipient: CodeRecipient, subject: String, body: (UUID) -> String
    ) async throws {
        let (accountID, address, deliver) =
            switch recipient {
            case .account(let account): (account.id, account.email, true)
            case .nobody(let address): (secret.phantomAccountID(for: address), address, false)
            }
        let expiresAt = Date().addingTimeInterval(codeLifetime)
        let letter = try outbox.seal(
            MailMessage(to: address, subject: subject, body: body(accountID)), discardAfter: expiresAt, deliver: deliver
        )
        try await storage.addEmailCode(
            hash: secret.codeHash(code), accountID: accountID, purpose: purpose, expiresAt: expiresAt, mail: letter)
        outbox.posted()
    }

    /// Stores `code` (hashed) for `purpose` until the code lifetime ends, without mail (a code shown
    /// on a page), and returns it.
    func issue(_ code: String, for accountID: UUID, purpose: String) async throws -> String {
        try await storage.addEmailCode(
            hash: secret.codeHash(code), accountID: accountID, purpose: purpose,
            expiresAt: Date().addingTimeInterval(codeLifetime), mail: nil)
        return code
    }

    /// Who may receive a code by mail: the account, when its owner confirmed the address (the link
    /// mailed at registration). A reset by e-mail must not be available to whoever typed someone
    /// else's address at registration, nor codes go to a mailbox nobody proved is the user's.
    func recipient(_ account: StoredAccount?, typed address: String) -> CodeRecipient {
        guard let account, account.emailVerified else { return .nobody(address: address) }
        return .account(account)
    }

    /// Checks a typed code for an address without an account, with the same work and the same
    /// refusal as a wrong code for a real one.
    func refuseCode(_ code: String, email: String, purpose: String) async throws -> Never {
        try await verify(code, accountID: secret.phantomAccountID(for: email), purpose: purpose, consume: false)
        throw invalidCode
    }

    /// Checks a typed code; a wrong one counts against every live code of that purpose.
    func verifyCode(_ code: String, account: StoredAccount, purpose: EmailCodePurpose, consume: Bool = false)
        async throws
    {
        try await verify(code, accountID: account.id, purpose: purpose.rawValue, consume: consume)
    }

    /// ``verifyCode(_:account:purpose:consume:)`` for the portal's own purposes (links, sign-in codes).
    func verify(_ code: String, accountID: UUID, purpose: String, consume: Bool) async throws {
        switch try await storage.checkEmailCode(
            hash: secret.codeHash(code), accountID: accountID, purpose: purpose, now: Date(), consume: consume,
            allowedFailures: Self.codeFailureLimit)
        {
        case .valid: return
        case .invalid:
            throw invalidCode
        case .exhausted:
            throw APIError(
                .unauthorized, "email-code-exhausted",
                "Too many wrong codes: every code sent for this was cancelled. Request a new one.")
        }
    }

    /// Resets the account unless it already waits for keys; returns the epoch new keys are for.
    /// `code`, when given, is used up in the same transaction.
    func reset(_ account: StoredAccount, address: String, deviceName: String?, using code: CodeUse? = nil)
        async throws -> UInt32
    {
        let now = Date()
        return try await storage.resetAccount(
            accountID: account.id, now: now, from: address,
            quarantineUntil: now.addingTimeInterval(Double(retentionDays) * 86_400), using: code,
            event: AccountEvent(kind: .reset, at: now, deviceName: deviceName, clientAddress: address))
    }

    /// Runs a change that uses up `code` in its own transaction; a code used or expired meanwhile
    /// (another request won the race) is the same refusal as a wrong code, and nothing changed.
    func consuming<T: Sendable>(_ code: String, purpose: String, _ change: (CodeUse) async throws -> T)
        async throws -> T
    {
        do {
            return try await change(
                CodeUse(
                    hash: secret.codeHash(code), purpose: purpose, now: Date(), allowedFailures: Self.codeFailureLimit))
        } catch is CodeNoLongerValid {
            throw invalidCode
        }
    }

    private var invalidCode: APIError {
        APIError(
            .unauthorized, "invalid-email-code",
            "That code is wrong, used or expired. Codes work once, for \(Int(codeLifetime / 60)) minutes; request a new one."
        )
    }

    /// Purges quarantines whose retention ended and carries out confirmed deletions whose wait is
    /// over; run hourly by the janitor and before anything reads what they change, so no answer is
    /// staler than the clock.
    func purgeExpired() async throws {
        _ = try await storage.purgeExpiredQuarantines(now: Date())
        _ = try await storage.executeDueDeletions(now: Date())
    }

    /// Records a request to delete a safety net and mails the link that confirms it. Nothing is
    /// deleted until the link is used and `deletionDelay` has passed; until then any signed-in device,
    /// `coffer status` and the link's page show it and can cancel it.
    func requestDeletion(
        of what: DeletionKind, backupID: UUID?, account: StoredAccount, address: String, deviceName: String?
    ) async throws -> PendingDeletion {
        let now = Date()
        let token = Tokens.generate()
        let deletion = PendingDeletion(
            id: UUID(), what: what, backupID: backupID, requestedAt: now, requestedFrom: address,
            confirmBy: now.addingTimeInterval(codeLifetime), confirmedAt: nil, executesAt: nil)
        let link = "\(publicURL())/portal/deletion?id=\(deletion.id.uuidString.lowercased())&token=\(token)"
        let target =
            switch what {
            case .quarantine: "the data kept from before your account reset (your old items, in quarantine)"
            case .backup: "the backup \(backupID?.uuidString.lowercased() ?? "") kept on the server"
            }
        let hours = Int(deletionDelay / 3600)
        let letter = try outbox.seal(
            MailMessage(
                to: account.email, subject: "Confirm: delete \(what == .quarantine ? "quarantined data" : "a backup")?",
                body: """
                    Someone signed in to your Coffer account (from \(address)\(deviceName.map { ", device \"\($0)\"" } ?? "")) asked to delete
                    \(target).

                    To confirm, open this link and press Confirm:

                    \(link)

                    The link works for \(Int(codeLifetime / 60)) minutes. After you confirm, the deletion waits \(hours) hours; until
                    then this link, every signed-in device (`coffer account deletions`) and `coffer status` show it and
                    can cancel it. If this was not you, do not confirm: open the link and press Cancel, then change
                    your password.
                    """),
            discardAfter: deletion.confirmBy)
        try await storage.requestDeletion(
            deletion, accountID: account.id, tokenHash: secret.tokenHash(token),
            event: AccountEvent(kind: .deletionRequested, at: now, deviceName: deviceName, clientAddress: address),
            mail: letter)
        outbox.posted()
        return deletion
    }
}

/// Who a mailed code is for.
enum CodeRecipient {
    /// An account whose confirmed address receives it.
    case account(StoredAccount)
    /// An address that gets no mail (unknown, unconfirmed, or no code applies): the same work is done
    /// for a stand-in, so the answer and its timing do not tell which.
    case nobody(address: String)
}
