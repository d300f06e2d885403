import CofferKDBX
import CofferTestSupport
import Foundation
import KeePassXCPeer
import Testing

/// KeePass KDBX 4 through the real `coffer` binary and the real peer, keepassxc-cli.
@Suite("KeePass import and export through the CLI", .serialized)
struct KeePassTests {
    @Test(
        "a keepassxc-cli database with a key file imports with every field; Coffer's KDBX export opens in keepassxc-cli"
    )
    func keepassRoundTrip() throws {
        let keepassxc = try KeePassXC()
        let folder = try ScratchFolder()
        let keyFile = folder.path("peer.keyx")
        let database = try KeePassXC.peerDatabase(in: folder, keyFile: keyFile)
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")

        let wrong = try a.run(
            ["import", database, "--key-file", keyFile, "--password-stdin", "--yes"], stdin: "nope\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("does not open"), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("YubiKey"), "a hardware key, which no file marks, is named as a possible cause")
        let noKey = try a.run(["import", database, "--password-stdin", "--yes"], stdin: KeePassXC.password + "\n")
        #expect(noKey.status != 0 && noKey.stderr.contains("--key-file"), "\(noKey.stderr)")
        #expect(try LifecycleTests.count(a) == 0)

        let imported = try a.ok(
            ["import", database, "--key-file", keyFile, "--password-stdin", "--yes"], stdin: KeePassXC.password + "\n")
        #expect(imported.contains("2 added"), "\(imported)")
        #expect(try a.ok(["get", "Gmail", "password"]) == "new-sécret-🔑\n")
        #expect(try a.ok(["get", "Gmail", "username"]) == "alice@example.com\n")
        #expect(try a.ok(["get", "Gmail", "url"]) == "https://mail.google.com\n")
        #expect(try a.ok(["get", "Gmail", "PIN"]) == "1234\n")
        #expect(try a.ok(["get", "Gmail", "Recovery email"]) == "bob@example.com\n")
        #expect(try a.ok(["get", "Gmail", "notes"]) == "two\nlines & \"quotes\"\n")
        #expect(try a.ok(["get", "Gmail", "totp"]).hasPrefix("otpauth://totp/Gmail:alice?secret=JBSWY3DPEHPK3PXP"))
        let record = try #require(try a.json(["show", "Gmail", "--reveal", "--json"]) as? [String: Any])
        #expect(record["tags"] as? [String] == ["Email", "important", "work"])
        let history = try #require(record["passwordHistory"] as? [[String: Any]])
        #expect(history.map { $0["value"] as? String } == ["old-secret"])
        #expect((record["attachments"] as? [[String: Any]])?.first?["name"] as? String == "note.txt")
        let saved = folder.path("saved.txt")
        try a.ok(["attachment", "save", "Gmail", "note.txt", "--output", saved])
        #expect(try String(contentsOfFile: saved, encoding: .utf8) == "hello attachment")
        #expect(try a.ok(["get", "Wi-Fi at home", "password"]) == "router-pass\n")

        for cipher in ["aes256", "chacha20"] {
            let exported = folder.path("coffer-\(cipher).kdbx")
            try a.ok(
                ["export", "--format", "kdbx", "--cipher", cipher, "--output", exported, "--password-stdin", "--yes"],
                stdin: "export-password-77\n")
            #expect((try FileManager.default.attributesOfItem(atPath: exported)[.posixPermissions] as? Int) == 0o600)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: exported))
            #expect(bytes.range(of: Data("new-sécret".utf8)) == nil && bytes.range(of: Data("Gmail".utf8)) == nil)
            let info = try keepassxc.run(["db-info", "-q", exported], input: ["export-password-77"])
            #expect(
                info.contains(cipher == "aes256" ? "AES 256-bit" : "ChaCha20") && info.contains("Argon2id"), "\(info)")
            func attribute(_ name: String, of entry: String) throws -> String {
                try keepassxc.run(["show", "-q", "-s", "-a", name, exported, entry], input: ["export-password-77"])
            }
            #expect(try attribute("Password", of: "Email/Gmail") == "new-sécret-🔑\n")
            #expect(try attribute("UserName", of: "Email/Gmail") == "alice@example.com\n")
            #expect(try attribute("URL", of: "Email/Gmail") == "https://mail.google.com\n")
            #expect(try attribute("Notes", of: "Email/Gmail") == "two\nlines & \"quotes\"\n")
            #expect(try attribute("PIN", of: "Email/Gmail") == "1234\n")
            #expect(
                try attribute("otp", of: "Email/Gmail").hasPrefix("otpauth://totp/Gmail:alice?secret=JBSWY3DPEHPK3PXP"))
            let code = try keepassxc.run(["show", "-q", "-t", exported, "Email/Gmail"], input: ["export-password-77"])
            #expect(code.trimmingCharacters(in: .whitespacesAndNewlines).count == 6, "a TOTP code: \(code)")
            #expect(try attribute("Password", of: "Wi-Fi at home") == "router-pass\n")
        }

