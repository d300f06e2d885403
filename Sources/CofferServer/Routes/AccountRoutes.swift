import CofferAPI
import Crypto
import Foundation
import Hummingbird
import Logging
import Metrics

/// Pre-login, register, login, tokens, devices, account state and events.
struct AccountRoutes: Sendable {
    let storage: any ServerStorage
    let outbox: MailOutbox
    let publicURL: @Sendable () -> String
    let secret: ServerSecret
    /// How long a device's sign-in lasts without a refresh: a lost or forgotten device stops being a
    /// way into the account on its own.
    let refreshTokenIdleLifetime: TimeInterval
    let limits: AbuseLimits
    static let accessTokenLifetime: TimeInterval = 15 * 60
    static let defaultKDF = WireKDF(memoryKiB: 64 * 1024, iterations: 3, parallelism: 4)

    func register(on router: Router<CofferRequestContext>, authenticated: RouterGroup<CofferRequestContext>) {
        router.post("/api/v1/prelogin") { request, context in try await prelogin(request, context) }
        router.post("/api/v1/register") { request, context in try await register(request, context) }
        router.post("/api/v1/login") { request, context in try await login(request, context) }
        router.post("/api/v1/token/refresh") { request, context in try await refresh(request, context) }
        router.post("/api/v1/logout") { request, context in try await logout(request, context) }
        router.get("/verify-email") { request, context in try await verifyEmailPage(request, context) }
        router.post("/verify-email") { request, context in try await confirmEmail(request, context) }
        authenticated.get("/api/v1/account") { _, context in try await accountState(context) }
        authenticated.get("/api/v1/devices") { _, context in try await devices(context) }
        authenticated.delete("/api/v1/devices/:deviceID") { _, context in try await revoke(context) }
        authenticated.get("/api/v1/account/events") { _, context in try await events(context) }
        authenticated.post("/api/v1/account/email-confirmation") { _, context in
            try await resendConfirmation(context)
        }
    }

    static func normalize(_ email: String) throws -> String { try EmailAddress.normalize(email) }

