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
    let mail: any MailTransport
    let publicURL: @Sendable () -> String
    let retentionDays: Int
    let codeLifetime: TimeInterval
    /// Time between confirming the deletion of a safety net and the deletion.
    let deletionDelay: TimeInterval
    /// Wrong proofs of an old secret allowed per account before the quarantine waits.
    var guessBudget = GuessBudget.standard

    /// Mails a one-time code for `purpose`. Callers stay silent about unknown addresses, so the
    /// answer does not reveal who has an account.
    func sendCode(to account: StoredAccount, purpose: EmailCodePurpose, address: String) async throws {
        let code = try await issue(Tokens.emailCode(), for: account, purpose: purpose.rawValue)
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
            try await storage.recordEvent(
                accountID: account.id,
                event: AccountEvent(kind: .resetRequested, at: Date(), deviceName: nil, clientAddress: address))
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
        try await mail.send(MailMessage(to: account.email, subject: "Your Coffer code: \(code)", body: body))
    }

    /// Stores `code` (hashed) for `purpose` until the code lifetime ends, and returns it.
    func issue(_ code: String, for account: StoredAccount, purpose: String) async throws -> String {
        try await storage.addEmailCode(
            hash: Tokens.hashEmailCode(code), accountID: account.id, purpose: purpose,
            expiresAt: Date().addingTimeInterval(codeLifetime))
        return code
    }

    /// Checks a typed code; a wrong one counts against every live code of that purpose.
    func verifyCode(_ code: String, account: StoredAccount, purpose: EmailCodePurpose, consume: Bool = false)
        async throws
    {
        try await verify(code, account: account, purpose: purpose.rawValue, consume: consume)
    }

    /// ``verifyCode(_:account:purpose:consume:)`` for the portal's own purposes (links, sign-in codes).
    func verify(_ code: String, account: StoredAccount, purpose: String, consume: Bool) async throws {
        switch try await storage.checkEmailCode(
            hash: Tokens.hashEmailCode(code), accountID: account.id, purpose: purpose, now: Date(), consume: consume)
        {
        case .valid: return
        case .invalid:
            throw APIError(
                .unauthorized, "invalid-email-code",
                "That code is wrong, used or expired. Codes work once, for \(Int(codeLifetime / 60)) minutes; request a new one."
            )
        case .exhausted:
            throw APIError(
                .unauthorized, "email-code-exhausted",
                "Too many wrong codes: every code sent for this was cancelled. Request a new one.")
        }
    }

    /// Resets the account unless it already waits for keys; returns the epoch new keys are for.
    func reset(_ account: StoredAccount, address: String, deviceName: String?) async throws -> UInt32 {
        if account.awaitingKeys { return account.epoch }
        let now = Date()
        return try await storage.resetAccount(
            accountID: account.id, now: now, from: address,
            quarantineUntil: now.addingTimeInterval(Double(retentionDays) * 86_400),
            event: AccountEvent(kind: .reset, at: now, deviceName: deviceName, clientAddress: address))
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
        try await storage.requestDeletion(
            deletion, accountID: account.id, tokenHash: Tokens.hash(token),
            event: AccountEvent(kind: .deletionRequested, at: now, deviceName: deviceName, clientAddress: address))
        let link = "\(publicURL())/portal/deletion?id=\(deletion.id.uuidString.lowercased())&token=\(token)"
        let target =
            switch what {
            case .quarantine: "the data kept from before your account reset (your old items, in quarantine)"
            case .backup: "the backup \(backupID?.uuidString.lowercased() ?? "") kept on the server"
            }
        let hours = Int(deletionDelay / 3600)
        try await mail.send(
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
                    """))
        return deletion
    }
}
