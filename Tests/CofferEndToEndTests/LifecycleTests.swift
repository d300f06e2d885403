import CofferTestSupport
import Foundation
import Testing

/// The support case of security.md, replayed against the real server, the portal's HTTP flow and
/// real `coffer` profiles: every path ends with the user's 30 items back.
@Suite("account lifecycle: password change, recovery, reset and quarantine", .serialized)
struct LifecycleTests {
    static let oldPassword = SyncTests.password
    static let newPassword = "glacier-harbor-violet-meadow-77"

    /// A server, device A registered with 30 items and its recovery code, and optionally device B.
    struct Account {
        let server: ServerProcess
        let a: CofferCLI
        let b: CofferCLI?
        let email = "carol-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        let recoveryCode: String
        var portal: WebPortal { WebPortal(server: server) }

        init(withDeviceB: Bool) throws {
            server = try ServerProcess()
            a = try CofferCLI()
            let registered = try a.ok(
                [
                    "register", "--server", server.url, "--email", email, "--device-name", "device-A",
                    "--password-stdin",
                ],
                stdin: LifecycleTests.oldPassword + "\n")
            recoveryCode = try firstMatch("Recovery code: ([A-Z0-9-]+)", in: registered)
            // Codes for recovery and reset go only to a confirmed address.
            try server.confirmAddress(email)
            for index in 0..<30 {
                try a.ok(
                    ["add", "login", "--title", "Site \(index)", "--username", "user\(index)", "--password-stdin"],
                    stdin: "secret-\(index)\n")
            }
            if withDeviceB {
                let b = try CofferCLI()
                try b.ok(
                    [
                        "login", "--server", server.url, "--email", email, "--device-name", "device-B",
                        "--password-stdin",
                    ],
                    stdin: LifecycleTests.oldPassword + "\n")
                self.b = b
            } else {
                b = nil
            }
        }

        /// Resets through the CLI: a code by e-mail, then the reset with the new password, on `device`.
        func resetWithCLI(on device: CofferCLI, environment: [String: String] = [:]) throws -> CofferCLI.Result {
            try device.ok(["account", "reset", "--server", server.url, "--email", email])
            let code = try portal.code(to: email)
            return try device.run(
                [
                    "account", "reset", "--server", server.url, "--email", email, "--code", code, "--password-stdin",
                    "--yes",
                ],
                stdin: LifecycleTests.newPassword + "\n", environment: environment)
        }

        /// Resets from the web portal as anyone holding the mailbox could: the mailed link, then the
        /// confirmation. Returns the link and the setup code the last page shows.
        func resetFromPortal() async throws -> (link: String, setupCode: String) {
            _ = try await portal.post("/portal/forgot", ["email": email])
            let link = try firstMatch(
                "(http://\\S+/portal/reset\\?\\S+)", in: try portal.mail(to: email, containing: "/portal/reset"))
            let page = try await portal.get(link)
            let hidden = { (name: String) in try firstMatch("name=\"\(name)\" value=\"([^\"]+)\"", in: page.html) }
            let done = try await portal.post(
                "/portal/reset",
                ["account": try hidden("account"), "token": try hidden("token"), "confirmation": "reset my account"])
            #expect(done.status == 200)
            return (link, try firstMatch("id=\"setup-code\">([A-Z0-9-]+)<", in: done.html))
        }

        /// A brand-new device signed in with the new password.
        func newDevice() throws -> CofferCLI {
            let device = try CofferCLI()
            try device.ok(
                ["login", "--server", server.url, "--email", email, "--device-name", "device-C", "--password-stdin"],
                stdin: LifecycleTests.newPassword + "\n")
            return device
        }
    }

    static func count(_ cli: CofferCLI, password: String? = nil) throws -> Int {
        let arguments = ["list", "--json"] + (password == nil ? [] : ["--password-stdin"])
        return try #require(try cli.json(arguments, stdin: password.map { $0 + "\n" }) as? [[String: Any]]).count
    }

