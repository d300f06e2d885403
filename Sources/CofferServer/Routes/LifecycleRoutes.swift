import CofferAPI
import Foundation
import Hummingbird

/// Password change, recovery kit, recovery by code, account reset and quarantine (the JSON API).
///
/// Every key arrives wrapped by the client; the server compares verifiers in constant time and
/// swaps keys in one transaction, so an interrupted change leaves the old or the new state.
struct LifecycleRoutes: Sendable {
    let accounts: AccountRoutes
    let lifecycle: AccountLifecycle
    let limits: AbuseLimits

    var storage: any ServerStorage { lifecycle.storage }

    func register(on router: Router<CofferRequestContext>, authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.post("/api/v1/account/password") { request, context in
            try await changePassword(request, context)
        }
        authenticated.post("/api/v1/account/recovery-kit") { request, context in
            try await rotateRecoveryKit(request, context)
        }
        authenticated.get("/api/v1/account/quarantine") { _, context in try await quarantines(context) }
        authenticated.post("/api/v1/account/quarantine/:epoch/open") { request, context in
            try await openQuarantine(request, context)
        }
        registerDeletions(on: authenticated)
        router.post("/api/v1/account/email-code") { request, context in try await emailCode(request, context) }
        router.post("/api/v1/recover/prelogin") { request, context in try await recoverPrelogin(request, context) }
        router.post("/api/v1/recover") { request, context in try await recover(request, context) }
        router.post("/api/v1/account/reset/check") { request, context in try await resetCheck(request, context) }
        router.post("/api/v1/account/reset") { request, context in try await reset(request, context) }
    }

    // MARK: Signed in

    /// The account of the session, after checking that the caller also knows the current password.
    func reauthenticated(_ currentAuthKey: Data, _ context: CofferRequestContext) async throws
        -> StoredAccount
    {
        let session = try context.requireSession()
        guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
        try await limits.logins.check(email: account.email, address: context.clientAddress)
        guard Tokens.constantTimeEquals(Tokens.verifier(of: currentAuthKey), account.authVerifier) else {
            throw APIError(.forbidden, "wrong-password", "The current password is not correct; nothing was changed.")
        }
        return account
    }

    private func changePassword(_ request: Request, _ context: CofferRequestContext) async throws
        -> HTTPResponse.Status
    {
        let body = try await request.decode(as: PasswordChangeRequest.self, context: context)
        let stored = try Self.validated(body.keys)
        let account = try await reauthenticated(body.currentAuthKey, context)
        let session = try context.requireSession()
        guard
            try await storage.replacePasswordKeys(
                accountID: account.id, epoch: body.epoch, keys: stored, keepDevice: session.deviceID,
                reason: .passwordChanged, using: nil,
                event: context.event(.passwordChanged))
        else { throw Self.epochMoved }
        return .noContent
    }

    private func rotateRecoveryKit(_ request: Request, _ context: CofferRequestContext) async throws
        -> HTTPResponse.Status
    {
        let body = try await request.decode(as: RecoveryKitRequest.self, context: context)
        let stored = try Self.validated(body.keys)
        let account = try await reauthenticated(body.currentAuthKey, context)
        guard
            try await storage.replaceRecoveryKeys(
                accountID: account.id, epoch: body.epoch, keys: stored,
                event: context.event(.recoveryKitRotated))
        else { throw Self.epochMoved }
        return .noContent
    }

    private func quarantines(_ context: CofferRequestContext) async throws -> JSONResponse<[QuarantineSummary]> {
        let session = try context.requireSession()
        try await lifecycle.purgeExpired()
        return JSONResponse(try await storage.quarantines(accountID: session.accountID))
    }

