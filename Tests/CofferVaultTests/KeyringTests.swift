import CofferCrypto
import CofferModel
import Foundation
import Testing

@testable import CofferVault

@Suite("Account keys and sealed items")
struct KeyringTests {
    let password = "correct horse battery staple"

    func makeAccount() throws -> (AccountHeader, AccountKey, RecoveryCode) {
        try AccountHeader.create(password: password, parameters: .minimum)
    }

    /// A new account's keyring (writing JSON) and its account key.
    func makeKeyring() throws -> (keyring: Keyring, key: AccountKey) {
        let (header, key, _) = try makeAccount()
        return (Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key), key)
    }

    @Test("the password and the recovery code both open the same account key")
    func bothSecretsOpen() throws {
        let (header, key, code) = try makeAccount()
        let byPassword = try header.unlock(password: password)
        let byCode = try header.unlock(recoveryCode: code)
        #expect(byPassword.withUnsafeBytes(Array.init) == key.withUnsafeBytes(Array.init))
        #expect(byCode.withUnsafeBytes(Array.init) == key.withUnsafeBytes(Array.init))
    }

    @Test("a wrong password or recovery code is named as such")
    func wrongSecrets() throws {
        let (header, _, _) = try makeAccount()
        #expect(throws: CofferVaultError.wrongPassword) { try header.unlock(password: "not it at all") }
        #expect(throws: CofferVaultError.wrongRecoveryCode) { try header.unlock(recoveryCode: RecoveryCode.random()) }
    }

    @Test("swapped KDF parameters or salt make the password wrap fail instead of deriving a weaker key")
    func parametersBound() throws {
        let (header, _, _) = try makeAccount()
        var changedSalt = header
        changedSalt.salt[0] ^= 1
        #expect(throws: CofferVaultError.wrongPassword) { try changedSalt.unlock(password: password) }
        var changedParameters = header
        changedParameters.kdfParameters.iterations += 1
        #expect(throws: CofferVaultError.wrongPassword) { try changedParameters.unlock(password: password) }
    }

    @Test("an item round-trips through sealing")
    func itemRoundTrip() throws {
        let (header, key, _) = try makeAccount()
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key)
        var item = Item(type: .login, title: "Mail", now: Date(timeIntervalSince1970: 1_800_000_000))
        item.setValue("hunter2", of: "password")
        let record = try keyring.seal(item, revision: 1)
        #expect(try keyring.open(record) == item)
        #expect(!record.content.bytes.contains(Data("hunter2".utf8)))
    }

    @Test("members a newer Coffer added to an item survive opening, an edit and sealing again")
    func unknownMembersSurviveResealing() throws {
        let (header, key, _) = try makeAccount()
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key)
        var item = Item(type: .login, title: "Mail", now: Date(timeIntervalSince1970: 1_800_000_000))
        item.unknownMembers = [
            "passkeys": .array([.object(["relyingParty": .string("example.com"), "counter": .integer(7)])]),
            "weight": .number(1.5), "flag": .bool(true), "nothing": .null,
        ]
        var opened = try keyring.open(try keyring.seal(item, revision: 1))
        #expect(opened == item)
        opened.setValue("hunter3", of: "password")
        let resealed = try keyring.open(try keyring.seal(opened, revision: 2))
        #expect(resealed.unknownMembers == item.unknownMembers)
        #expect(resealed.value(of: "password") == "hunter3")
        // A backup takes the sealed JSON as it is, unknown members included.
        #expect(
            String(decoding: try keyring.openItemJSON(try keyring.seal(opened, revision: 2)), as: UTF8.self)
                .contains(#""passkeys":[{"counter":7,"relyingParty":"example.com"}]"#))
    }

    @Test("a record moved to another item's id fails to open")
    func movedRecord() throws {
        let (header, key, _) = try makeAccount()
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key)
        let first = try keyring.seal(Item(type: .note, title: "A", now: Date()), revision: 1)
        let second = try keyring.seal(Item(type: .note, title: "B", now: Date()), revision: 1)
        var swapped = first
        swapped.content = second.content
        #expect(throws: CofferVaultError.self) { try keyring.open(swapped) }
        var renamed = first
        renamed.id = second.id
        #expect(throws: CofferVaultError.self) { try keyring.open(renamed) }
    }

    @Test("an older revision presented as the current one is detected")
    func rolledBackRecord() throws {
        let (header, key, _) = try makeAccount()
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key)
        let item = Item(type: .note, title: "A", now: Date())
        let old = try keyring.seal(item, revision: 1)
        var replayed = old
        replayed.revision = 2
        #expect(throws: CofferVaultError.self) { try keyring.open(replayed) }
    }

    @Test("the manifest MAC changes when an entry is dropped, added, or its revision or counter changes")
    func manifest() throws {
        let (header, key, _) = try makeAccount()
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: key)
        let entries = (0..<3).map {
            ManifestEntry(itemID: UUID(), revision: 1, contentHash: [UInt8](repeating: UInt8($0), count: 32))
        }
        let base = keyring.authenticate(Manifest(counter: 5, entries: entries))
        #expect(keyring.authenticate(Manifest(counter: 5, entries: entries.reversed())) == base)
        #expect(keyring.authenticate(Manifest(counter: 5, entries: Array(entries.dropLast()))) != base)
        #expect(keyring.authenticate(Manifest(counter: 6, entries: entries)) != base)
        var bumped = entries
        bumped[0].revision = 2
        #expect(keyring.authenticate(Manifest(counter: 5, entries: bumped)) != base)
    }

    /// A record of `item` whose content box holds `plaintext`, sealed as Keyring seals content.
    func record(_ plaintext: Data, for item: Item, keyring: Keyring, key: AccountKey) throws -> SealedItem {
        var record = try keyring.seal(item, revision: 1)
        let itemKey = try ItemKey.unwrap(
            record.wrappedKey, with: key,
            context: SealContext(purpose: .itemKey, accountID: keyring.accountID, epoch: keyring.epoch, itemID: item.id)
        )
        record.content = SealedBox.seal(
            plaintext, with: itemKey,
            context: SealContext(
                purpose: .itemContent, accountID: keyring.accountID, epoch: keyring.epoch, itemID: item.id))
        return record
    }

    @Test("a keyring writing content format 2 seals smaller records that it and a JSON keyring both open")
    func compactContent() throws {
        let json = try makeKeyring().keyring
        var compact = json
        compact.contentFormat = .compact
        var item = Item(type: .login, title: "Mail", now: Date(timeIntervalSince1970: 1_800_000_000))
        item.setValue("user@example.com", of: "username")
        item.setValue("hunter2", of: "password")
        item.unknownMembers = ["passkeys": .array([.string("one")])]
        let small = try compact.seal(item, revision: 4)
        let large = try json.seal(item, revision: 4)
        #expect(small.content.bytes.count * 2 < large.content.bytes.count)
        for keyring in [json, compact] {
            #expect(try keyring.open(small) == item)
            #expect(try keyring.open(large) == item)
            // A backup takes the item's JSON whichever format the record is in.
            let fromCompact = try JSONSerialization.jsonObject(with: keyring.openItemJSON(small)) as? NSDictionary
            let fromJSON = try JSONSerialization.jsonObject(with: keyring.openItemJSON(large)) as? NSDictionary
            #expect(fromCompact != nil && fromCompact == fromJSON)
        }
        var replayed = small
        replayed.revision = 5
        #expect(throws: CofferVaultError.self) { try compact.open(replayed) }
    }

    @Test("content in a format this build does not know names the item and says to update Coffer")
    func newerFormat() throws {
        let (keyring, key) = try makeKeyring()
        let item = Item(type: .note, title: "A", now: Date())
        let future = try record(Data([0x03, 1, 2, 3]), for: item, keyring: keyring, key: key)
        #expect(throws: CofferVaultError.newerContentFormat(itemID: item.id, marker: 3)) { try keyring.open(future) }
        #expect(throws: CofferVaultError.newerContentFormat(itemID: item.id, marker: 3)) {
            try keyring.openItemJSON(future)
        }
        #expect(CofferVaultError.newerContentFormat(itemID: item.id, marker: 3).description.contains("Update Coffer"))
        let broken = try record(Data([ItemCompactEncoding.marker, 2, 99]), for: item, keyring: keyring, key: key)
        #expect(
            throws: CofferVaultError.corruptRecord(
                "item \(item.id.uuidString.lowercased()) has unreadable content: the item type 99 is unknown")
        ) {
            try keyring.open(broken)
        }
        let empty = try record(Data(), for: item, keyring: keyring, key: key)
        #expect(throws: CofferVaultError.self) { try keyring.open(empty) }
    }
}
