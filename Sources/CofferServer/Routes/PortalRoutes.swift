import CofferAPI
import Foundation
import Hummingbird
import Mustache

/// The account portal: server-rendered pages (Mustache, no JavaScript) for people who cannot sign in.
///
/// "Forgot your password?" first lists what still works without a reset, then sends a one-time link
/// (one hour); the reset itself needs a typed confirmation and ends with a setup code for the CLI,
/// which makes the new keys (the server never can). Activity is shown after an e-mailed code.
/// There are no cookies: each form carries its own one-time token, so there is no session to forge.
struct PortalRoutes: Sendable {
    let lifecycle: AccountLifecycle
    let limits: AbuseLimits

    /// The phrase typed to confirm a reset.
    static let confirmationPhrase = "reset my account"

    init(lifecycle: AccountLifecycle, limits: AbuseLimits) {
        self.lifecycle = lifecycle
        self.limits = limits
    }

    private var storage: any ServerStorage { lifecycle.storage }

    func register(on router: Router<CofferRequestContext>) {
        router.get("/portal") { _, _ in page("index", ["title": "Your Coffer account"]) }
        router.get("/portal/forgot") { _, _ in
            page("forgot", ["title": "Forgot your password?", "serverURL": lifecycle.publicURL()])
        }
        router.post("/portal/forgot") { request, context in try await forgot(request, context) }
        router.get("/portal/reset") { request, context in try await resetPage(request, context) }
        router.post("/portal/reset") { request, context in try await reset(request, context) }
        router.get("/portal/activity") { _, _ in
            page("activity", ["title": "Account activity", "askEmail": true])
        }
        router.post("/portal/activity") { request, context in try await activityCode(request, context) }
        router.post("/portal/activity/code") { request, context in try await activity(request, context) }
        router.get("/portal/deletion") { request, context in try await deletionPage(request, context) }
        router.post("/portal/deletion") { request, context in try await decideDeletion(request, context) }
    }

    // MARK: Forgot password → link → reset

    private struct EmailForm: Decodable { var email: String }
    private struct ResetForm: Decodable {
        var account: String
        var token: String
        /// Always sent by the page's form, empty when nothing was typed.
        var confirmation: String
    }
    private struct CodeForm: Decodable {
        var email: String
        var code: String
    }
    private struct DeletionForm: Decodable {
        enum Action: String, Decodable {
            case confirm, cancel
        }
        var id: String
        var token: String
        /// Anything but the two buttons' values is refused as an incomplete form, before the link is looked at.
        var action: Action
    }

    private func forgot(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let form = try await decode(EmailForm.self, request, context)
        guard let email = try? AccountRoutes.normalize(form.email) else {
            return message(
                .badRequest, "Forgot your password?", "That is not an e-mail address. Go back and check it.",
                kind: .error, next: ("/portal/forgot", "Try again"))
        }
        if let refused = try await limited(email: email, context) { return refused }
        let recipient = lifecycle.recipient(try await storage.account(email: email), typed: email)
        if case .account(let account) = recipient {
            try await storage.recordEvent(
                accountID: account.id,
                event: AccountEvent(
                    kind: .resetRequested, at: Date(), deviceName: nil, clientAddress: context.clientAddress))
        }
        let token = Tokens.generate()
        let publicURL = lifecycle.publicURL()
        try await lifecycle.mail(token, purpose: "reset-link", to: recipient, subject: "Reset your Coffer account?") {
            accountID in
            """
            Someone (hopefully you) asked to reset your Coffer account from the web portal.

            Open this link to see what still works without a reset, and to reset if nothing does:

            \(publicURL)/portal/reset?account=\(accountID.uuidString.lowercased())&token=\(token)

            The link works once, for one hour. Nothing changes until you confirm on that page.
            If this was not you, ignore this message; your account stays as it is.
            """
        }
        return message(
            .ok, "Check your mail",
            "If an account exists for \(email) and its address was confirmed, we sent it a link. It works once, for one hour. Nothing changes until you confirm on the page it opens. No link comes to an address that was never confirmed: then your recovery code (`coffer recover`), a device that is still signed in, or a backup is the way back.",
            kind: .ok, next: nil)
    }