    /// Releases an old epoch's keys and records to proof of its password or recovery code. A session
    /// alone is not enough: a reset needs only the mailbox, and the old material would let whoever
    /// holds the mailbox attack the old password offline.
    private func openQuarantine(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        QuarantineRelease
    > {
        let session = try context.requireSession()
        guard let epoch = context.parameters.get("epoch", as: UInt32.self) else {
            throw APIError.badRequest("The epoch must be a whole number; GET /api/v1/account/quarantine lists them.")
        }
        let proof = try await request.decode(as: QuarantineProof.self, context: context)
        switch proof {
        case .password(let key): try Validation.key(key, "authKey")
        case .recoveryCode(let key): try Validation.key(key, "recoveryAuthKey")
        }
        try await lifecycle.purgeExpired()
        let opening = try await storage.openQuarantine(
            accountID: session.accountID, epoch: epoch, proof: proof, budget: lifecycle.guessBudget, now: Date(),
            released: context.event(.quarantineRecovery), refused: context.event(.quarantineGuessFailed))
        switch opening {
        case .released(let release):
            return JSONResponse(release)
        case .wrongSecret(let remaining):
            throw APIError.wrongOldSecret(proof, remaining: remaining)
        case .tooManyGuesses(let wait):
            throw APIError.tooManyGuesses(retryAfter: wait)
        case .purged(let known):
            throw APIError(
                .gone, "quarantine-purged",
                "The data from before the reset of \(known.resetAt.formatted(.iso8601)) was deleted on \((known.purgedAt ?? known.resetAt).formatted(.iso8601)). Only a backup made before the reset, or a device that still holds the data, can bring it back."
            )
        case .missing:
            throw APIError(.notFound, "no-quarantine", "No data from key epoch \(epoch) is in quarantine.")
        }
    }

    // MARK: Signed out: recovery and reset by e-mail code

    /// Mails a code only to a confirmed address of an existing account; every other request does the
    /// same database work and gets the same 202, so the answer tells nobody who has an account.
    private func emailCode(_ request: Request, _ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: EmailCodeRequest.self, context: context)
        let email = try AccountRoutes.normalize(body.email)
        try await limits.codes.check(email: email, address: context.clientAddress)
        var recipient = lifecycle.recipient(try await storage.account(email: email), typed: email)
        // A reset account waiting for keys has no recovery code yet: only a reset code applies.
        if case .account(let account) = recipient, body.purpose == .recover, account.awaitingKeys {
            recipient = .nobody(address: email)
        }
        try await lifecycle.sendCode(to: recipient, purpose: body.purpose, address: context.clientAddress)
        return .accepted
    }

    /// The account an e-mailed code is for, after the rate limits and the code itself; an unknown
    /// address gets the same work and the same refusal as a wrong code.
    private func codeAccount(_ email: String, code: String, purpose: EmailCodePurpose, _ context: CofferRequestContext)
        async throws -> StoredAccount
    {
        let email = try AccountRoutes.normalize(email)
        try await limits.codes.check(email: email, address: context.clientAddress)
        guard let account = try await storage.account(email: email) else {
            try await lifecycle.refuseCode(code, email: email, purpose: purpose.rawValue)
        }
        try await lifecycle.verifyCode(code, account: account, purpose: purpose)
        return account
    }

    /// Checks the e-mail code and the recovery code of an active account.
    private func recoveryAccount(email: String, code: String, recoveryAuthKey: Data, _ context: CofferRequestContext)
        async throws -> StoredAccount
    {
        let account = try await codeAccount(email, code: code, purpose: .recover, context)
        guard !account.awaitingKeys else { throw Self.resetPending(account) }
        guard Tokens.constantTimeEquals(Tokens.verifier(of: recoveryAuthKey), account.recoveryVerifier) else {
            throw APIError(
                .unauthorized, "invalid-recovery-code",
                "That recovery code does not open this account. Check it against your recovery kit; the newest kit counts."
            )
        }
        return account
    }

