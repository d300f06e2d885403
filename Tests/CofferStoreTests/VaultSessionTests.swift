import CofferAPI
import CofferAgent
import CofferCrypto
import CofferInterchange
import CofferModel
import CofferVault
import Foundation
import GRDB
import Testing

@testable import CofferStore

/// A vault in a fresh temporary directory, with the cheapest allowed KDF so tests stay quick.
struct TemporaryVault {
    let directory: URL
    let paths: ProfilePaths
    let keyring: Keyring
    static let password = "tundra-walrus-pebble-orchid"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-store-\(UUID().uuidString)")
        paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        keyring = try VaultSetup.create(paths: paths, password: Self.password, parameters: .minimum).keyring
    }

    func session() throws -> VaultSession {
        try VaultSession(store: VaultStore.open(at: paths.vaultFile), keyring: keyring)
    }

    func rawDatabase() throws -> DatabaseQueue { try DatabaseQueue(path: paths.vaultFile) }

    func store() throws -> VaultStore { try VaultStore.open(at: paths.vaultFile) }

    /// Item `id`'s stored revision and sealed content, to put back later with ``rollBack(_:to:)``.
    func storedRevision(of id: UUID) throws -> Row {
        try rawDatabase().read { db in
            try Row.fetchOne(
                db, sql: "SELECT revision, content FROM item WHERE id = ?", arguments: [id.storeKey])!
        }
    }

    /// Behind Coffer's back: puts an older revision of item `id` back into the file, its change
    /// sequence untouched.
    func rollBack(_ id: UUID, to old: Row) throws {
        try rawDatabase().write { db in
            try db.execute(
                sql: "UPDATE item SET revision = ?, content = ? WHERE id = ?",
                arguments: [old["revision"] as Int64, old["content"] as Data, id.storeKey])
        }
    }

    /// Turns the file back into what the previous release wrote: the manifest MAC over every entry
    /// instead of the sealed digest.
    func downgradeToManifestMAC(tamper: Bool = false) throws {
        let records = try store().allRecords()
        let database = try rawDatabase()
        let counter = try database.read { db in try Int64.fetchOne(db, sql: "SELECT manifestCounter FROM account")! }
        var entries = records.map(\.manifestEntry)
        if tamper { entries.removeLast() }
        let mac = keyring.authenticate(Manifest(counter: UInt64(counter), entries: entries))
        try database.write { db in
            try db.execute(
                sql: "UPDATE account SET integrityFormat = 1, manifestMAC = ?, lastChangeSequence = 0",
                arguments: [Data(mac)])
            try db.execute(sql: "UPDATE item SET changeSequence = 0")
        }
    }
}