    /// The account and token of a reset link, or the page that says why the link no longer works.
    private func linkAccount(account: String?, token: String?, _ context: CofferRequestContext) async throws
        -> Result<(StoredAccount, String), LinkRefused>
    {
        guard let account, let id = UUID(uuidString: account), let token, !token.isEmpty,
            token.count <= FormFields.maximumLength
        else {
            return .failure(
                LinkRefused(
                    response: expired(.badRequest, "The link is incomplete: copy the whole link from the e-mail.")))
        }
        if let refused = try await limited(email: account, context) { return .failure(LinkRefused(response: refused)) }
        guard let stored = try await storage.account(id: id) else {
            return .failure(LinkRefused(response: expired(.gone)))
        }
        do {
            try await lifecycle.verify(token, accountID: stored.id, purpose: "reset-link", consume: false)
        } catch is APIError {
            return .failure(LinkRefused(response: expired(.gone)))
        }
        return .success((stored, token))
    }

    private struct LinkRefused: Error { let response: Response }

    private func expired(_ status: HTTPResponse.Status, _ text: String? = nil) -> Response {
        message(
            status, "This link no longer works",
            text
                ?? "Reset links work once, for one hour, and this one was already used or has expired. Nothing was changed. You can ask for a new link.",
            kind: .error, next: ("/portal/forgot", "Ask for a new link"))
    }

    private func resetPage(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        switch try await linkAccount(account: query.get("account"), token: query.get("token"), context) {
        case .failure(let refused): return refused.response
        case .success(let (account, token)): return try await resetForm(account, token: token, error: nil)
        }
    }

    private func resetForm(_ account: StoredAccount, token: String, error: String?) async throws -> Response {
        let devices = try await storage.devices(accountID: account.id)
        var values: [String: Any] = [
            "title": "Reset your Coffer account?", "email": account.email, "serverURL": lifecycle.publicURL(),
            "account": account.id.uuidString.lowercased(), "token": token,
            "confirmationPhrase": Self.confirmationPhrase, "quarantineDays": lifecycle.retentionDays,
            "quarantineUntil": Self.day(Date().addingTimeInterval(Double(lifecycle.retentionDays) * 86_400)),
            "hasDevices": !devices.isEmpty,
            "devices": devices.map {
                ["name": $0.name, "created": Self.time($0.createdAt), "lastSeen": Self.time($0.lastSeenAt)]
            },
        ]
        if let error { values["error"] = error }
        return page("reset", values, status: error == nil ? .ok : .badRequest)
    }

    private func reset(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let form = try await decode(ResetForm.self, request, context)
        switch try await linkAccount(account: form.account, token: form.token, context) {
        case .failure(let refused): return refused.response
        case .success(let (account, token)):
            let typed = form.confirmation.trimmingCharacters(in: .whitespaces).lowercased()
            guard typed == Self.confirmationPhrase else {
                return try await resetForm(
                    account, token: token,
                    error: "Nothing was changed: type \"\(Self.confirmationPhrase)\" exactly to confirm the reset.")
            }
            let lifecycle = lifecycle
            let address = context.clientAddress
            _ = try await lifecycle.consuming(token, purpose: "reset-link") { link in
                try await lifecycle.reset(account, address: address, deviceName: "web portal", using: link)
            }
            let setupCode = try await lifecycle.issue(
                Tokens.emailCode(), for: account.id, purpose: EmailCodePurpose.reset.rawValue)
            return page(
                "reset-done",
                [
                    "title": "Account reset", "email": account.email, "serverURL": lifecycle.publicURL(),
                    "setupCode": setupCode,
                    "quarantineUntil": Self.day(
                        Date().addingTimeInterval(Double(lifecycle.retentionDays) * 86_400)),
                ])
        }
    }

    // MARK: Activity, after an e-mailed code

