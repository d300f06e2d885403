import Foundation
import KeePassXCPeer
import Testing

@testable import CofferKDBX

/// KDBX 4 against the real peer: databases keepassxc-cli makes open in Coffer with every field, and
/// databases Coffer writes open in keepassxc-cli with the same entries.
@Suite("KDBX 4 with keepassxc-cli")
struct KDBXPeerTests {
    static func check(peerEntries database: KDBXDatabase) throws {
        let email = try #require(database.root.groups.first { $0.name == "Email" })
        let gmail = try #require(email.entries.first)
        #expect(gmail.value("Title") == "Gmail")
        #expect(gmail.value("UserName") == "alice@example.com")
        #expect(gmail.value("Password") == "new-sécret-🔑")
        #expect(gmail.strings.first { $0.key == "Password" }?.isProtected == true)
        #expect(gmail.value("URL") == "https://mail.google.com")
        #expect(gmail.value("Notes") == "two\nlines & \"quotes\"")
        #expect(gmail.value("otp") == "otpauth://totp/Gmail:alice?secret=JBSWY3DPEHPK3PXP&period=30&digits=6")
        #expect(gmail.value("Recovery email") == "bob@example.com")
        #expect(gmail.value("PIN") == "1234")
        #expect(Set(gmail.tags) == ["work", "important"])
        #expect(gmail.attachments == [KDBXEntry.Attachment(name: "note.txt", data: Data("hello attachment".utf8))])
        #expect(gmail.created == Date(timeIntervalSince1970: 1_704_164_645))
        #expect(gmail.modified == Date(timeIntervalSince1970: 1_706_933_106))
        #expect(gmail.history.count == 1)
        #expect(gmail.history.first?.value("Password") == "old-secret")
        #expect(gmail.history.first?.modified == Date(timeIntervalSince1970: 1_704_844_800))
        #expect(database.root.entries.first?.value("Password") == "router-pass")
    }

