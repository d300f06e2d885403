import CofferTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Kills at each step of a password change and of a reset, and guessing at codes.
@Suite("account lifecycle under kills and guessing", .serialized)
struct LifecycleFailureTests {
    typealias Account = LifecycleTests.Account
    static let oldPassword = LifecycleTests.oldPassword
    static let newPassword = LifecycleTests.newPassword

    static func opens(_ cli: CofferCLI, _ password: String) throws -> Bool {
        try cli.ok(["lock"])
        return try cli.run(["list", "--json", "--password-stdin"], stdin: password + "\n").status == 0
    }

    @Test(
        "killed after each step of a password change, the vault still opens; the next sync settles on the server's password",
        arguments: [("password-change.pending-saved", false), ("password-change.server-updated", true)])
    func killedPasswordChange(step: String, serverChanged: Bool) throws {
        let account = try Account(withDeviceB: false)
        let a = account.a
        let killed = try a.run(
            ["password", "change", "--password-stdin"], stdin: Self.oldPassword + "\n" + Self.newPassword + "\n",
            environment: ["COFFER_CRASH_AT": step])
        #expect(killed.status == 9 || killed.status == 137, "killed by SIGKILL at \(step): \(killed.status)")
        #expect(try Self.opens(a, Self.oldPassword) || Self.opens(a, Self.newPassword), "never neither")
        #expect(try Self.opens(a, Self.oldPassword), "the old password still opens this device until the sync settles")
        #expect(try Self.opens(a, Self.newPassword), "so does the new one: the change was kept pending")

        let settled = serverChanged ? Self.newPassword : Self.oldPassword
        let other = serverChanged ? Self.oldPassword : Self.newPassword
        try a.ok(["sync", "--password-stdin"], stdin: settled + "\n")
        #expect(try Self.opens(a, settled))
        #expect(try !Self.opens(a, other))
        #expect(try LifecycleTests.count(a, password: settled) == 30)
        let b = try CofferCLI()
        try b.ok(
            ["login", "--server", account.server.url, "--email", account.email, "--password-stdin"],
            stdin: settled + "\n")
        #expect(try LifecycleTests.count(b) == 30)
    }

    @Test(
        "killed after each step of a reset, the old data still opens and the account is usable with the new password",
        arguments: ["reset.server-reset", "reset.archived"])
    func killedReset(step: String) throws {
        let account = try Account(withDeviceB: false)
        let a = account.a
        let killed = try account.resetWithCLI(on: a, environment: ["COFFER_CRASH_AT": step])
        #expect(killed.status == 9 || killed.status == 137, "killed by SIGKILL at \(step): \(killed.status)")
        if step == "reset.server-reset" {
            #expect(try LifecycleTests.count(a, password: Self.oldPassword) == 30, "the old vault opens as before")
        } else {
            let archives = try FileManager.default.contentsOfDirectory(
                atPath: a.home.appendingPathComponent("before-reset").path)
            #expect(archives.count == 1, "the old vault was moved aside whole, not deleted")
        }
        try a.ok(
            ["login", "--server", account.server.url, "--email", account.email, "--password-stdin"],
            stdin: Self.newPassword + "\n")
        let status = try a.ok(["status"])
        #expect(status.contains("30 item(s) kept on this device"), "\(status)")
        try a.ok(
            ["recover", "--from-device", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(try LifecycleTests.count(a) == 30)
    }

    @Test("wrong e-mail codes and recovery codes are rate limited; a used or expired reset link gets a clear page")
    func guessing() async throws {
        let account = try Account(withDeviceB: false)
        let portal = account.portal
        let send = { (body: [String: Any]) async throws -> (Int, String) in
            var request = URLRequest(url: URL(string: account.server.url + "/api/v1/recover/prelogin")!)
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        // An expired reset link: the hour passes (the server's clock is not ours to move, its data is).
        _ = try await portal.post("/portal/forgot", ["email": account.email])
        let link = try firstMatch(
            "(http://\\S+/portal/reset\\?\\S+)", in: try portal.mail(to: account.email, containing: "/portal/reset"))
        try portal.updateDatabase(
            "UPDATE email_codes SET expires_at = '2000-01-01 00:00:00.000' WHERE purpose = 'reset-link'")
        let expired = try await portal.get(link)
        #expect(
            expired.status == 410 && expired.html.contains("no longer works")
                && expired.html.contains("Ask for a new link"))
        let garbage = try await portal.get("/portal/reset?account=nope&token=%00%ff")
        #expect(garbage.status == 400 || garbage.status == 410)
        try account.a.ok(["recover", "--server", account.server.url, "--email", account.email])
        let code = try portal.code(to: account.email)
        let wrongKey = Data(repeating: 1, count: 32).base64EncodedString()
        // A wrong recovery code with the right e-mail code is refused, and does not use the e-mail code up.
        let (wrongRecovery, body) = try await send([
            "email": account.email, "emailCode": code, "recoveryAuthKey": wrongKey,
        ])
        #expect(wrongRecovery == 401 && body.contains("invalid-recovery-code"))
        // Five wrong e-mail codes cancel every live code, the right one included.
        var statuses: [String] = []
        for _ in 0..<5 {
            statuses.append(
                try await send(["email": account.email, "emailCode": "AAAA-AAAA", "recoveryAuthKey": wrongKey]).1)
        }
        #expect(statuses.last?.contains("email-code-exhausted") == true, "\(statuses)")
        let (_, cancelled) = try await send(["email": account.email, "emailCode": code, "recoveryAuthKey": wrongKey])
        #expect(cancelled.contains("invalid-email-code") || cancelled.contains("exhausted"))
        // And the address is then rate limited outright, in the API and in the portal.
        var last = 0
        for _ in 0..<5 {
            last = try await send(["email": account.email, "emailCode": code, "recoveryAuthKey": wrongKey]).0
        }
        #expect(last == 429)
        // The CLI says how long to wait, with its own documented exit code (10), not a generic failure.
        let waiting = try account.a.run(["recover", "--server", account.server.url, "--email", account.email])
        #expect(waiting.status == 10 && waiting.stderr.contains("try again in"), "\(waiting.stderr)")
        let limited = try await portal.post("/portal/forgot", ["email": account.email])
        #expect(limited.status == 429 && limited.html.contains("Too many attempts"))

        #expect(try LifecycleTests.count(account.a) == 30, "nothing changed")
    }
}