    private func activityCode(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let form = try await decode(EmailForm.self, request, context)
        guard let email = try? AccountRoutes.normalize(form.email) else {
            return page(
                "activity",
                ["title": "Account activity", "askEmail": true, "error": "That is not an e-mail address."],
                status: .badRequest)
        }
        if let refused = try await limited(email: email, context) { return refused }
        let code = Tokens.emailCode()
        try await lifecycle.mail(
            code, purpose: "portal", to: lifecycle.recipient(try await storage.account(email: email), typed: email),
            subject: "Your Coffer code: \(code)"
        ) { _ in
            """
            Your one-time code: \(code)

            It shows your Coffer account's activity in the portal. It works once, for one hour.
            If this was not you, ignore this message.
            """
        }
        return page("activity", ["title": "Account activity", "askCode": true, "email": email])
    }

    private func activity(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let form = try await decode(CodeForm.self, request, context)
        let email = (try? AccountRoutes.normalize(form.email)) ?? ""
        if let refused = try await limited(email: email, context) { return refused }
        let refused: [String: Any] = [
            "title": "Account activity", "askCode": true, "email": email,
            "error":
                "That code is wrong, used or expired. Codes work once, for one hour; after five wrong tries, ask for a new one.",
        ]
        let account = try await storage.account(email: email)
        do {
            // An unknown address is checked against its stand-in: the same work, the same page.
            let accountID = account?.id ?? lifecycle.secret.phantomAccountID(for: email)
            try await lifecycle.verify(form.code, accountID: accountID, purpose: "portal", consume: true)
        } catch is APIError {
            return page("activity", refused, status: .unauthorized)
        }
        guard let account else {
            return page("activity", refused, status: .unauthorized)
        }
        try await storage.recordEvent(
            accountID: account.id,
            event: AccountEvent(kind: .portalSignIn, at: Date(), deviceName: nil, clientAddress: context.clientAddress))
        let events = try await storage.events(accountID: account.id, limit: 500)
        try await lifecycle.purgeExpired()
        let deletions = try await storage.pendingDeletions(accountID: account.id, now: Date())
        return page(
            "activity",
            [
                "title": "Account activity", "showEvents": true, "email": account.email,
                "hasDeletions": !deletions.isEmpty,
                "deletions": deletions.map { ["summary": $0.summary, "id": $0.id.uuidString.lowercased()] },
                "events": events.map {
                    [
                        "at": Self.time($0.at), "what": $0.kind.description, "device": $0.deviceName ?? "—",
                        "address": $0.clientAddress ?? "—",
                    ]
                },
            ])
    }

    // MARK: Deletions, from the mailed link

    /// The deletion a link names, or the page that says why the link no longer works. Opening the
    /// page changes nothing; only its buttons (POST) do, so a mail scanner that follows links cannot
    /// confirm anything.
    private func linkedDeletion(id: String?, token: String?, _ context: CofferRequestContext) async throws
        -> Result<(PendingDeletion, StoredAccount, String), LinkRefused>
    {
        let gone = message(
            .gone, "This link no longer works",
            "The deletion it was for was carried out, cancelled, or not confirmed in time. Opening this page changed nothing.",
            kind: .error, next: nil)
        guard let id, let uuid = UUID(uuidString: id), let token, !token.isEmpty,
            token.count <= FormFields.maximumLength
        else {
            return .failure(
                LinkRefused(
                    response: expired(.badRequest, "The link is incomplete: copy the whole link from the e-mail.")))
        }
        if let refused = try await limited(email: id, context) { return .failure(LinkRefused(response: refused)) }
        try await lifecycle.purgeExpired()
        guard
            let (deletion, accountID) = try await storage.deletion(
                id: uuid, tokenHash: lifecycle.secret.tokenHash(token), now: Date()),
            let account = try await storage.account(id: accountID)
        else { return .failure(LinkRefused(response: gone)) }
        return .success((deletion, account, token))
    }

