import CofferBackup
import CofferCrypto
import CofferModel
import CofferVault
import Foundation
import Testing

@Suite("backup files: format, secrets, damage")
struct BackupFileTests {
    static let password = "harbor-lantern-quiet-meadow-3"

    struct Fixture {
        let header: AccountHeader
        let keyring: Keyring
        let recoveryCode: RecoveryCode
        let items: [Item]
        let data: Data

        init(count: Int = 25) throws {
            let (header, accountKey, recoveryCode) = try AccountHeader.create(
                password: BackupFileTests.password, parameters: .minimum)
            self.header = header
            self.recoveryCode = recoveryCode
            keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
            var items = (0..<count).map { index in
                var item = Item(type: .login, title: "Site \(index)", now: Date(timeIntervalSince1970: 1_700_000_000))
                item.notes = "note \(index)"
                return item
            }
            items[0].moveToTrash(at: Date(timeIntervalSince1970: 1_700_000_100))
            self.items = items
            data = try BackupFile.make(items: items, accountHeader: header, keyring: keyring, deviceName: "laptop")
        }
    }

    @Test("a backup opens with the account key, the password and the recovery code in force, and holds every item")
    func opensWithEachSecret() throws {
        let fixture = try Fixture()
        let file = try BackupFile.parse(fixture.data, name: "b")
        for secret in [
            BackupSecret.accountKey(fixture.keyring.accountKey), .password(Self.password),
            .recoveryCode(fixture.recoveryCode),
        ] {
            let key = try file.accountKey(for: secret, currentHeader: fixture.header)
            let contents = try file.open(with: key)
            #expect(contents.items == fixture.items)
            #expect(contents.summary == BackupSummary(items: 24, trash: 1, deviceName: "laptop"))
        }
        #expect(!String(decoding: fixture.data, as: UTF8.self).contains("Site 3"), "titles are sealed")
    }

    @Test("items of every type, with every field kind, attachments, history and trash, come back exactly")
    func everyKindOfItem() throws {
        let fixture = try Fixture(count: 1)
        let items = ItemType.allCases.enumerated().map { index, type in
            var item = Item(
                type: type, title: "\(type) \"quoted\" ü 🔑", now: Date(timeIntervalSince1970: 1_606_923_754.123))
            item.customFields = FieldKind.allCases.map { Field(name: "\($0)", kind: $0, value: "v\n\t\\\u{1}") }
            item.urls = ["https://a.example/?q=\"1\""]
            item.tags = ["Work/Projects"]
            item.passwordHistory = [
                PasswordHistoryEntry(fieldName: "password", value: "old", replacedAt: Date(timeIntervalSince1970: -5.5))
            ]
            if index.isMultiple(of: 2) { item.moveToTrash(at: Date(timeIntervalSince1970: 2_000_000_000.0005)) }
            if index.isMultiple(of: 3) { item.attachments = [Attachment(name: "a.bin", data: Data([0, 1, 255]))] }
            return item
        }
        let data = try BackupFile.make(
            items: items, accountHeader: fixture.header, keyring: fixture.keyring, deviceName: nil)
        let file = try BackupFile.parse(data, name: "b")
        let key = try file.accountKey(for: .accountKey(fixture.keyring.accountKey), currentHeader: fixture.header)
        #expect(try file.open(with: key).items == items)
    }

    @Test("a backup of sealed records' JSON holds the same items, sealed by the writer or in Codable's older shape")
    func fromSealedJSON() throws {
        let fixture = try Fixture(count: 1)
        var items = ItemType.allCases.map { type in
            var item = Item(
                type: type, title: "\(type) a/b \"q\" ü", now: Date(timeIntervalSince1970: 1_606_923_754.123))
            item.urls = ["https://a.example/x"]
            item.customFields = FieldKind.allCases.map { Field(name: "\($0)", kind: $0, value: "v/\n\u{1}") }
            return item
        }
        items[1].moveToTrash(at: Date(timeIntervalSince1970: 2_000_000_000))
        let keyring = fixture.keyring
        let written = try items.map { try keyring.seal($0, revision: 3) }
        // The same items as an older Coffer sealed them: JSONEncoder's output (slashes escaped).
        let legacy = try items.map { item in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .millisecondsSince1970
            let plaintext = try encoder.encode(LegacyContent(revision: 3, item: item))
            let key = ItemKey.random()
            func context(_ purpose: SealPurpose) -> SealContext {
                SealContext(purpose: purpose, accountID: keyring.accountID, epoch: keyring.epoch, itemID: item.id)
            }
            return SealedItem(
                id: item.id, revision: 3, wrappedKey: key.wrapped(by: keyring.accountKey, context: context(.itemKey)),
                content: SealedBox.seal(plaintext, with: key, context: context(.itemContent)))
        }
        for records in [written, legacy] {
            let data = try BackupFile.make(
                itemJSON: try records.map(keyring.openItemJSON), trashed: 1, accountHeader: fixture.header,
                keyring: keyring, deviceName: nil)
            let file = try BackupFile.parse(data, name: "b")
            let contents = try file.open(
                with: file.accountKey(for: .accountKey(keyring.accountKey), currentHeader: fixture.header))
            #expect(contents.items == items)
            #expect(contents.summary == BackupSummary(items: items.count - 1, trash: 1, deviceName: nil))
        }
    }

