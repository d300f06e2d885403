import CofferAgent
import CofferKDBX
import CofferModel
import CofferStore
import CofferTestSupport
import CofferVault
import Foundation
import KeePassXCPeer
import Testing

/// The server keeps at most 4 MiB per sealed item. An item over that must never stop a sync: it is
/// refused where it is made, and one that arrives anyway (an old backup) is held back by name.
@Suite("Items too large for the server")
struct ItemSizeTests {
    @Test("an import names the item too large to sync and leaves it out; the rest is imported")
    func importLeavesOutOversizedItem() throws {
        let folder = try ScratchFolder()
        let path = folder.path("mixed.kdbx")
        let entries = [
            KDBXEntry(strings: [.init(key: "Title", value: "Mail"), .init(key: "UserName", value: "ann")]),
            // 2.5 MB of notes and a 1.9 MB scan: each within its own limit, together too large.
            KDBXEntry(
                strings: [
                    .init(key: "Title", value: "Scanned book"),
                    .init(key: "Notes", value: String(repeating: "page ", count: 500_000)),
                ],
                attachments: [.init(name: "cover.bin", data: Data(repeating: 7, count: 1_900_000))]),
        ]
        try KeePassTests.writeDatabase(entries, password: "mixed-file-password", to: path)
        let c = try CofferCLI()
        try c.ok(["init", "--password-stdin"], stdin: SyncTests.password + "\n")
        let imported = try c.run(["import", path, "--password-stdin", "--yes"], stdin: "mixed-file-password\n")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("not imported (Scanned book): \"Scanned book\" is"), "\(imported.stderr)")
        #expect(imported.stderr.contains("an item may hold at most 4080 KiB"), "\(imported.stderr)")
        #expect(imported.stdout.contains("1 added") && imported.stdout.contains("1 rejected"), "\(imported.stdout)")
        #expect(try SyncTests.titles(c) == ["Mail"])
    }

    @Test("a sync holds back an item too large for the server, names it, sends the rest; made smaller, it syncs")
    func syncHoldsBackOversizedItem() throws {
        let devices = try SyncTests.TwoDevices()
        try devices.a.ok(["lock"])
        // A restore brings back what a backup holds, whatever its size (a backup from before the
        // limit); put such an item into A's vault the way a restore does.
        let paths = ProfilePaths(environment: ["COFFER_HOME": devices.a.home.path])
        let store = try VaultStore.open(at: paths.vaultFile)
        let session = try VaultSession(
            store: store, keyring: Keyring(header: try store.header(), password: SyncTests.password))
        var book = Item(type: .note, title: "Book", now: Date())
        book.notes = String(repeating: "chapter ", count: 600_000)
        _ = try session.restore(
            [book, Item(type: .login, title: "Mail", now: Date())], mode: .merge, dryRun: false)

        try devices.a.ok(["unlock", "--password-stdin"], stdin: SyncTests.password + "\n")
        let held = try devices.a.run(["sync"])
        #expect(held.status == 9, "\(held.stderr)")
        #expect(held.stderr.contains("Not sent: \"Book\" ("), "\(held.stderr)")
        #expect(held.stderr.contains("everything else was synced"), "\(held.stderr)")
        try devices.b.ok(["sync"])
        #expect(try SyncTests.titles(devices.b) == ["Mail"])

        try devices.a.ok(["edit", "Book", "--notes", "The short version."])
        try devices.a.ok(["sync"])
        try devices.b.ok(["sync"])
        #expect(try SyncTests.titles(devices.b) == ["Book", "Mail"])
        #expect(try devices.b.ok(["get", "Book", "notes"]) == "The short version.\n")
    }
}