    @Test("a KDBX 4 database made by keepassxc-cli opens with every field")
    func peerDatabaseOpens() throws {
        let folder = try ScratchFolder()
        let path = try KeePassXC.peerDatabase(in: folder)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try KDBXFile.settings(of: data).keyDerivation == .aes(rounds: 1_000_000))
        let database = try KDBXFile.read(data, credentials: KDBXCredentials(password: KeePassXC.password))
        try Self.check(peerEntries: database)
        #expect(database.name == "Peer")
    }

    @Test("a key file made by keepassxc-cli is needed and works")
    func keyFile() throws {
        let folder = try ScratchFolder()
        let keyPath = folder.path("peer.keyx")
        let path = try KeePassXC.peerDatabase(in: folder, keyFile: keyPath)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let keyFile = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        let database = try KDBXFile.read(
            data, credentials: KDBXCredentials(password: KeePassXC.password, keyFile: keyFile))
        try Self.check(peerEntries: database)
        #expect(throws: KDBXError.wrongKey) {
            try KDBXFile.read(data, credentials: KDBXCredentials(password: KeePassXC.password))
        }
        #expect(throws: KDBXError.wrongKey) {
            try KDBXFile.read(data, credentials: KDBXCredentials(password: "wrong", keyFile: keyFile))
        }
    }

    static let variants: [KDBXSettings] = [
        KDBXSettings(cipher: .aes256, keyDerivation: .argon2id(memoryKiB: 8 * 1024, iterations: 2, parallelism: 2)),
        KDBXSettings(cipher: .chaCha20, keyDerivation: .argon2id(memoryKiB: 8 * 1024, iterations: 2, parallelism: 2)),
        KDBXSettings(cipher: .aes256, keyDerivation: .argon2d(memoryKiB: 8 * 1024, iterations: 2, parallelism: 2)),
        KDBXSettings(cipher: .chaCha20, keyDerivation: .aes(rounds: 20_000)),
    ]

    static func cofferDatabase() -> KDBXDatabase {
        let moment = Date(timeIntervalSince1970: 1_750_000_000)
        let login = KDBXEntry(
            strings: [
                .init(key: "Title", value: "Bank <&> \"online\""), .init(key: "UserName", value: "carol"),
                .init(key: "Password", value: "pä$$word\twith\ttabs", isProtected: true),
                .init(key: "URL", value: "https://bank.example"), .init(key: "Notes", value: "line 1\nline 2"),
                .init(key: "otp", value: "otpauth://totp/Bank:carol?secret=GEZDGNBVGY3TQOJQ&period=30&digits=6"),
                .init(key: "Card PIN", value: "9876", isProtected: true),
            ],
            attachments: [.init(name: "key.bin", data: Data((0..<200).map { UInt8($0) }))], tags: ["finance"],
            created: moment, modified: moment,
            history: [
                KDBXEntry(
                    strings: [
                        .init(key: "Title", value: "Bank"), .init(key: "Password", value: "older", isProtected: true),
                    ],
                    created: moment, modified: moment.addingTimeInterval(-86_400))
            ])
        return KDBXDatabase(
            name: "From Coffer",
            root: KDBXGroup(
                name: "Root",
                groups: [KDBXGroup(name: "Finance", entries: [login])]))
    }

    @Test(
        "Coffer's KDBX opens in keepassxc-cli, and keepassxc-cli's rewrite of it opens in Coffer", arguments: variants)
    func cofferFileInPeer(settings: KDBXSettings) throws {
        let keepassxc = try KeePassXC()
        let folder = try ScratchFolder()
        let path = folder.path("coffer.kdbx")
        let credentials = try KDBXCredentials(password: KeePassXC.password)
        try KDBXFile.write(Self.cofferDatabase(), credentials: credentials, settings: settings)
            .write(to: URL(fileURLWithPath: path))

        let exported = try keepassxc.run(["export", "-q", "-f", "xml", path], input: [KeePassXC.password])
        let document = try XMLTree.parse(Data(exported.utf8))
        let finance = try #require(document.child("Root")?.child("Group")?.children("Group").first)
        #expect(finance.child("Name")?.text == "Finance")
        let entry = try #require(finance.child("Entry"))
        var strings: [String: String] = [:]
        for string in entry.children("String") {
            strings[string.child("Key")?.text ?? ""] = string.child("Value")?.text ?? ""
        }
        let expected = Self.cofferDatabase().root.groups[0].entries[0]
        for field in expected.strings { #expect(strings[field.key] == field.value, "\(field.key)") }
        #expect(entry.child("Tags")?.text == "finance")
        let history = try #require(entry.child("History")?.children("Entry"))
        #expect(history.count == 1)
        let attachmentPath = folder.path("key.bin")
        try keepassxc.run(
            ["attachment-export", "-q", path, "Finance/\(expected.value("Title")!)", "key.bin", attachmentPath],
            input: [KeePassXC.password])
        #expect(try Data(contentsOf: URL(fileURLWithPath: attachmentPath)) == expected.attachments[0].data)

        // keepassxc-cli merges its own database into Coffer's and saves it with Coffer's settings.
        let peer = try KeePassXC.peerDatabase(in: folder)
        try keepassxc.run(["merge", "-q", "-s", path, peer], input: [KeePassXC.password])
        let rewritten = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try KDBXFile.settings(of: rewritten).cipher == settings.cipher)
        let info = try keepassxc.run(["db-info", "-q", path], input: [KeePassXC.password])
        #expect(info.contains(settings.cipher == .aes256 ? "AES 256-bit" : "ChaCha20"))
        let merged = try KDBXFile.read(rewritten, credentials: credentials)
        try Self.check(peerEntries: merged)
        let mine = try #require(merged.root.groups.first { $0.name == "Finance" }?.entries.first)
        // KeePassXC sorts an entry's strings by key when it saves.
        #expect(mine.strings.filter { !$0.value.isEmpty } == expected.strings.sorted { $0.key < $1.key })
        #expect(mine.attachments == expected.attachments)
        #expect(mine.history.first?.value("Password") == "older")
    }
}
