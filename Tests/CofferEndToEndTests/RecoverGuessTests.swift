import CofferTestSupport
import Foundation
import Testing

/// The forgotten-password assistant of issue 16 with the real `coffer`: remembered passwords in,
/// the real one out, against real backup and vault files, resumable after a SIGKILL.
@Suite("forgotten-password assistant", .serialized)
struct RecoverGuessTests {
    /// A profile whose vault uses `password` at the lowest memory setting (so the test's guesses are quick).
    static func profile(password: String) throws -> CofferCLI {
        let cli = try CofferCLI()
        try cli.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: password + "\n")
        try cli.ok(["add", "login", "--title", "Mail", "--password-stdin"], stdin: "mail-secret\n")
        return cli
    }

    static func tries(in text: String) throws -> Int {
        try #require(Int(try firstMatch("Found it after ([0-9]+) tries", in: text)))
    }

    @Test("Tr0ub4dor&3 from troubador&3 against a real backup; Summer2019! from summer2018 against the vault file")
    func findsThePassword() throws {
        let troubador = try Self.profile(password: "Tr0ub4dor&3")
        let backup = try troubador.ok(["backup", "create"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let found = try troubador.run(
            ["recover", "--guess", backup, "--password-stdin"], stdin: "troubador&3\n")
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout == "Tr0ub4dor&3\n")
        #expect(try Self.tries(in: found.stderr) <= 400, "\(found.stderr)")
        #expect(
            found.stderr.contains("a capital first letter") && found.stderr.contains("o as 0")
                && found.stderr.contains("coffer backup restore"), "\(found.stderr)")

        let summer = try Self.profile(password: "Summer2019!")
        try summer.ok(["lock"])
        let vault = summer.home.appendingPathComponent("vault.sqlite").path
        let before = try Data(contentsOf: URL(fileURLWithPath: vault))
        let second = try summer.run(
            ["recover", "--guess", vault, "--password-stdin"], stdin: "summer2018\n")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "Summer2019!\n")
        #expect(try Self.tries(in: second.stderr) <= 400, "\(second.stderr)")
        #expect(
            second.stderr.contains("2019 instead of 2018") && second.stderr.contains("coffer unlock"),
            "\(second.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault)) == before, "the vault file is only read")
    }

    @Test("killed half-way, the next run continues where it stopped; the resume file holds only counts")
    func resumesAfterKill() throws {
        let cli = try Self.profile(password: "Tr0ub4dor&3")
        let backup = try cli.ok(["backup", "create"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let killed = try cli.run(
            ["recover", "--guess", backup, "--password-stdin"], stdin: "troubador&3\n",
            environment: ["COFFER_CRASH_AT": "guess.tried.100"])
        #expect(killed.status == 137, "killed by SIGKILL: \(killed.stderr)")
        let state = try #require(
            FileManager.default.enumerator(atPath: cli.home.path)?.compactMap { $0 as? String }
                .first { $0.contains("recover-guess/") && $0.hasSuffix(".json") })
        let saved = try String(contentsOf: cli.home.appendingPathComponent(state), encoding: .utf8)
        for secret in ["troubador", "Tr0ub", "roub"] { #expect(!saved.contains(secret), "\(saved)") }

        let resumed = try cli.run(["recover", "--guess", backup, "--password-stdin"], stdin: "troubador&3\n")
        #expect(resumed.status == 0 && resumed.stdout == "Tr0ub4dor&3\n", "\(resumed.stderr)")
        let skipped = try #require(Int(try firstMatch("Resuming: ([0-9]+) variants", in: resumed.stderr)))
        #expect(skipped >= 100)
        let total = try Self.tries(in: resumed.stderr)
        let thisRun = try #require(Int(try firstMatch("\\(([0-9]+) in this run\\)", in: resumed.stderr)))
        // Every variant from the resume point to the find was tried, and the earlier ones were not tried
        // again. The other worker goes on past the find for as long as the finding try takes, which on a
        // loaded machine is more than one try (CI saw two), so the bound is far below a redone prefix
        // rather than "exactly one past".
        #expect(thisRun >= total - skipped && thisRun < total - skipped / 2, "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent(state).path))
    }

    @Test("nothing opens it: says how many were tried and what to add; exit 4, the resume file is gone")
    func exhausted() throws {
        let cli = try Self.profile(password: "Tr0ub4dor&3")
        let vault = cli.home.appendingPathComponent("vault.sqlite").path
        let result = try cli.run(
            ["recover", "--guess", vault, "--max-changes", "1", "--password-stdin"], stdin: "zq\nqz\n")
        #expect(result.status == 4 && result.stdout.isEmpty, "\(result.stderr)")
        let tried = try #require(Int(try firstMatch("None of the ([0-9]+) variants", in: result.stderr)))
        #expect(tried > 2 && result.stderr.contains("--rules FILE"), "\(result.stderr)")
        #expect(
            FileManager.default.enumerator(atPath: cli.home.path)?.compactMap { $0 as? String }
                .contains { $0.contains("recover-guess/") && $0.hasSuffix(".json") } == false)
    }

    @Test("targets it cannot use and input it cannot read get one clear sentence; nothing crashes")
    func refusals() throws {
        let cli = try Self.profile(password: "Tr0ub4dor&3")
        let text = cli.home.appendingPathComponent("notes.txt")
        try Data("just some text\n".utf8).write(to: text)
        let rules = cli.home.appendingPathComponent("rules.txt")
        try Data("append 2024\nmake-it-canary-zq9 please\n".utf8).write(to: rules)
        let vault = cli.home.appendingPathComponent("vault.sqlite").path
        let cases: [([String], String, String)] = [
            (["--guess", "https://coffer.example.org"], "x\n", "quarantine"),
            (["--guess", text.path], "x\n", "is not a Coffer backup or vault file"),
            (["--guess", "/nonexistent/backup.cofferbackup"], "x\n", "does not exist"),
            (["--guess", vault], "", "No remembered password"),
            (["--guess", vault, "--rules", rules.path], "x\n", "Line 2 of"),
            (["--guess", vault, "--keyboard", "dvorak"], "x\n", "qwerty, qwertz or azerty"),
            (["--rules", rules.path], "x\n", "go with --guess"),
            (["--guess", vault, "--max-changes", "9"], "x\n", "from 0 to 4"),
        ]
        for (arguments, input, message) in cases {
            let result = try cli.run(["recover"] + arguments + ["--password-stdin"], stdin: input)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("canary-zq9"), "a rules line is not echoed")
            #expect(!result.stderr.contains("Fatal error"))
        }
    }
}
