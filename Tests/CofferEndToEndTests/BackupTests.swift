import CofferTestSupport
import Foundation
import Testing

/// Backups through the real `coffer` binary: they open after a password change and after a reset,
/// say which secrets open them, refuse damage, and are thinned as configured.
@Suite("encrypted backups", .serialized)
struct BackupTests {
    static let oldPassword = LifecycleTests.oldPassword
    static let newPassword = LifecycleTests.newPassword

    static func backups(_ cli: CofferCLI, environment: [String: String] = [:]) throws -> [[String: Any]] {
        let result = try cli.run(["backup", "list", "--json"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    @Test("a backup restores after a password change, and after a reset with the old password or recovery code")
    func acrossPasswordChangeAndReset() throws {
        let account = try LifecycleTests.Account(withDeviceB: false)
        let a = account.a
        let path = try a.ok(["backup", "create"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasSuffix(".cofferbackup"))
        let listed = try #require(try Self.backups(a).first { $0["path"] as? String == path })
        #expect(listed["items"] as? Int == 30)
        #expect((listed["opensWith"] as? [String])?.contains("your current password") == true)

        // Password change: the current password still opens it, and so does the one in force then.
        try a.ok(["password", "change", "--password-stdin"], stdin: Self.oldPassword + "\n" + Self.newPassword + "\n")
        let afterChange = try #require(try Self.backups(a).first { $0["path"] as? String == path })
        let secrets = try #require(afterChange["opensWith"] as? [String])
        #expect(
            secrets.contains("your current password") && secrets.contains { $0.hasPrefix("the password in force on") })
        for index in 0..<5 { try a.ok(["rm", "Site \(index)"]) }
        try a.ok(["purge", "Site 0", "--yes"])
        let restored = try a.run(["backup", "restore", path, "--merge"])
        #expect(restored.status == 0 && restored.stderr.contains("1 added"), "\(restored.stderr)")
        let live = try LifecycleTests.count(a)
        #expect(live == 26, "trashed items stay trashed: the trash is newer than the backup; \(live) live")

        // Reset: the vault key changes; the old backup no longer opens with the current password…
        let reset = try a.run(
            [
                "account", "reset", "--server", account.server.url, "--email", account.email, "--code",
                try { () throws -> String in
                    try a.ok(["account", "reset", "--server", account.server.url, "--email", account.email])
                    return try account.portal.code(to: account.email)
                }(), "--password-stdin", "--yes",
            ],
            stdin: "\(Self.newPassword)-2\n")
        #expect(reset.status == 0, "\(reset.stderr)")
        let afterReset = try #require(try Self.backups(a).first { $0["path"] as? String == path })
        #expect((afterReset["opensWith"] as? [String])?.contains("your current password") == false)
        #expect(afterReset["items"] == nil, "contents stay sealed to the new key")

        // …a wrong password gets an error naming the secrets that do…
        let wrong = try a.run(["backup", "restore", path, "--merge", "--password-stdin"], stdin: "not-it\n")
        #expect(wrong.status == 4)
        #expect(
            wrong.stderr.contains("the password in force on") && wrong.stderr.contains("the recovery code in force on"))
        #expect(try LifecycleTests.count(a) == 0, "nothing changed")

        // …the old recovery code restores into the new account, and the old password too (adding nothing twice).
        let byCode = try a.run(
            ["backup", "restore", path, "--merge", "--recovery-code", "-"], stdin: account.recoveryCode + "\n")
        #expect(byCode.status == 0 && byCode.stderr.contains("30 added"), "\(byCode.stderr) \(byCode.stdout)")
        let byPassword = try a.run(
            ["backup", "restore", path, "--merge", "--password-stdin"], stdin: Self.oldPassword + "\n")
        #expect(byPassword.status == 0 && byPassword.stderr.contains("0 added"), "\(byPassword.stderr)")
        #expect(try LifecycleTests.count(a) == 30)
        let c = try CofferCLI()
        try c.ok(
            ["login", "--server", account.server.url, "--email", account.email, "--password-stdin"],
            stdin: "\(Self.newPassword)-2\n")
        #expect(try LifecycleTests.count(c) == 30, "the restored items reached the new account")
    }

    @Test("truncated, bit-flipped and foreign files are refused with a clear error and change nothing")
    func damagedFiles() throws {
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: Self.oldPassword + "\n")
        for index in 0..<5 { try a.ok(["add", "note", "--title", "Note \(index)", "--notes", "text \(index)"]) }
        let path = try a.ok(["backup", "create"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let directory = a.home.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var flipped = bytes
        flipped[bytes.count - 40] ^= 0x01
        let cases: [(String, Data, Int32, String)] = [
            ("truncated.cofferbackup", bytes.prefix(bytes.count / 2), 5, "damaged or incomplete"),
            ("flipped.cofferbackup", flipped, 5, "damaged or incomplete"),
            ("export.csv", Data("name,url,username,password\n".utf8), 7, "not a Coffer backup"),
            ("empty.cofferbackup", Data(), 7, "not a Coffer backup"),
        ]
        for (name, data, status, message) in cases {
            let file = directory.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: file))
            for command in [["backup", "verify", file], ["backup", "restore", file, "--replace"]] {
                let result = try a.run(command)
                #expect(result.status == status, "\(name): \(result.status) \(result.stderr)")
                #expect(
                    result.stderr.contains(message) && result.stderr.contains("Nothing was changed"), "\(result.stderr)"
                )
            }
        }
        #expect(try LifecycleTests.count(a) == 5)
        #expect(try a.ok(["backup", "verify", path]).contains("whole and opens"))
    }