    private struct LegacyContent: Encodable {
        var revision: Int64
        var item: Item
    }

    @Test("after a password change the old password still opens it and the listing says so")
    func afterPasswordChange() throws {
        let fixture = try Fixture()
        let (changed, _) = try fixture.header.rewrapped(
            password: "a-brand-new-password-42", accountKey: fixture.keyring.accountKey, parameters: .minimum)
        let file = try BackupFile.parse(fixture.data, name: "b")
        let secrets = file.header.opensWith(current: changed)
        #expect(secrets.first == .currentPassword)
        #expect(secrets.contains(.passwordInForce(file.header.createdAt)))
        #expect(secrets.contains(.currentRecoveryCode))
        #expect(
            try file.open(with: file.accountKey(for: .password(Self.password), currentHeader: changed)).items.count
                == 25)
    }

    @Test("a wrong password is refused with the secrets that would open it")
    func wrongSecret() throws {
        let fixture = try Fixture()
        let file = try BackupFile.parse(fixture.data, name: "b")
        #expect(throws: BackupError.self) { try file.accountKey(for: .password("nope"), currentHeader: nil) }
        do {
            _ = try file.accountKey(for: .password("nope"), currentHeader: nil)
        } catch {
            #expect(error.description.contains("the password in force on"))
            #expect(error.description.contains("the recovery code in force on"))
        }
        let other = try Fixture(count: 1)
        #expect(throws: BackupError.self) { try file.open(with: other.keyring.accountKey) }
    }

    @Test("every truncation and bit flips anywhere are refused cleanly, never opened wrong")
    func damage() throws {
        let fixture = try Fixture(count: 3)
        let key = fixture.keyring.accountKey
        for length in stride(from: 0, to: fixture.data.count, by: 7) {
            let cut = fixture.data.prefix(length)
            #expect(throws: BackupError.self) { try BackupFile.parse(cut, name: "cut").open(with: key) }
        }
        for position in stride(from: 14, to: fixture.data.count, by: 11) {
            var flipped = fixture.data
            flipped[position] ^= 0x20
            #expect(throws: BackupError.self, "flip at \(position)") {
                try BackupFile.parse(flipped, name: "flipped").open(with: key)
            }
        }
    }

    @Test("foreign files and newer versions get their own errors")
    func foreignAndNewer() throws {
        #expect(throws: BackupError.notABackup("x.csv")) {
            try BackupFile.parse(Data("name,password\n".utf8), name: "x.csv")
        }
        var newer = try Fixture(count: 1).data
        newer[9] = 9
        #expect(throws: BackupError.newerVersion(found: 9, supported: 1)) { try BackupFile.parse(newer, name: "n") }
    }

    @Test("retention keeps the newest, then one per day, week and month")
    func retention() throws {
        let day: TimeInterval = 86_400
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        // Four backups a day for 120 days.
        let backups = (0..<480).map { (id: $0, date: start.addingTimeInterval(Double($0) * day / 4)) }
        let kept = BackupRetention(last: 3, daily: 5, weekly: 4, monthly: 3).kept(backups)
        let newest = Set(479 - 2...479)
        #expect(newest.isSubset(of: kept))
        // Days: the newest backup of each of the last five days; weeks and months add older ones.
        for offset in 0..<5 { #expect(kept.contains(479 - offset * 4)) }
        #expect(kept.count <= 3 + 5 + 4 + 3)
        #expect(kept.count >= 3 + 5)
        #expect(!kept.contains(1), "a backup of no bucket's newest is dropped")
        #expect(try BackupRetention(parsing: "last=2,monthly=0") == BackupRetention(last: 2, monthly: 0))
        #expect(throws: BackupError.self) { try BackupRetention(parsing: "forever=1") }
    }
}