    private func recoverPrelogin(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        RecoverPreloginResponse
    > {
        let body = try await request.decode(as: RecoverPreloginRequest.self, context: context)
        let account = try await recoveryAccount(
            email: body.email, code: body.emailCode, recoveryAuthKey: body.recoveryAuthKey, context)
        return JSONResponse(
            RecoverPreloginResponse(
                accountID: account.id, epoch: account.epoch, recoveryWrappedKey: account.recoveryWrappedKey))
    }

    private func recover(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        SessionResponse
    > {
        let body = try await request.decode(as: RecoverRequest.self, context: context)
        let stored = try Self.validated(body.keys)
        try Validation.deviceName(body.device.name)
        let account = try await recoveryAccount(
            email: body.email, code: body.emailCode, recoveryAuthKey: body.recoveryAuthKey, context)
        let storage = storage
        let event = context.event(.recovery, device: body.device.name)
        guard
            try await lifecycle.consuming(
                body.emailCode, purpose: EmailCodePurpose.recover.rawValue,
                { code in
                    try await storage.replacePasswordKeys(
                        accountID: account.id, epoch: body.epoch, keys: stored, keepDevice: nil, reason: .recovered,
                        using: code, event: event)
                })
        else { throw Self.epochMoved }
        return JSONResponse(
            try await accounts.startSession(
                accountID: account.id, device: body.device, context: context, isNewAccount: false))
    }

    private func resetCheck(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        ResetCheckResponse
    > {
        let body = try await request.decode(as: ResetCheckRequest.self, context: context)
        let account = try await codeAccount(body.email, code: body.code, purpose: .reset, context)
        let devices = try await storage.devices(accountID: account.id).map {
            DeviceSummary(
                id: $0.id, name: $0.name, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt, isCurrent: false)
        }
        return JSONResponse(
            ResetCheckResponse(
                accountID: account.id, newEpoch: account.awaitingKeys ? account.epoch : account.epoch + 1,
                awaitingKeys: account.awaitingKeys, devices: devices, quarantineDays: lifecycle.retentionDays))
    }

    private func reset(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        SessionResponse
    > {
        let body = try await request.decode(as: ResetRequest.self, context: context)
        let password = try Self.validated(body.passwordKeys)
        let recovery = try Self.validated(body.recoveryKeys)
        try Validation.deviceName(body.device.name)
        let account = try await codeAccount(body.email, code: body.code, purpose: .reset, context)
        let expected = account.awaitingKeys ? account.epoch : account.epoch + 1
        guard body.epoch == expected else { throw Self.epochMoved }
        _ = try await lifecycle.reset(account, address: context.clientAddress, deviceName: body.device.name)
        // The code is used up with the new keys, in one transaction: a crash before it leaves a code
        // that finishes the reset when retried.
        let storage = storage
        let event = context.event(.resetCompleted, device: body.device.name)
        guard
            try await lifecycle.consuming(
                body.code, purpose: EmailCodePurpose.reset.rawValue,
                { code in
                    try await storage.installKeysAfterReset(
                        accountID: account.id, epoch: body.epoch, password: password, recovery: recovery,
                        using: code, event: event)
                })
        else { throw Self.epochMoved }
        return JSONResponse(
            try await accounts.startSession(
                accountID: account.id, device: body.device, context: context, isNewAccount: true),
            status: .created)
    }

    // MARK: Shared checks

    static let epochMoved = APIError(
        .conflict, "epoch-changed",
        "The account's keys changed meanwhile (a reset or another change); nothing was changed. Sign in again and retry."
    )

    static func resetPending(_ account: StoredAccount) -> APIError {
        APIError(
            .conflict, "account-reset-pending",
            "This account was reset\(account.resetAt.map { " on \($0.formatted(.iso8601))" } ?? "") and waits for a new password: finish with `coffer account reset --server URL --email \(account.email)`, which e-mails you a code."
        )
    }

    static func validated(_ keys: PasswordKeys) throws -> StoredPasswordKeys {
        try Validation.key(keys.authKey, "authKey")
        try Validation.salt(keys.salt)
        try Validation.kdf(keys.kdf)
        try Validation.box(keys.passwordWrappedKey, "passwordWrappedKey")
        return StoredPasswordKeys(
            kdf: keys.kdf, salt: keys.salt, authVerifier: Tokens.verifier(of: keys.authKey),
            passwordWrappedKey: keys.passwordWrappedKey)
    }

    static func validated(_ keys: RecoveryKeys) throws -> StoredRecoveryKeys {
        try Validation.key(keys.recoveryAuthKey, "recoveryAuthKey")
        try Validation.box(keys.recoveryWrappedKey, "recoveryWrappedKey")
        return StoredRecoveryKeys(
            recoveryVerifier: Tokens.verifier(of: keys.recoveryAuthKey), recoveryWrappedKey: keys.recoveryWrappedKey)
    }
}

extension CofferRequestContext {
    /// An account event happening now, from this request's address and (by default) its device.
    func event(_ kind: AccountEventKind, device: String? = nil) -> AccountEvent {
        AccountEvent(kind: kind, at: Date(), deviceName: device ?? session?.deviceName, clientAddress: clientAddress)
    }
}
