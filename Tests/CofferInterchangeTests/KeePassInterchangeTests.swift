import CofferInterchange
import CofferKDBX
import CofferModel
import Foundation
import Testing

/// The mapping between KeePass entries and Coffer items, field by field, and back.
@Suite("KeePass entries ↔ Coffer items")
struct KeePassInterchangeTests {
    static let moment = Date(timeIntervalSince1970: 1_700_000_000)

    static func database() -> KDBXDatabase {
        let bin = KDBXGroup(name: "Recycle Bin", entries: [KDBXEntry(strings: [.init(key: "Title", value: "Old")])])
        let gmail = KDBXEntry(
            strings: [
                .init(key: "Title", value: "Gmail"), .init(key: "UserName", value: "alice"),
                .init(key: "Password", value: "p2", isProtected: true),
                .init(key: "URL", value: "https://mail.google.com"),
                .init(key: "KP2A_URL", value: "https://gmail.com"), .init(key: "Notes", value: "n"),
                .init(key: "TimeOtp-Secret-Base32", value: "JBSWY3DPEHPK3PXP"),
                .init(key: "Security question", value: "blue", isProtected: true), .init(key: "Empty", value: ""),
            ],
            attachments: [
                .init(name: "a.txt", data: Data("x".utf8)),
                .init(name: "big.iso", data: Data(count: Item.attachmentLimit)),
            ],
            tags: ["mail"], created: moment, modified: moment.addingTimeInterval(300),
            history: [
                KDBXEntry(strings: [.init(key: "Password", value: "p0")], modified: moment.addingTimeInterval(100)),
                KDBXEntry(strings: [.init(key: "Password", value: "p1")], modified: moment.addingTimeInterval(200)),
            ])
        let note = KDBXEntry(strings: [.init(key: "Title", value: "Plans"), .init(key: "Notes", value: "secret plans")])
        return KDBXDatabase(
            name: "db",
            root: KDBXGroup(
                name: "Root",
                groups: [
                    KDBXGroup(name: "Internet", groups: [KDBXGroup(name: "Email", entries: [gmail])]), bin,
                    KDBXGroup(name: "Empty group", entries: [KDBXEntry()]),
                ],
                entries: [note]), recycleBinID: bin.uuid)
    }

