import CofferAgent
import CofferClient
import CofferCrypto
import CofferModel
import CofferStore
import CofferTestSupport
import CofferVault
import Foundation
import GRDB
import Testing

/// A device and a server that last synced with sync protocol 1 (the previous release): the first
/// sync of the new release checks the old manifest once, then publishes a protocol-2 one — no false
/// alarm, nothing lost — and still refuses an old state that does not match its old manifest.
@Suite("upgrading from sync protocol 1", .serialized)
struct ProtocolUpgradeTests {
    static let password = SyncTests.password

    /// A registered profile with three items, turned back into what the previous release left behind.
    struct LegacyAccount {
        let server: ServerProcess
        let device: CofferCLI
        let email = "legacy-\(UUID().uuidString.prefix(6).lowercased())@example.org"

        init(droppingARecord: Bool = false) throws {
            server = try ServerProcess()
            device = try CofferCLI()
            let paths = ProfilePaths(environment: ["COFFER_HOME": device.home.path])
            let created = try VaultSetup.create(paths: paths, password: ProtocolUpgradeTests.password)
            let session = try VaultSession(store: VaultStore.open(at: paths.vaultFile), keyring: created.keyring)
            for title in ["One", "Two", "Three"] { _ = try session.add(Item(type: .note, title: title, now: Date())) }
            let (url, email, file) = (server.url, email, paths.vaultFile)
            let registered = try AsyncBridge.wait {
                try await AccountFlows.register(
                    server: url, email: email, password: ProtocolUpgradeTests.password, deviceName: "old",
                    vaultFile: file, createIfMissing: false)
            }
            try Self.downgradeServer(server, keyring: registered.keyring, droppingARecord: droppingARecord)
            try Self.downgradeDevice(paths.vaultFile, keyring: registered.keyring)
        }

        /// The server's manifest becomes a protocol-1 manifest: a MACed list of every live record.
        static func downgradeServer(_ server: ServerProcess, keyring: Keyring, droppingARecord: Bool) throws {
            let database = try DatabaseQueue(path: server.databasePath)
            try database.write { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT item_id, revision, content FROM records WHERE is_deleted = 0")
                let entries = rows.map { row in
                    ManifestEntry(
                        itemID: UUID(uuidString: row["item_id"])!, revision: row["revision"],
                        contentHash: SealedItem.contentHash(of: row["content"]))
                }
                let counter = try Int64.fetchOne(db, sql: "SELECT manifest_counter FROM accounts")!
                let blob = keyring.encodeManifest(Manifest(counter: UInt64(counter), entries: entries))
                try db.execute(
                    sql: "UPDATE accounts SET manifest_blob = ?, manifest_sequence = 0", arguments: [blob])
                if droppingARecord {
                    try db.execute(sql: "DELETE FROM records WHERE rowid = (SELECT min(rowid) FROM records)")
                }
            }
        }

        /// The device's sync state and vault integrity as protocol 1 kept them.
        static func downgradeDevice(_ vaultFile: String, keyring: Keyring) throws {
            let store = try VaultStore.open(at: vaultFile)
            let records = try store.allRecords()
            let database = try DatabaseQueue(path: vaultFile)
            try database.write { db in
                let counter = try Int64.fetchOne(db, sql: "SELECT manifestCounter FROM account")!
                let mac = keyring.authenticate(
                    Manifest(counter: UInt64(counter), entries: records.map(\.manifestEntry)))
                try db.execute(
                    sql: "UPDATE account SET integrityFormat = 1, manifestMAC = ?, lastChangeSequence = 0",
                    arguments: [Data(mac)])
                try db.execute(sql: "UPDATE item SET changeSequence = 0")
                try db.execute(sql: "DELETE FROM removedItem")
                try db.execute(sql: "UPDATE itemSync SET syncedContentHash = NULL, syncedDeleted = 0")
                try db.execute(
                    sql: """
                        UPDATE syncState SET protocol = 1, viewDigest = NULL, lastManifest = NULL,
                          sealedAccessToken = NULL, accessTokenExpiresAt = NULL
                        """)
                try db.execute(sql: "DELETE FROM serverWatermark")
            }
        }
    }

    @Test("the first sync after the upgrade verifies the old manifest and publishes a new one; nothing is lost")
    func upgrades() throws {
        let account = try LegacyAccount()
        let unlock = Self.password + "\n"
        try account.device.ok(["sync", "--password-stdin"], stdin: unlock)
        let blob = try DatabaseQueue(path: account.server.databasePath).read { db in
            try Data.fetchOne(db, sql: "SELECT manifest_blob FROM accounts")
        }
        #expect(blob.map { Array($0.prefix(4)) } == Array("CMF2".utf8))
        try account.device.ok(["add", "note", "--title", "Four", "--password-stdin"], stdin: unlock)
        let other = try CofferCLI()
        try other.ok(
            ["login", "--server", account.server.url, "--email", account.email, "--password-stdin"], stdin: unlock)
        let titles = try #require(try other.json(["list", "--json"]) as? [[String: Any]]).compactMap {
            $0["title"] as? String
        }
        #expect(titles.sorted() == ["Four", "One", "Three", "Two"])
    }

    @Test("an old state that does not match its old manifest is refused at the upgrade, and nothing changes")
    func refusesTamperedLegacyState() throws {
        let account = try LegacyAccount(droppingARecord: true)
        let result = try account.device.run(["sync", "--password-stdin"], stdin: Self.password + "\n")
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("integrity checks"), "\(result.stderr)")
        let titles = try #require(
            try account.device.json(["list", "--json", "--password-stdin"], stdin: Self.password + "\n")
                as? [[String: Any]])
        #expect(titles.count == 3)
    }
}