    private func deletionPage(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        switch try await linkedDeletion(id: query.get("id"), token: query.get("token"), context) {
        case .failure(let refused): return refused.response
        case .success(let (deletion, account, token)):
            let (target, consequence) =
                switch deletion.what {
                case .quarantine:
                    (
                        "the data kept from before your account reset",
                        "only a backup made before the reset, or a device that still holds the data, could bring those items back."
                    )
                case .backup:
                    (
                        "the backup \(deletion.backupID?.uuidString.lowercased() ?? "") kept on the server",
                        "a new device can no longer restore from it."
                    )
                }
            var values: [String: Any] = [
                "title": "Delete \(deletion.what == .quarantine ? "quarantined data" : "a server backup")?",
                "email": account.email, "requestedAt": Self.time(deletion.requestedAt), "target": target,
                "consequence": consequence, "id": deletion.id.uuidString.lowercased(), "token": token,
                "delayHours": Int(lifecycle.deletionDelay / 3600),
                "confirmed": deletion.confirmedAt != nil,
            ]
            if let from = deletion.requestedFrom { values["requestedFrom"] = from }
            if let confirmed = deletion.confirmedAt { values["confirmedAt"] = Self.time(confirmed) }
            if let executes = deletion.executesAt { values["executesAt"] = Self.time(executes) }
            return page("deletion", values)
        }
    }

    private func decideDeletion(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let form = try await decode(DeletionForm.self, request, context)
        switch try await linkedDeletion(id: form.id, token: form.token, context) {
        case .failure(let refused): return refused.response
        case .success(let (deletion, account, token)):
            let now = Date()
            switch form.action {
            case .confirm:
                let executesAt = now.addingTimeInterval(lifecycle.deletionDelay)
                guard
                    let confirmed = try await storage.confirmDeletion(
                        id: deletion.id, tokenHash: lifecycle.secret.tokenHash(token), now: now, executesAt: executesAt,
                        event: AccountEvent(
                            kind: .deletionConfirmed, at: now, deviceName: nil, clientAddress: context.clientAddress))
                else {
                    return message(
                        .conflict, "Already confirmed", "This deletion was confirmed already; nothing changed.",
                        kind: .error, next: nil)
                }
                return message(
                    .ok, "Deletion confirmed",
                    "It happens on \(Self.time(confirmed.executesAt ?? executesAt)) unless it is cancelled before then: on this page (keep the link), or with `coffer account deletions cancel \(deletion.id.uuidString.lowercased())` on any signed-in device.",
                    kind: .ok, next: nil)
            case .cancel:
                _ = try await storage.cancelDeletion(
                    accountID: account.id, id: deletion.id, now: now,
                    event: AccountEvent(
                        kind: .deletionCancelled, at: now, deviceName: nil, clientAddress: context.clientAddress))
                return message(.ok, "Deletion cancelled", "Nothing will be deleted.", kind: .ok, next: nil)
            }
        }
    }

    // MARK: Rendering

    /// The rate limits, answered with a page rather than JSON; `nil` when the attempt may go on.
    private func limited(email: String?, _ context: CofferRequestContext) async throws -> Response? {
        do {
            try await limits.codes.check(email: email, address: context.clientAddress)
            return nil
        } catch let error as APIError where error.status == .tooManyRequests {
            var response = message(
                .tooManyRequests, "Too many attempts", error.message + " Nothing was changed.", kind: .error,
                next: nil)
            response.headers.append(contentsOf: error.headers)
            return response
        }
    }

    private func decode<Form: Decodable>(_ type: Form.Type, _ request: Request, _ context: CofferRequestContext)
        async throws -> Form
    {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let fields = FormFields.parse(String(buffer: body))
        guard fields.values.allSatisfy({ $0.count <= FormFields.maximumLength }) else {
            throw APIError.badRequest("A field of the form is too long; go back and check what you typed.")
        }
        do {
            return try JSONDecoder().decode(Form.self, from: JSONSerialization.data(withJSONObject: fields))
        } catch {
            throw APIError.badRequest("The form is incomplete; go back and fill in every field.")
        }
    }

    private func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        HTMLPage.render(template, values, status: status)
    }

    private func message(
        _ status: HTTPResponse.Status, _ title: String, _ text: String, kind: HTMLPage.Tone, next: (String, String)?
    ) -> Response {
        HTMLPage.response(status: status, title: title, text: text, tone: kind, next: next)
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt))
    }

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}

/// The fields of an `application/x-www-form-urlencoded` body. Fields the page did not send (or that do
/// not decode) are ignored, as a browser's extra fields would be; the first of a repeated field counts.
enum FormFields {
    /// The longest value any portal field takes (an e-mail address).
    static let maximumLength = 254

    static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