    @Test("every KeePass field lands in the right place; the recycle bin goes to the trash")
    func mapping() throws {
        let imported = KeePassInterchange.items(from: Self.database(), now: Self.moment)
        #expect(imported.format == .keepassKDBX)
        #expect(imported.items.count == 3)
        #expect(imported.skipped.map(\.field) == ["Empty group/"])
        let gmail = try #require(imported.items.first { $0.title == "Gmail" })
        #expect(gmail.type == .login)
        #expect(gmail.value(of: "username") == "alice")
        #expect(gmail.value(of: "password") == "p2")
        #expect(gmail.value(of: "totp") == "JBSWY3DPEHPK3PXP")
        #expect(gmail.urls == ["https://mail.google.com", "https://gmail.com"])
        #expect(gmail.notes == "n")
        #expect(gmail.customFields == [Field(name: "Security question", kind: .hidden, value: "blue")])
        #expect(gmail.tags == ["Internet/Email", "mail"])
        #expect(gmail.passwordHistory.map(\.value) == ["p1", "p0"])
        #expect(
            gmail.passwordHistory.map(\.replacedAt) == [
                Self.moment.addingTimeInterval(300), Self.moment.addingTimeInterval(200),
            ])
        #expect(gmail.attachments == [Attachment(name: "a.txt", data: Data("x".utf8))])
        #expect(imported.notes.contains { $0.contains("big.iso") && $0.contains("left out") })
        #expect(gmail.created == Self.moment && gmail.modified == Self.moment.addingTimeInterval(300))
        let plans = try #require(imported.items.first { $0.title == "Plans" })
        #expect(plans.type == .note && plans.notes == "secret plans" && plans.tags.isEmpty)
        let old = try #require(imported.items.first { $0.title == "Old" })
        #expect(old.isTrashed && old.tags.isEmpty)
    }

    @Test("items written as KeePass come back as the same items")
    func roundTrip() throws {
        var card = Item(type: .card, title: "Visa", now: Self.moment)
        card.setValue("4111 1111 1111 1111", of: "number")
        card.setValue("123", of: "cvv")
        card.tags = ["Finance/Cards"]
        var login = Item(type: .login, title: "Site", now: Self.moment)
        login.setValue("bob", of: "username")
        login.setValue("new", of: "password")
        login.setValue("JBSWY3DPEHPK3PXP", of: "totp")
        login.urls = ["https://a.example", "https://b.example"]
        login.passwordHistory = [PasswordHistoryEntry(fieldName: "password", value: "old", replacedAt: Self.moment)]
        login.attachments = [Attachment(name: "k", data: Data([0, 1, 2]))]
        login.customFields = [Field(name: "Title", kind: .text, value: "clash")]
        var trashed = Item(type: .note, title: "Gone", now: Self.moment)
        trashed.notes = "bye"
        trashed.moveToTrash(at: Self.moment)

        let database = KeePassInterchange.database(for: [card, login, trashed])
        #expect(database.root.groups.first?.name == "Finance")
        let back = KeePassInterchange.items(from: database, now: Self.moment).items
        let site = try #require(back.first { $0.id == login.id })
        #expect(site.value(of: "password") == "new" && site.value(of: "username") == "bob")
        #expect(site.value(of: "totp")?.hasPrefix("otpauth://totp/Site:bob?secret=JBSWY3DPEHPK3PXP") == true)
        #expect(site.urls == login.urls && site.attachments == login.attachments)
        #expect(site.passwordHistory.map(\.value) == ["old"])
        #expect(site.customFields.first { $0.name == "Title (2)" }?.value == "clash")
        let visa = try #require(back.first { $0.id == card.id })
        #expect(visa.tags == ["Finance/Cards"])
        #expect(visa.customFields.first { $0.name == "number" }?.value == "4111 1111 1111 1111")
        #expect(visa.customFields.first { $0.name == "cvv" }?.kind == .hidden)
        #expect(back.first { $0.id == trashed.id }?.isTrashed == true)
    }

    @Test("XML over 10 MB (libxml2 refuses such a document given whole) is read, as KeePass XML and inside a KDBX")
    func largeDocuments() throws {
        // 12 entries with a megabyte of notes each: about 12 MB of XML, in 30,000 entries' worth of bytes.
        let items = (0..<12).map { index in
            var item = Item(type: .note, title: "Note \(index)", now: Self.moment)
            item.notes = String(repeating: "n", count: 1_000_000) + "\(index)"
            return item
        }
        let database = KeePassInterchange.database(for: items)
        let credentials = try KDBXCredentials(password: "right")
        let file = try KDBXFile.write(
            database, credentials: credentials,
            settings: KDBXSettings(
                cipher: .chaCha20, keyDerivation: .argon2d(memoryKiB: 1024, iterations: 1, parallelism: 1)))
        let fromKDBX = try KeePassInterchange.read(file, file: "big.kdbx", credentials: credentials).items
        #expect(fromKDBX.count == 12 && fromKDBX.allSatisfy { $0.notes.count > 1_000_000 })

        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KeePassFile><Root><Group><Name>Root</Name>"
        for item in items {
            xml += "<Entry><String><Key>Title</Key><Value>\(item.title)</Value></String>"
            xml += "<String><Key>Notes</Key><Value>\(item.notes)</Value></String></Entry>\n"
        }
        xml += "</Group></Root></KeePassFile>\n"
        #expect(xml.utf8.count > 12_000_000)
        let fromXML = try Importer.read(data: Data(xml.utf8), name: "big.xml")
        #expect(fromXML.format == .keepassXML && fromXML.items.map(\.title) == items.map(\.title))
        #expect(fromXML.items.map(\.notes) == items.map(\.notes))
    }

    @Test("a file over the import limit, a wrong password and a damaged file each name the file and the problem")
    func errors() throws {
        let credentials = try KDBXCredentials(password: "right")
        #expect(
            throws: ImportError.tooLarge(file: "huge.kdbx", bytes: ImportLimits.maximumFileSize + 1)
        ) {
            try KeePassInterchange.read(
                Data(count: ImportLimits.maximumFileSize + 1), file: "huge.kdbx", credentials: credentials)
        }
        let data = try KDBXFile.write(
            Self.database(), credentials: credentials,
            settings: KDBXSettings(
                cipher: .chaCha20, keyDerivation: .argon2d(memoryKiB: 1024, iterations: 1, parallelism: 1)))
        let wrong = try KDBXCredentials(password: "wrong")
        do {
            _ = try KeePassInterchange.read(data, file: "mine.kdbx", credentials: wrong)
            Issue.record("a wrong password opened the file")
        } catch {
            #expect(error.description.hasPrefix("mine.kdbx: the password or key file does not open it"))
        }
        var damaged = data
        damaged[damaged.count - 10] ^= 0x40
        do {
            _ = try KeePassInterchange.read(damaged, file: "mine.kdbx", credentials: credentials)
            Issue.record("a damaged file was read")
        } catch {
            #expect(error.description.contains("mine.kdbx") && error.description.contains("damaged"))
            #expect(error.description.hasSuffix("Nothing was imported."))
        }
    }
}