@Suite("Vault sessions on a real SQLite file")
struct VaultSessionTests {
    @Test("items survive a reopen, and trash, restore and purge do what they say")
    func lifecycle() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        let login = try session.add(Item(type: .login, title: "Mail", now: Date()))
        _ = try session.add(Item(type: .card, title: "Visa", now: Date()))
        _ = try session.trash(login.id)
        let reopened = try vault.session()
        #expect(try reopened.list(ItemFilter()).map(\.title) == ["Visa"])
        #expect(try reopened.list(ItemFilter(scope: .trash)).map(\.title) == ["Mail"])
        _ = try reopened.restore(login.id)
        #expect(try reopened.list(ItemFilter()).count == 2)
        _ = try reopened.trash(login.id)
        _ = try reopened.purge(login.id)
        #expect(try vault.session().list(ItemFilter(scope: .all)).map(\.title) == ["Visa"])
    }

    @Test("an edit keeps the old password in the history and bumps the revision")
    func editHistory() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var item = Item(type: .login, title: "Mail", now: Date())
        item.setValue("first", of: "password")
        item = try session.add(item)
        item.setValue("second", of: "password")
        _ = try session.update(item)
        let stored = try vault.session().resolve("Mail", scope: .live)
        #expect(stored.value(of: "password") == "second")
        #expect(stored.passwordHistory.map(\.value) == ["first"])
    }

    @Test("a row deleted behind Coffer's back is an integrity error")
    func droppedRow() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        _ = try session.add(Item(type: .note, title: "A", now: Date()))
        _ = try session.add(Item(type: .note, title: "B", now: Date()))
        try vault.rawDatabase().write { db in
            try db.execute(sql: "DELETE FROM item WHERE rowid = (SELECT min(rowid) FROM item)")
        }
        #expect(throws: Self.integrityFailure) { try vault.session() }
    }

    @Test("an older copy of a row put back is an integrity error")
    func rolledBackRow() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var item = try session.add(Item(type: .note, title: "A", now: Date()))
        let old = try vault.rawDatabase().read { db in try Row.fetchOne(db, sql: "SELECT revision, content FROM item")!
        }
        item.notes = "changed"
        _ = try session.update(item)
        try vault.rawDatabase().write { db in
            try db.execute(
                sql: "UPDATE item SET revision = ?, content = ?",
                arguments: [old["revision"] as Int64, old["content"] as Data])
        }
        #expect(throws: Self.integrityFailure) { try vault.session() }
    }

    /// A vault holding the notes "A", edited once, and "B"; with A's first revision as stored, to
    /// roll back to.
    static func editedOnce() throws -> (vault: TemporaryVault, session: VaultSession, item: Item, old: Row) {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var item = try session.add(Item(type: .note, title: "A", now: Date()))
        _ = try session.add(Item(type: .note, title: "B", now: Date()))
        let old = try vault.storedRevision(of: item.id)
        item.notes = "changed"
        return (vault, session, try session.update(item), old)
    }

    @Test("a row rolled back or swapped in the file while a session is open is refused when read, never shown")
    func rolledBackWhileOpen() throws {
        let (vault, session, item, old) = try Self.editedOnce()
        #expect(try session.resolve("A", scope: .live).notes == "changed")
        let other = try vault.session()
        try vault.rollBack(item.id, to: old)
        let refused = #expect(throws: AgentFailure.self) { try session.resolve("A", scope: .live) }
        #expect(refused?.kind == .integrity)
        #expect(throws: AgentFailure.self) { try session.list(ItemFilter()) }
        #expect(throws: AgentFailure.self) { try session.update(item) }
        // A row deleted behind Coffer's back is refused too, not silently left out.
        let c = try session.add(Item(type: .note, title: "C", now: Date()))
        try vault.rawDatabase().write { db in
            try db.execute(sql: "DELETE FROM item WHERE id = ?", arguments: [c.id.storeKey])
        }
        let missing = #expect(throws: AgentFailure.self) { try session.resolve("C", scope: .live) }
        #expect(missing?.kind == .integrity)
        // An item left alone still reads; a change made through Coffer (another session) is taken in.
        #expect(try session.resolve("B", scope: .live).title == "B")
        var b = try other.resolve("B", scope: .live)
        b.notes = "from the other session"
        _ = try other.update(b)
        #expect(try session.resolve("B", scope: .live).notes == "from the other session")
    }

    /// The error a file changed outside Coffer gives when it is opened.
    static let integrityFailure = CofferStoreError.integrity(
        .integrity(
            "the vault's items do not match its sealed digest (an item was added, removed or rolled back outside Coffer)"
        ))

    @Test("an added row, or a row's revision changed, is an integrity error")
    func injectedRows() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        _ = try session.add(Item(type: .note, title: "A", now: Date()))
        let copy = try vault.rawDatabase().read { db in try Row.fetchOne(db, sql: "SELECT * FROM item")! }
        try vault.rawDatabase().write { db in
            try db.execute(
                sql:
                    "INSERT INTO item (id, revision, wrappedKey, content, changeSequence) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    UUID().storeKey, copy["revision"] as Int64, copy["wrappedKey"] as Data,
                    copy["content"] as Data, copy["changeSequence"] as Int64,
                ])
        }
        #expect(throws: Self.integrityFailure) { try vault.session() }
        try vault.rawDatabase().write { db in
            try db.execute(sql: "DELETE FROM item WHERE id <> ?", arguments: [copy["id"] as Data])
            try db.execute(sql: "UPDATE item SET revision = revision + 1")
        }
        #expect(throws: Self.integrityFailure) { try vault.session() }
    }

    @Test(
        "a vault written by the previous release opens, is upgraded once, and keeps working; a tampered one is refused")
    func upgradeFromManifestMAC() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        _ = try session.add(contentsOf: (0..<5).map { Item(type: .note, title: "Old \($0)", now: Date()) })
        try vault.downgradeToManifestMAC()
        let reopened = try vault.session()
        #expect(try reopened.list(ItemFilter()).count == 5)
        let format = try vault.rawDatabase().read { db in
            try Int64.fetchOne(db, sql: "SELECT integrityFormat FROM account")
        }
        #expect(format == 2)
        _ = try reopened.add(Item(type: .note, title: "New", now: Date()))
        #expect(try vault.session().list(ItemFilter()).count == 6)

        try vault.downgradeToManifestMAC(tamper: true)
        #expect(throws: CofferStoreError.self) { try vault.session() }
        let still = try vault.rawDatabase().read { db in
            try Int64.fetchOne(db, sql: "SELECT integrityFormat FROM account")
        }
        #expect(still == 1, "a file that fails its old check is not upgraded")
    }

    @Test("two sessions cannot overwrite each other's change to an item; changes to different items both land")
    func concurrentChange() throws {
        let vault = try TemporaryVault()
        let first = try vault.session()
        let second = try vault.session()
        var shared = try first.add(Item(type: .note, title: "Shared", now: Date()))
        try second.refreshIfChanged()
        shared.notes = "from first"
        _ = try first.update(shared)
        var stale = shared
        stale.notes = "from second, based on the old version"
        #expect(throws: AgentFailure.self) { try second.update(stale) }
        #expect(try vault.session().resolve("Shared", scope: .live).notes == "from first")
        // Different items never conflict, and each session then sees the other's item.
        _ = try first.add(Item(type: .note, title: "from first", now: Date()))
        _ = try second.add(Item(type: .note, title: "from second", now: Date()))
        try first.refreshIfChanged()
        #expect(try first.list(ItemFilter()).count == 3)
        #expect(try second.list(ItemFilter()).count == 3)
        #expect(try vault.session().list(ItemFilter()).count == 3)
    }

    @Test("a change costs the same in a large vault: a session reads only what another writer changed")
    func refreshReadsOnlyChanges() throws {
        let vault = try TemporaryVault()
        let first = try vault.session()
        _ = try first.add(contentsOf: (0..<200).map { Item(type: .note, title: "Note \($0)", now: Date()) })
        let second = try vault.session()
        let before = try vault.store().changeSequence()
        _ = try first.add(Item(type: .note, title: "New", now: Date()))
        let changes = try vault.store().changes(after: before)
        #expect(changes.written.map(\.record.id).count == 1)
        try second.refreshIfChanged()
        #expect(try second.resolve("New", scope: .live).title == "New")
        let purged = try first.purge(try first.trash(try first.resolve("Note 7", scope: .live).id).id)
        #expect(try vault.store().changes(after: before).removed == [purged.id])
        try second.refreshIfChanged()
        #expect(throws: AgentFailure.self) { try second.resolve("Note 7", scope: .all) }
    }

    @Test("an ambiguous title lists the candidates; an id prefix picks one")
    func ambiguousNames() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        let a = try session.add(Item(type: .login, title: "Bank", now: Date()))
        _ = try session.add(Item(type: .login, title: "bank", now: Date()))
        do {
            _ = try session.resolve("Bank", scope: .live)
            Issue.record("an ambiguous name resolved")
        } catch {
            #expect(error.kind == .ambiguous)
            #expect(error.candidates.count == 2)
        }
        #expect(try session.resolve(String(a.id.uuidString.prefix(8)), scope: .live).id == a.id)
    }

    @Test("names resolve through the index as titles change: renamed, trashed, purged, another session's edit")
    func titleIndexFollowsChanges() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var mail = try session.add(Item(type: .login, title: "Mail", now: Date()))
        #expect(try session.resolve("MAIL", scope: .live).id == mail.id)
        mail.title = "Post"
        mail = try session.update(mail)
        #expect(throws: AgentFailure.self) { try session.resolve("Mail", scope: .live) }
        #expect(try session.resolve("post", scope: .live).id == mail.id)
        _ = try session.trash(mail.id)
        do {
            _ = try session.resolve("Post", scope: .live)
            Issue.record("a trashed item resolved in the live scope")
        } catch {
            #expect(error.kind == .notFound && error.message.contains("It is in the trash"), "\(error.message)")
        }
        #expect(try session.resolve("Post", scope: .trash).id == mail.id)
        _ = try session.purge(mail.id)
        #expect(throws: AgentFailure.self) { try session.resolve("Post", scope: .all) }
        // Another writer renames an item; this session sees the new title after catching up.
        let other = try vault.session()
        var note = try other.add(Item(type: .note, title: "Draft", now: Date()))
        try session.refreshIfChanged()
        #expect(try session.resolve("draft", scope: .live).id == note.id)
        note.title = "Final"
        _ = try other.update(note)
        try session.refreshIfChanged()
        #expect(throws: AgentFailure.self) { try session.resolve("Draft", scope: .live) }
        #expect(try session.resolve("Final", scope: .live).id == note.id)
    }

    @Test("fuzzy search finds letters in order and ranks title matches first")
    func search() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var gmail = Item(type: .login, title: "GMail", now: Date())
        gmail.setValue("alice", of: "username")
        _ = try session.add(gmail)
        var other = Item(type: .login, title: "Forum", now: Date())
        other.urls = ["https://mail.example"]
        _ = try session.add(other)
        _ = try session.add(Item(type: .note, title: "Groceries", now: Date()))
        #expect(try session.search("gml", filter: ItemFilter()).map(\.title) == ["GMail"])
        #expect(try session.search("mail", filter: ItemFilter()).map(\.title) == ["GMail", "Forum"])
        #expect(try session.search("alice", filter: ItemFilter()).map(\.title) == ["GMail"])
        #expect(try session.search("zzz", filter: ItemFilter()).isEmpty)
    }

    @Test("the database file holds no plaintext of any field")
    func noPlaintext() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var item = Item(type: .login, title: "canary-title-zqjx", now: Date())
        item.setValue("canary-user-zqjx", of: "username")
        item.setValue("canary-pass-zqjx", of: "password")
        item.notes = "canary-notes-zqjx"
        item.urls = ["https://canary-url-zqjx.example"]
        item.tags = ["canary-tag-zqjx"]
        _ = try session.add(item)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: vault.paths.vaultFile))
        #expect(bytes.range(of: Data("zqjx".utf8)) == nil)
    }

    /// An item whose sealed JSON is exactly `bytes` long.
    static func item(title: String, encodedSize bytes: Int) -> Item {
        var item = Item(type: .note, title: title, now: Date())
        item.notes = String(repeating: "a", count: bytes - item.encodedSize)
        return item
    }

    @Test("an item too large to sync is refused on add, edit and import, naming it; a restore still brings it back")
    func itemSizeLimit() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        let largest = try session.add(Self.item(title: "Largest", encodedSize: Item.sizeLimit))
        let sealed = try #require(try VaultStore.open(at: vault.paths.vaultFile).allRecords().first)
        #expect(sealed.content.bytes.count <= PushChange.maximumBoxBytes, "the largest item must still sync")

        let tooLarge = Self.item(title: "Book", encodedSize: Item.sizeLimit + 1)
        let refused = #expect(throws: AgentFailure.self) { try session.add(tooLarge) }
        #expect(refused?.kind == .invalidInput)
        #expect(refused?.message.contains("\"Book\" is 4081 KiB; an item may hold at most 4080 KiB") == true)
        #expect(refused?.message.contains("Nothing was changed") == true)

        // An edit restamps `modified`, whose encoding varies by a few digits: grow by more than that.
        var grown = largest
        grown.notes += String(repeating: "a", count: 100)
        #expect(throws: AgentFailure.self) { try session.update(grown) }
        let small = Item(type: .login, title: "Small", now: Date())
        #expect(throws: AgentFailure.self) { try session.apply(adding: [small, tooLarge], updating: []) }
        let reopened = try vault.session()
        #expect(try reopened.list(ItemFilter(scope: .all)).map(\.title) == ["Largest"])
        #expect(try reopened.resolve("Largest", scope: .live).notes == largest.notes)

        // A restore brings back what the user had, whatever its size; sync holds it back instead.
        let summary = try reopened.restore([tooLarge], mode: .merge, dryRun: false)
        #expect(summary.added == 1)
    }

    @Test("an import finds duplicates among the vault's items in the session; its dry run says exactly what it does")
    func importInSession() throws {
        let vault = try TemporaryVault()
        let session = try vault.session()
        var mail = Item(type: .login, title: "Mail", now: Date())
        mail.setValue("me@example.org", of: "username")
        mail.setValue("old-secret", of: "password", kind: .hidden)
        mail.urls = ["https://mail.example.org/login"]
        let existing = try session.add(mail)

        var duplicate = existing
        duplicate.setValue("new-secret", of: "password", kind: .hidden)
        var sameID = Item(type: .note, title: "Shares the id of Mail", now: Date())
        sameID.id = existing.id
        let fresh = Item(type: .note, title: "Fresh", now: Date())
        let tooLarge = Self.item(title: "Book", encodedSize: Item.sizeLimit + 1)
        let imported = [duplicate, sameID, fresh, tooLarge]

        for choice in DuplicateChoice.allCases {
            let planned = try session.importItems(imported, duplicates: choice, dryRun: true)
            #expect(try session.list(ItemFilter(scope: .all)).count == 1, "a dry run changes nothing")
            #expect(planned.rejected.map(\.field) == ["Book"])
            switch choice {
            case .skip: #expect(planned.skipped == 1 && planned.merged == 0 && planned.addedByType == [.note: 2])
            case .merge: #expect(planned.skipped == 0 && planned.merged == 1 && planned.addedByType == [.note: 2])
            case .keep:
                #expect(planned.skipped == 0 && planned.merged == 0 && planned.addedByType == [.note: 2, .login: 1])
            }
        }
        let planned = try session.importItems(imported, duplicates: .merge, dryRun: true)
        let done = try session.importItems(imported, duplicates: .merge, dryRun: false)
        #expect(done == planned)
        let all = try session.list(ItemFilter(scope: .all))
        #expect(Set(all.map(\.title)) == ["Mail", "Shares the id of Mail", "Fresh"])
        #expect(Set(all.map(\.id)).count == 3, "an imported id already taken got a fresh one")
        let merged = try session.resolve("Mail", scope: .live)
        #expect(merged.value(of: "password") == "new-secret")
        #expect(merged.passwordHistory.map(\.value) == ["old-secret"])
    }

    @Test("a listing by host holds only the logins with a URL on that host and port, trash left out")
    func listingByHost() throws {
        let session = try TemporaryVault().session()
        let urls = [
            "https://git.example.org/team/repo.git", "git.example.org", "https://git.example.org:8443/x",
            "https://GIT.example.org/", "https://example.org/", "not a url at all",
        ]
        for (index, url) in urls.enumerated() {
            var item = Item(type: .login, title: "Login \(index)", now: Date())
            item.urls = [url]
            _ = try session.add(item)
        }
        var note = Item(type: .note, title: "Note on the host", now: Date())
        note.urls = ["https://git.example.org/"]
        _ = try session.add(note)
        _ = try session.trash(session.resolve("Login 3", scope: .live).id)

        let onHost = try session.list(ItemFilter(type: .login, host: "git.example.org")).map(\.title)
        #expect(Set(onHost) == ["Login 0", "Login 1"])
        #expect(try session.list(ItemFilter(type: .login, host: "git.example.org:8443")).map(\.title) == ["Login 2"])
        #expect(try session.search("login", filter: ItemFilter(host: "git.example.org")).count == 2)
        #expect(try session.list(ItemFilter(host: "git.example.org")).count == 3, "any type, when none is asked")
    }
}
