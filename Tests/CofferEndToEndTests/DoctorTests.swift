import CofferTestSupport
import Foundation
import Testing

/// `coffer doctor` explains a device in plain words and ends with one next step; it prints nothing
/// secret. Signed-out and reset devices are examined in the lifecycle suite, where those states arise.
@Suite("coffer doctor")
struct DoctorTests {
    @Test("a fresh profile, then a locked vault with a backup: each said in words, with the next step; exit 0")
    func freshAndLocked() throws {
        let cli = try CofferCLI()
        let fresh = try cli.run(["doctor"])
        #expect(fresh.status == 0)
        #expect(fresh.stdout.contains("There is no vault on this device yet"), "\(fresh.stdout)")
        #expect(fresh.stdout.contains("Next step: `coffer init` makes a new vault"), "\(fresh.stdout)")

        let password = "doctor-canary-pass-41"
        // A light key derivation: the test is about what doctor says, not about Argon2id's cost.
        try cli.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: password + "\n")
        try cli.ok(
            ["add", "login", "--title", "doctor-canary-title", "--password-stdin"], stdin: "doctor-canary-secret\n")
        try cli.ok(["lock"])
        // Backups kept elsewhere (COFFER_BACKUP_DIR), where none was made yet.
        let elsewhere = cli.home.appendingPathComponent("no-backups-yet").path
        let locked = try cli.run(["doctor"], environment: ["COFFER_BACKUP_DIR": elsewhere])
        #expect(locked.status == 0)
        for expected in ["Locked:", "Local only", "No backup in", "Next step: `coffer backup create`"] {
            #expect(locked.stdout.contains(expected), "\(expected) in \(locked.stdout)")
        }
        try cli.ok(["backup", "create", "--password-stdin"], stdin: password + "\n")
        try cli.ok(["lock"])
        let json = try #require(try cli.json(["doctor", "--json"]) as? [String: Any])
        let findings = try #require(json["findings"] as? [[String: Any]])
        let backups = try #require(findings.first { $0["topic"] as? String == "backups" })
        #expect(backups["state"] as? String == "ok")
        #expect((backups["text"] as? String)?.contains("opens with your current password") == true)
        #expect(json["nextStep"] as? String == "Nothing needs doing.")
        for output in [fresh.stdout, locked.stdout, String(describing: json)] {
            for canary in [password, "doctor-canary-title", "doctor-canary-secret"] {
                #expect(!output.contains(canary), "doctor printed \(canary)")
            }
        }
    }
}