    @Test("reset in the web portal: B keeps its 30 items and moves them into the new account; the link works once")
    func portalResetThenRecoverFromDevice() async throws {
        let account = try Account(withDeviceB: true)
        let b = try #require(account.b)
        let portal = account.portal

        let forgot = try await portal.get("/portal/forgot")
        #expect(forgot.status == 200 && forgot.html.contains("recovery code") && !forgot.html.contains("<script"))
        let sent = try await portal.post("/portal/forgot", ["email": account.email])
        #expect(sent.status == 200 && sent.html.contains("If an account exists"))
        let link = try firstMatch(
            "(http://\\S+/portal/reset\\?\\S+)", in: try portal.mail(to: account.email, containing: "/portal/reset"))

        let page = try await portal.get(link)
        #expect(page.status == 200)
        #expect(page.html.contains("device-A") && page.html.contains("device-B"), "lists devices that still hold data")
        #expect(page.html.contains("quarantine") && page.html.contains("not deleted"))
        let hidden = { (name: String) in try firstMatch("name=\"\(name)\" value=\"([^\"]+)\"", in: page.html) }
        let form = ["account": try hidden("account"), "token": try hidden("token")]

        var unconfirmed = form
        unconfirmed["confirmation"] = "yes"
        let refused = try await portal.post("/portal/reset", unconfirmed)
        #expect(refused.status == 400 && refused.html.contains("Nothing was changed"))
        #expect(try Self.count(b) == 30, "a wrong confirmation changes nothing")

        var confirmed = form
        confirmed["confirmation"] = "reset my account"
        let done = try await portal.post("/portal/reset", confirmed)
        #expect(done.status == 200)
        let setupCode = try firstMatch("id=\"setup-code\">([A-Z0-9-]+)<", in: done.html)
        let reused = try await portal.get(link)
        #expect(
            reused.status == 410 && reused.html.contains("no longer works"), "a used link is refused with a clear page")