        // Coffer's own KDBX comes back into a new vault with the same items.
        let b = try CofferCLI()
        try b.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        try b.ok(
            ["import", folder.path("coffer-chacha20.kdbx"), "--password-stdin", "--yes"], stdin: "export-password-77\n")
        #expect(try b.ok(["get", "Gmail", "password"]) == "new-sécret-🔑\n")
        let back = try #require(try b.json(["show", "Gmail", "--reveal", "--json"]) as? [String: Any])
        #expect(back["tags"] as? [String] == ["Email", "important", "work"])
        #expect((back["passwordHistory"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == ["old-secret"])
        #expect((back["attachments"] as? [[String: Any]])?.first?["bytes"] as? Int == 16)
    }

    /// Writes `entries` as a KeePass database with a cheap key derivation (tests need no 64 MiB).
    static func writeDatabase(_ entries: [KDBXEntry], password: String, to path: String) throws {
        try KDBXFile.write(
            KDBXDatabase(name: "test", root: KDBXGroup(name: "Root", entries: entries)),
            credentials: KDBXCredentials(password: password),
            settings: KDBXSettings(
                cipher: .aes256, keyDerivation: .argon2id(memoryKiB: 1024, iterations: 1, parallelism: 1))
        ).write(to: URL(fileURLWithPath: path))
    }

    @Test(
        "KeePass XML: KeePassXC's export (gzip attachments) and KeePass's own dialect import every field without a password; encrypted-value XML is refused"
    )
    func keepassXML() throws {
        let keepassxc = try KeePassXC()
        let folder = try ScratchFolder()
        let database = try KeePassXC.peerDatabase(in: folder)
        let exported = folder.path("keepassxc.xml")
        try Data(try keepassxc.run(["export", "-q", "-f", "xml", database], input: [KeePassXC.password]).utf8)
            .write(to: URL(fileURLWithPath: exported))
        let handWritten = folder.path("keepass.xml")
        try Data(KeePassXC.peerXML.utf8).write(to: URL(fileURLWithPath: handWritten))
        for (xml, holdsAttachment) in [(exported, false), (handWritten, true)] {
            let a = try CofferCLI()
            try a.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: SyncTests.password + "\n")
            let imported = try a.run(["import", xml, "--yes"])
            #expect(imported.status == 0 && imported.stdout.contains("2 added"), "\(imported.stderr)")
            #expect(imported.stderr.contains("KeePass XML"))
            #expect(try a.ok(["get", "Gmail", "password"]) == "new-sécret-🔑\n")
            #expect(try a.ok(["get", "Gmail", "PIN"]) == "1234\n")
            #expect(try a.ok(["get", "Gmail", "Recovery email"]) == "bob@example.com\n")
            let record = try #require(try a.json(["show", "Gmail", "--reveal", "--json"]) as? [String: Any])
            #expect(record["tags"] as? [String] == ["Email", "important", "work"])
            #expect((record["passwordHistory"] as? [[String: Any]])?.map { $0["value"] as? String } == ["old-secret"])
            if holdsAttachment {
                let saved = folder.path("saved-\(UUID().uuidString).txt")
                try a.ok(["attachment", "save", "Gmail", "note.txt", "--output", saved])
                #expect(try String(contentsOfFile: saved, encoding: .utf8) == "hello attachment")
            } else {
                // KeePassXC writes the reference but not the content: named, not silently lost.
                #expect(imported.stderr.contains("Gmail: note.txt") && imported.stderr.contains("Import the .kdbx"))
            }
        }
        let protected = folder.path("protected.xml")
        try Data(
            KeePassXC.peerXML.replacingOccurrences(
                of: "ProtectInMemory=\"True\">1234", with: "Protected=\"True\">MTIzNA=="
            )
            .utf8
        ).write(to: URL(fileURLWithPath: protected))
        let a = try CofferCLI()
        try a.ok(["init", "--password-stdin", "--kdf-memory-mib", "19"], stdin: SyncTests.password + "\n")
        let refused = try a.run(["import", protected, "--yes"])
        #expect(
            refused.status == 7 && refused.stderr.contains("export the database again as plain XML"),
            "\(refused.stderr)")
        #expect(try LifecycleTests.count(a) == 0)
    }

    @Test("items with 19 MiB of attachments, more than one request may carry, sync to a second device intact")
    func attachmentsSync() throws {
        let folder = try ScratchFolder()
        let path = folder.path("big.kdbx")
        let attachments = (0..<10).map { index in
            Data((0..<1_950_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 3) >> 3) })
        }
        let entries = attachments.enumerated().map { index, data in
            KDBXEntry(
                strings: [.init(key: "Title", value: "Scan \(index)"), .init(key: "Notes", value: "n")],
                attachments: [.init(name: "scan.bin", data: data)])
        }
        try Self.writeDatabase(entries, password: "big-file-password", to: path)
        let devices = try SyncTests.TwoDevices { a in
            try a.ok(["import", path, "--password-stdin", "--yes"], stdin: "big-file-password\n")
        }
        #expect(try LifecycleTests.count(devices.b) == 10)
        for (index, data) in attachments.enumerated() {
            let saved = folder.path("scan-\(index).bin")
            try devices.b.ok(["attachment", "save", "Scan \(index)", "scan.bin", "--output", saved])
            #expect(try Data(contentsOf: URL(fileURLWithPath: saved)) == data, "Scan \(index)")
        }
    }

    @Test("importing the same KeePass database twice with --duplicates keep adds copies under fresh ids")
    func keepDuplicates() throws {
        let folder = try ScratchFolder()
        let database = try KeePassXC.peerDatabase(in: folder)
        let c = try CofferCLI()
        try c.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        for _ in 0..<2 {
            let output = try c.ok(
                ["import", database, "--duplicates", "keep", "--password-stdin", "--yes"],
                stdin: KeePassXC.password + "\n")
            #expect(output.contains("2 added"), "\(output)")
        }
        let items = try #require(try c.json(["list", "--json"]) as? [[String: Any]])
        #expect(items.count == 4)
        #expect(Set(items.compactMap { $0["id"] as? String }).count == 4)
    }
}