    private func prelogin(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        PreloginResponse
    > {
        let body = try await request.decode(as: PreloginRequest.self, context: context)
        let email = try Self.normalize(body.email)
        if let account = try await storage.account(email: email) {
            return JSONResponse(PreloginResponse(kdf: account.kdf, salt: account.salt))
        }
        return JSONResponse(PreloginResponse(kdf: Self.defaultKDF, salt: secret.fakeSalt(for: email)))
    }

    private func register(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        SessionResponse
    > {
        let body = try await request.decode(as: RegisterRequest.self, context: context)
        let email = try Self.normalize(body.email)
        try await limits.registrations.check(email: email, address: context.clientAddress)
        try Validation.key(body.authKey, "authKey")
        try Validation.key(body.recoveryAuthKey, "recoveryAuthKey")
        try Validation.salt(body.salt)
        try Validation.kdf(body.kdf)
        try Validation.box(body.passwordWrappedKey, "passwordWrappedKey")
        try Validation.box(body.recoveryWrappedKey, "recoveryWrappedKey")
        try Validation.deviceName(body.device.name)
        let now = Date()
        let account = StoredAccount(
            id: body.accountID, email: email, emailVerified: false, epoch: 1, kdf: body.kdf, salt: body.salt,
            authVerifier: Tokens.verifier(of: body.authKey),
            recoveryVerifier: Tokens.verifier(of: body.recoveryAuthKey),
            passwordWrappedKey: body.passwordWrappedKey, recoveryWrappedKey: body.recoveryWrappedKey, createdAt: now)
        guard try await storage.account(id: body.accountID) == nil, try await storage.createAccount(account) else {
            // Saying so is what every peer does (pretending would lose the user's first sign-in); the
            // address's owner hears of every try, and the registration limits keep probing slow.
            if let owner = try await storage.account(email: email) {
                try await storage.postMail(
                    outbox.seal(
                        MailMessage(
                            to: owner.email, subject: "Someone tried to create a Coffer account with your address",
                            body: """
                                Someone (from \(context.clientAddress)) tried to create a new Coffer account with this address,
                                which already has one. Nothing was changed.

                                If it was you: sign in with `coffer login`; if you forgot your password, `coffer recover`
                                sets a new one with your recovery code. If it was not you, you need to do nothing.
                                """),
                        discardAfter: now.addingTimeInterval(7 * 86_400)))
                outbox.posted()
            }
            throw APIError(
                .conflict, "account-exists",
                "An account with this e-mail address already exists; sign in with `coffer login`.")
        }
        try await storage.recordEvent(
            accountID: account.id,
            event: AccountEvent(
                kind: .register, at: now, deviceName: body.device.name, clientAddress: context.clientAddress))
        try await sendVerification(to: email, accountID: account.id)
        return JSONResponse(
            try await startSession(accountID: account.id, device: body.device, context: context, isNewAccount: true),
            status: .created)
    }

    /// Mails a new confirmation link while the address is unconfirmed (the first was lost, or its
    /// seven days passed): without one the owner could never receive a recovery or reset code.
    private func resendConfirmation(_ context: CofferRequestContext) async throws -> JSONResponse<EmailConfirmation> {
        let session = try context.requireSession()
        guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
        guard !account.emailVerified else {
            return JSONResponse(EmailConfirmation(email: account.email, confirmed: true, linkSent: false))
        }
        try await limits.codes.check(email: account.email, address: context.clientAddress)
        try await sendVerification(to: account.email, accountID: account.id)
        return JSONResponse(EmailConfirmation(email: account.email, confirmed: false, linkSent: true))
    }

    private func sendVerification(to email: String, accountID: UUID) async throws {
        let token = Tokens.generate()
        let expiresAt = Date().addingTimeInterval(7 * 86_400)
        let letter = try outbox.seal(
            MailMessage(
                to: email, subject: "Confirm your Coffer e-mail address",
                body: """
                    Welcome to Coffer.

                    Your account works already. Confirm this address so it can be used to recover or reset
                    your account if you ever need to:

                    \(publicURL())/verify-email?token=\(token)

                    The link works for 7 days. If you did not create a Coffer account, ignore this message.
                    """),
            discardAfter: expiresAt)
        try await storage.addVerificationToken(
            hash: secret.tokenHash(token), accountID: accountID, expiresAt: expiresAt, mail: letter)
        outbox.posted()
    }

    private func login(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        SessionResponse
    > {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        let email = try Self.normalize(body.email)
        try await limits.logins.check(email: email, address: context.clientAddress)
        try Validation.deviceName(body.device.name)
        // A reset account's state is not told here: its verifiers match no key until new keys are set,
        // so this is the same refusal as a wrong password (devices learn of a reset through refresh).
        let account = try await storage.account(email: email)
        guard let account, Tokens.constantTimeEquals(Tokens.verifier(of: body.authKey), account.authVerifier) else {
            Counter(label: ServerMetrics.loginFailures).increment()
            throw APIError.invalidCredentials
        }
        return JSONResponse(
            try await startSession(accountID: account.id, device: body.device, context: context, isNewAccount: false))
    }

    /// Signs a device in: a refresh token for the device, a short-lived access token, a new-device event.
    func startSession(accountID: UUID, device: DeviceInfo, context: CofferRequestContext, isNewAccount: Bool)
        async throws -> SessionResponse
    {
        let now = Date()
        let refresh = Tokens.generate()
        let isNewDevice = try await storage.signIn(
            accountID: accountID, device: device, refreshHash: Tokens.hash(refresh), now: now)
        if isNewDevice && !isNewAccount {
            try await storage.recordEvent(
                accountID: accountID,
                event: AccountEvent(
                    kind: .newDevice, at: now, deviceName: device.name, clientAddress: context.clientAddress))
        }
        let access = Tokens.generate()
        try await storage.addAccessToken(
            hash: Tokens.hash(access), accountID: accountID, deviceID: device.id,
            expiresAt: now.addingTimeInterval(Self.accessTokenLifetime))
        return SessionResponse(
            accountID: accountID, accessToken: access, expiresIn: Int(Self.accessTokenLifetime), refreshToken: refresh)
    }

    private func refresh(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        SessionResponse
    > {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        guard body.refreshToken.utf8.count <= 200 else { throw APIError.badRequest("That is not a refresh token.") }
        // Authenticated traffic: not counted by the abuse limiter (many users share a proxy's address).
        let newRefresh = Tokens.generate()
        let access = Tokens.generate()
        let now = Date()
        switch try await storage.refresh(
            presentedHash: Tokens.hash(body.refreshToken), successorHash: Tokens.hash(newRefresh),
            access: NewAccessToken(
                hash: Tokens.hash(access), expiresAt: now.addingTimeInterval(Self.accessTokenLifetime)),
            now: now, unusedSince: now.addingTimeInterval(-refreshTokenIdleLifetime))
        {
        case .rotated(let accountID, _):
            return JSONResponse(
                SessionResponse(
                    accountID: accountID, accessToken: access, expiresIn: Int(Self.accessTokenLifetime),
                    refreshToken: newRefresh))
        case .replayed(let accountID, _):
            try await storage.recordEvent(
                accountID: accountID,
                event: AccountEvent(
                    kind: .refreshTokenReplayed, at: Date(), deviceName: nil, clientAddress: context.clientAddress))
            throw APIError(
                .unauthorized, "refresh-token-reused",
                "This sign-in was used twice, so the device was signed out to be safe. Sign in again with `coffer login`."
            )
        case .expiredUnused:
            throw APIError(
                .unauthorized, "invalid-refresh-token",
                "This device was signed out after \(Int(refreshTokenIdleLifetime / 86_400)) days without use. Sign in again with `coffer login`; everything stored on the device stays."
            )
        case .revoked(let accountID, let reason):
            throw try await revokedError(accountID: accountID, reason: reason)
        case .unknown:
            // After a restore from a backup, every sign-in made or renewed since the backup is unknown:
            // say so, or people look for a revocation that never happened.
            if let restored = try await storage.lastRestore(),
                Date().timeIntervalSince(restored) < refreshTokenIdleLifetime
            {
                throw APIError(
                    .unauthorized, "invalid-refresh-token",
                    "The server was restored from a backup on \(restored.formatted(.iso8601)), so it no longer knows this device's sign-in. Sign in again with `coffer login`: nothing on this device is lost, and its next sync puts back what the backup lacked."
                )
            }
            throw APIError(
                .unauthorized, "invalid-refresh-token",
                "The sign-in has expired or was revoked. Sign in again with `coffer login`.")
        }
    }

    /// Tells a signed-out device what happened to the account and what to do, in words and in details.
    private func revokedError(accountID: UUID, reason: RevocationReason) async throws -> APIError {
        let account = try await storage.account(id: accountID)
        switch reason {
        case .passwordChanged, .recovered:
            return APIError(
                .unauthorized, reason.rawValue,
                "The account's master password was changed on another device, so this device was signed out. Its data stays here: sign in with the new password (`coffer login`)."
            )
        case .accountReset:
            let at = account?.resetAt.map { $0.formatted(.iso8601) } ?? "recently"
            let from = account?.resetFrom ?? "an unknown address"
            var details = ["resetFrom": from, "epoch": String(account?.epoch ?? 0)]
            details["resetAt"] = account?.resetAt.map { $0.formatted(.iso8601) }
            // A reset started in the web portal has no new password until someone finishes it; telling
            // the user to sign in with one would send them looking for a password that does not exist.
            let next =
                account?.awaitingKeys == true
                ? "No new password is set yet: finish the reset with `coffer account reset --server URL --email \(account?.email ?? "ADDRESS")` (it e-mails you a code and asks for the new password), then `coffer recover --from-device` moves these items into the account."
                : "Sign in with the new password (`coffer login`), then `coffer recover --from-device` moves these items into the account."
            return APIError(
                .unauthorized, reason.rawValue,
                "The account was reset on \(at) from \(from). This device keeps every item it holds. \(next)",
                details: details)
        }
    }

    private func logout(_ request: Request, _ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        if let (accountID, _) = try await storage.signOut(refreshHash: Tokens.hash(body.refreshToken)) {
            try await storage.recordEvent(
                accountID: accountID,
                event: AccountEvent(kind: .logout, at: Date(), deviceName: nil, clientAddress: context.clientAddress))
        }
        return .noContent
    }

    /// The mailed link's page: shows a button and changes nothing, so a link scanner that opens it
    /// does not confirm the address for someone who never saw the mail.
    private func verifyEmailPage(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        try await verifyEmail(
            token: request.uri.queryParameters.get("token").map { String($0) }, consume: false, context)
    }

    private func confirmEmail(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 4096)
        return try await verifyEmail(token: FormFields.parse(String(buffer: body))["token"], consume: true, context)
    }

    private func verifyEmail(token: String?, consume: Bool, _ context: CofferRequestContext) async throws -> Response {
        guard let token, !token.isEmpty, token.count < 200 else {
            return HTMLPage.response(
                status: .badRequest, title: "This link is incomplete",
                text: "Copy the whole link from the e-mail into the address bar.", tone: .error)
        }
        try await limits.codes.check(email: nil, address: context.clientAddress)
        guard
            let accountID = try await storage.verificationToken(
                hash: secret.tokenHash(token), now: Date(), consume: consume)
        else {
            return HTMLPage.response(
                status: .gone, title: "This link no longer works",
                text:
                    "The confirmation link was already used or has expired. `coffer account confirm-email` mails a new one.",
                tone: .error)
        }
        guard consume else {
            return HTMLPage.response(
                status: .ok, title: "Confirm your e-mail address",
                text:
                    "Confirming lets this address receive the codes that recover or reset your Coffer account. Nothing is confirmed until you press the button.",
                form: HTMLPage.Form(action: "/verify-email", fields: [("token", token)], button: "Confirm my address"))
        }
        try await storage.recordEvent(
            accountID: accountID,
            event: AccountEvent(kind: .emailVerified, at: Date(), deviceName: nil, clientAddress: context.clientAddress)
        )
        return HTMLPage.response(
            status: .ok, title: "Address confirmed",
            text: "Your e-mail address is confirmed. It can now be used to recover or reset your account.", tone: .ok)
    }

    private func accountState(_ context: CofferRequestContext) async throws -> JSONResponse<AccountState> {
        let session = try context.requireSession()
        guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
        return JSONResponse(
            AccountState(
                accountID: account.id, email: account.email, emailVerified: account.emailVerified, epoch: account.epoch,
                kdf: account.kdf, salt: account.salt, passwordWrappedKey: account.passwordWrappedKey,
                recoveryWrappedKey: account.recoveryWrappedKey))
    }

    private func devices(_ context: CofferRequestContext) async throws -> JSONResponse<[DeviceSummary]> {
        let session = try context.requireSession()
        let devices = try await storage.devices(accountID: session.accountID)
        return JSONResponse(
            devices.map {
                DeviceSummary(
                    id: $0.id, name: $0.name, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt,
                    isCurrent: $0.id == session.deviceID)
            })
    }

    private func revoke(_ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let session = try context.requireSession()
        guard let deviceID = context.parameters.get("deviceID", as: UUID.self) else {
            throw APIError.badRequest("The device id is not a UUID.")
        }
        // The event names the device that was signed out (the one the owner will look for), not the
        // one that asked.
        let revoked = try await storage.devices(accountID: session.accountID).first { $0.id == deviceID }
        guard try await storage.revokeDevice(accountID: session.accountID, deviceID: deviceID) else {
            throw APIError(
                .notFound, "device-not-found", "No signed-in device has that id; `coffer devices` lists them.")
        }
        try await storage.recordEvent(
            accountID: session.accountID,
            event: AccountEvent(
                kind: .deviceRevoked, at: Date(), deviceName: revoked?.name ?? session.deviceName,
                clientAddress: context.clientAddress))
        return .noContent
    }

    private func events(_ context: CofferRequestContext) async throws -> JSONResponse<[AccountEvent]> {
        let session = try context.requireSession()
        return JSONResponse(try await storage.events(accountID: session.accountID, limit: 500))
    }
}