        // B syncs: it is told about the reset, that no new password exists yet and how to finish; it keeps every item.
        let sync = try b.run(["sync"])
        #expect(sync.status != 0 && sync.stderr.contains("reset"))
        #expect(
            sync.stderr.contains("No new password is set yet") && sync.stderr.contains("coffer account reset")
                && !sync.stderr.contains("Sign in with the new password"), "\(sync.stderr)")
        #expect(try Self.count(b) == 30)
        let status = try b.ok(["status"])
        #expect(status.contains("Account reset: on") && status.contains("30 item(s) kept on this device"), "\(status)")
        let doctor = try b.ok(["doctor"])
        #expect(
            doctor.contains("The account was reset on") && doctor.contains("30 item(s) from before the reset")
                && doctor.contains("Next step: Finish the reset"), "\(doctor)")

        // A has heard of the reset too; the prompt counts its 30 items once, not once per place it looked.
        _ = try account.a.run(["sync"])
        // A sets the new password with the portal's code; its old vault is archived, not deleted.
        let reset = try account.a.run(
            [
                "account", "reset", "--server", account.server.url, "--email", account.email, "--code", setupCode,
                "--password-stdin", "--yes",
            ],
            stdin: Self.newPassword + "\n")
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stderr.contains("keeps its 30 item(s)"), "\(reset.stderr)")
        #expect(reset.stdout.contains("Recovery code:"))
        #expect(try Self.count(account.a) == 0)
        #expect(try account.a.ok(["status"]).contains("30 item(s) kept on this device"))

        // B, whose agent still has the old vault unlocked, moves its items in with just the new password.
        let recovered = try b.run(["recover", "--from-device", "--password-stdin"], stdin: Self.newPassword + "\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(recovered.stderr.contains("30 added"))
        #expect(try Self.count(b) == 30)
        try account.a.ok(["sync"])
        #expect(try Self.count(account.a) == 30, "the new account has the 30 items")
        #expect(try account.a.ok(["get", "Site 7", "password"]) == "secret-7\n")

        // A recovers its own archived copy too (new password, then old): nothing is added twice.
        let again = try account.a.run(
            ["recover", "--from-device", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("0 added") && again.stderr.contains("30 already there"))
        #expect(try Self.count(account.a) == 30)

        // What happened is on record, in the CLI and in the portal (signed in by an e-mailed code).
        let events = try account.a.ok(["account", "events"])
        for expected in ["Account reset requested", "Account reset;", "New password and keys set", "Account created"] {
            #expect(events.contains(expected), "missing event \(expected) in \(events)")
        }
        let asked = try await portal.post("/portal/activity", ["email": account.email])
        #expect(asked.status == 200)
        let activity = try await portal.post(
            "/portal/activity/code", ["email": account.email, "code": try portal.code(to: account.email)])
        #expect(
            activity.status == 200 && activity.html.contains("Account reset;") && activity.html.contains("web portal"))

        // Through all of it the server saw no password, recovery code or item secret.
        let serverBytes = try account.server.allBytes()
        let newCode = try firstMatch("Recovery code: ([A-Z0-9-]+)", in: reset.stdout)
        for canary in [Self.oldPassword, Self.newPassword, "secret-7", "user7", account.recoveryCode, newCode] {
            #expect(serverBytes.range(of: Data(canary.utf8)) == nil, "\(canary) reached the server's files")
            #expect(
                serverBytes.range(of: Data(canary.replacingOccurrences(of: "-", with: "").utf8)) == nil,
                "\(canary) reached the server's files")
        }
        for device in [account.a, b] {
            let bytes = try device.allFileBytes()
            for canary in ["secret-7", "user7", Self.newPassword, Self.oldPassword] {
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(canary) is in clear under COFFER_HOME")
            }
        }
    }

    @Test(
        "no device left: the old password brings the 30 items back from quarantine; a purge waits, can be cancelled, then explains"
    )
    func quarantineWithOldPassword() async throws {
        let account = try Account(withDeviceB: false)
        let reset = try account.resetWithCLI(on: account.a)
        #expect(reset.status == 0, "\(reset.stderr)")
        let c = try account.newDevice()
        #expect(try Self.count(c) == 0)

        let wrong = try c.run(
            ["recover", "--old-password", "--password-stdin"], stdin: Self.newPassword + "\nnot-the-old-one\n")
        #expect(wrong.status == 4)
        #expect(
            wrong.stderr.contains("master password in force before that reset")
                && wrong.stderr.contains("--old-recovery-code"))

        let recovered = try c.run(
            ["recover", "--old-password", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try Self.count(c) == 30)
        let twice = try c.run(
            ["recover", "--old-password", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(twice.stderr.contains("0 item(s) added") && twice.stderr.contains("30 already here"))
        #expect(try Self.count(c) == 30, "recovering twice adds nothing twice")

        let noConfirmation = try c.run(
            ["account", "purge-quarantine", "--password-stdin"], stdin: Self.newPassword + "\n")
        #expect(noConfirmation.status == 7 && noConfirmation.stderr.contains("Nothing was deleted"))
        // A purge right after the reset is only a request: it waits for the mailed link, then 72 hours.
        try c.ok(["account", "purge-quarantine", "--yes", "--password-stdin"], stdin: Self.newPassword + "\n")
        let mail = try account.portal.mail(to: account.email, containing: "/portal/deletion?")
        let link = try firstMatch("(http://\\S+/portal/deletion\\?\\S+)", in: mail)
        let page = try await account.portal.get(link)
        #expect(page.status == 200 && page.html.contains("Confirm the deletion"))
        let id = try firstMatch("name=\"id\" value=\"([^\"]+)\"", in: page.html)
        let token = try firstMatch("name=\"token\" value=\"([^\"]+)\"", in: page.html)
        let confirmed = try await account.portal.post(
            "/portal/deletion", ["id": id, "token": token, "action": "confirm"])
        #expect(confirmed.status == 200 && confirmed.html.contains("Deletion confirmed"))
        // The next day it is still pending, shown by `coffer status`, and the old password still works.
        try account.portal.updateDatabase(
            "UPDATE pending_deletions SET executes_at = datetime(executes_at, '-24 hours')")
        let status = try c.ok(["status"])
        #expect(status.contains("Pending deletion \(id)") && status.contains("cancel \(id)"), "\(status)")
        let stillThere = try c.run(
            ["recover", "--old-password", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(stillThere.status == 0, "\(stillThere.stderr)")
        // Cancelled from the device, it never happens; asked and confirmed again, it happens after the wait.
        try c.ok(["account", "deletions", "cancel", id])
        #expect(try c.ok(["account", "deletions"]).contains("No deletion is pending"))
        try c.ok(["account", "purge-quarantine", "--yes", "--password-stdin"], stdin: Self.newPassword + "\n")
        let again = try await account.portal.get(
            try firstMatch(
                "(http://\\S+/portal/deletion\\?\\S+)",
                in: try account.portal.mail(to: account.email, containing: "/portal/deletion?id=")))
        _ = try await account.portal.post(
            "/portal/deletion",
            [
                "id": try firstMatch("name=\"id\" value=\"([^\"]+)\"", in: again.html),
                "token": try firstMatch("name=\"token\" value=\"([^\"]+)\"", in: again.html), "action": "confirm",
            ])
        try account.portal.updateDatabase(
            "UPDATE pending_deletions SET executes_at = '2000-01-01 00:00:00.000' WHERE ended_at IS NULL")
        let afterPurge = try c.run(
            ["recover", "--old-password", "--password-stdin"], stdin: Self.newPassword + "\n" + Self.oldPassword + "\n")
        #expect(afterPurge.status == 7)
        #expect(
            afterPurge.stderr.contains("was deleted from the server") && afterPurge.stderr.contains("Only a backup"))
        #expect(try Self.count(c) == 30)
        #expect(try c.ok(["account", "events"]).contains("deleted on request"))
    }

    @Test("the old recovery code brings the 30 items back; an expired quarantine is explained")
    func quarantineWithOldRecoveryCode() throws {
        let account = try Account(withDeviceB: false)
        #expect(try account.resetWithCLI(on: account.a).status == 0)
        let c = try account.newDevice()
        let recovered = try c.run(
            ["recover", "--old-recovery-code", "-", "--password-stdin"],
            stdin: Self.newPassword + "\n" + account.recoveryCode + "\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try Self.count(c) == 30)

        // The retention period passing: the server purges on its next look and says so.
        try account.portal.updateDatabase("UPDATE quarantined_epochs SET expires_at = '2000-01-01 00:00:00.000'")
        let expired = try c.run(
            ["recover", "--old-recovery-code", "-", "--password-stdin"],
            stdin: Self.newPassword + "\n" + account.recoveryCode + "\n")
        #expect(expired.status == 7 && expired.stderr.contains("Only a backup made before the reset"))
        #expect(try c.ok(["account", "events"]).contains("expired and was deleted"))
        #expect(try Self.count(c) == 30)
    }

    @Test("a password change on A signs B out; B signs in with the new password and keeps everything")
    func passwordChange() throws {
        let account = try Account(withDeviceB: true)
        let b = try #require(account.b)
        try account.a.ok(
            ["password", "change", "--password-stdin"], stdin: Self.oldPassword + "\n" + Self.newPassword + "\n")
        let sync = try b.run(["sync"])
        #expect(sync.status != 0 && sync.stderr.contains("password was changed"), "\(sync.stderr)")
        #expect(sync.stderr.components(separatedBy: "coffer login").count == 2, "said once: \(sync.stderr)")
        #expect(try Self.count(b) == 30)
        let doctor = try b.run(["doctor"])
        #expect(doctor.status == 0)
        #expect(
            doctor.stdout.contains("Signed out of \(account.email)") && doctor.stdout.contains("password was changed")
                && doctor.stdout.contains("Next step: Sign in again with the current password: `coffer login"),
            "\(doctor.stdout)")
        #expect(!doctor.stdout.contains(Self.oldPassword) && !doctor.stdout.contains(Self.newPassword))
        try b.ok(["lock"])
        try b.ok(["login", "--password-stdin"], stdin: Self.newPassword + "\n")
        #expect(try Self.count(b) == 30)
        for device in [account.a, b] {
            try device.ok(["lock"])
            #expect(try device.run(["unlock", "--password-stdin"], stdin: Self.oldPassword + "\n").status == 4)
            try device.ok(["unlock", "--password-stdin"], stdin: Self.newPassword + "\n")
            #expect(try Self.count(device) == 30)
        }
        #expect(try account.a.ok(["account", "events"]).contains("Master password changed"))
    }

    @Test(
        "recovery kit: a new code replaces the old one; `coffer recover` with e-mail and recovery code keeps the data")
    func recoveryKitAndRecover() throws {
        let account = try Account(withDeviceB: false)
        let kitFile = account.a.home.appendingPathComponent("kit.html").path
        let kit = try account.a.ok(
            ["recovery-kit", "new", "--html", kitFile, "--password-stdin"], stdin: Self.oldPassword + "\n")
        let newCode = try firstMatch("Recovery code: ([A-Z0-9-]+)", in: kit)
        #expect(newCode != account.recoveryCode)
        let html = try String(contentsOfFile: kitFile, encoding: .utf8)
        #expect(html.contains(newCode) && html.contains("Coffer recovery kit"))
        #expect((try FileManager.default.attributesOfItem(atPath: kitFile)[.posixPermissions] as? Int) == 0o600)

        // Forgot the password, on a new device: e-mail code + recovery code → new password, same data.
        let c = try CofferCLI()
        try c.ok(["recover", "--server", account.server.url, "--email", account.email])
        let emailCode = try account.portal.code(to: account.email)
        let stale = try c.run(
            [
                "recover", "--server", account.server.url, "--email", account.email, "--code", emailCode,
                "--recovery-code", "-", "--password-stdin",
            ],
            stdin: account.recoveryCode + "\n" + Self.newPassword + "\n")
        #expect(
            stale.status == 4 && stale.stderr.contains("recovery code does not open"), "the old code stopped working")
        let recovered = try c.run(
            [
                "recover", "--server", account.server.url, "--email", account.email, "--code", emailCode,
                "--recovery-code", "-", "--password-stdin",
            ],
            stdin: newCode + "\n" + Self.newPassword + "\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try Self.count(c) == 30)
        let events = try c.ok(["account", "events"])
        #expect(events.contains("New recovery kit made") && events.contains("Password reset with the recovery code"))
        // A was signed out by the recovery and signs in with the new password, keeping its items.
        #expect(try account.a.run(["sync"]).status != 0)
        try account.a.ok(["login", "--password-stdin"], stdin: Self.newPassword + "\n")
        #expect(try Self.count(account.a) == 30)
    }
}