    @Test("automatic backups follow changes into the configured folder and are thinned by the retention setting")
    func retention() throws {
        let a = try CofferCLI()
        let folder = a.home.appendingPathComponent("usb-stick").path
        let environment = [
            "COFFER_BACKUP_DIR": folder, "COFFER_BACKUP_INTERVAL": "0.001s",
            "COFFER_BACKUP_KEEP": "last=3,daily=0,weekly=0,monthly=0",
        ]
        #expect(
            try a.run(["init", "--password-stdin"], stdin: Self.oldPassword + "\n", environment: environment).status
                == 0)
        #expect(try a.run(["add", "note", "--title", "First"], environment: environment).status == 0)
        let manual = try a.run(["backup", "create"], environment: environment).stdout
        for index in 0..<6 {
            #expect(try a.run(["add", "note", "--title", "Note \(index)"], environment: environment).status == 0)
        }
        // The agent makes (and thins) backups after answering; asking it for the list waits for that.
        let listing = try Self.backups(a, environment: environment)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let automatic = names.filter { $0.contains("-auto-") }
        #expect(automatic.count == 3, "\(names)")
        #expect(names.contains { manual.contains($0) }, "a backup made by hand is never thinned")
        let newest = try #require(listing.first)
        #expect(newest["items"] as? Int == 7, "the newest automatic backup holds the last change")
        #expect(try LifecycleTests.count(a) == 7)
    }

    @Test(
        "a backup kept on the server restores on a new device after a reset, released only to a secret of its time"
    )
    func serverCopyOnNewDevice() throws {
        let account = try LifecycleTests.Account(withDeviceB: false)
        let uploaded = try account.a.run(["backup", "create", "--upload"])
        #expect(uploaded.status == 0 && uploaded.stderr.contains("kept on the sync server"), "\(uploaded.stderr)")

        // Every device is lost; a new one resets the account and finds the backup on the server.
        let c = try CofferCLI()
        let reset = try account.resetWithCLI(on: c)
        #expect(reset.status == 0, "\(reset.stderr)")
        let listed = try #require(try c.json(["backup", "list", "--server", "--json"]) as? [[String: Any]])
        #expect(listed.count == 1)
        let id = try #require(listed.first?["id"] as? String)
        // Whoever reset the account with the mailbox alone does not get the old backup (it carries the
        // old password's wrap): it is released only to the password or recovery code of its time.
        let refused = try c.run(["backup", "download", id])
        #expect(refused.status == 4 && refused.stderr.contains("made before the account reset"), "\(refused.stderr)")
        let wrong = try c.run(["backup", "download", id, "--password-stdin"], stdin: "not-the-old-one\n")
        #expect(wrong.status == 4 && wrong.stderr.contains("more attempts this hour"), "\(wrong.stderr)")
        #expect(try c.ok(["account", "events"]).contains("A wrong password or recovery code was tried"))
        let path = try c.ok(["backup", "download", id, "--password-stdin"], stdin: Self.oldPassword + "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let byCode = try c.run(["backup", "download", id, "--recovery-code", "-"], stdin: account.recoveryCode + "\n")
        #expect(byCode.status == 0, "the old recovery code proves it too: \(byCode.stderr)")
        let restored = try c.run(
            ["backup", "restore", path, "--merge", "--password-stdin"], stdin: Self.oldPassword + "\n")
        #expect(restored.status == 0 && restored.stderr.contains("30 added"), "\(restored.stderr)")
        #expect(try LifecycleTests.count(c) == 30)
        #expect(try c.run(["backup", "download", "not-an-id"]).status == 7)
    }
}
