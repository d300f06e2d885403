import CofferCrypto
public import CofferVault
import Foundation
import GRDB

extension VaultStore {
    /// Reads every record and checks the whole file against its sealed digest: a row added,
    /// removed, swapped or rolled back outside Coffer is an integrity error and nothing is returned.
    /// A file written before incremental integrity is checked against its old manifest MAC and
    /// upgraded in the same transaction (once; afterwards every change costs O(change)).
    public func loadVerified(keyring: Keyring) throws(CofferStoreError) -> VerifiedRecords {
        let format = try readDatabase { db in
            try Int64.fetchOne(db, sql: "SELECT integrityFormat FROM account WHERE id = 1")
        }
        if format != 2 {
            try writeDatabase { db in
                if try Int64.fetchOne(db, sql: "SELECT integrityFormat FROM account WHERE id = 1") != 2 {
                    _ = try IntegrityUpgrade.run(db, keyring: keyring)
                }
            }
        }
        return try readDatabase { db in
            guard
                let account = try Row.fetchOne(
                    db, sql: "SELECT lastChangeSequence, manifestMAC FROM account WHERE id = 1")
            else { throw CofferStoreError.corruptDatabase(path: "") }
            let sequence: Int64 = account["lastChangeSequence"]
            let stored = try keyring.openDigest(
                try SealedBox(bytes: account["manifestMAC"] as Data), purpose: .vaultDigest, position: sequence)
            // The stored hash is only a shortcut for later changes; the check uses the content itself,
            // each record's part of the digest computed on every core.
            let checked = try ParallelMap.map(try ItemRow.fetchAll(db)) { row throws(CofferStoreError) in
                let record = try row.sealedItem()
                let version = record.liveVersion
                return (
                    StoredRecord(record: record, changeSequence: row.changeSequence), version,
                    keyring.digestElement(version)
                )
            }
            var digest = SetDigest.empty
            for (_, _, element) in checked { digest.insert(element) }
            guard digest == stored else {
                throw CofferVaultError.integrity(
                    "the vault's items do not match its sealed digest (an item was added, removed or rolled back outside Coffer)"
                )
            }
            return VerifiedRecords(
                records: checked.map(\.0), contentHashes: checked.map(\.1.contentHash), changeSequence: sequence)
        }
    }

    /// Whether `keyring` holds this file's account key (it opens the sealed digest): proof that a
    /// header from elsewhere (a server, after a password change) may be adopted.
    public func opens(with keyring: Keyring) throws(CofferStoreError) -> Bool {
        let row = try readDatabase { db in
            try Row.fetchOne(
                db, sql: "SELECT integrityFormat, lastChangeSequence, manifestMAC, manifestCounter FROM account")
        }
        guard let row else { throw .corruptDatabase(path: path) }
        if (row["integrityFormat"] as Int64) == 2 {
            guard let box = try? SealedBox(bytes: row["manifestMAC"] as Data) else { return false }
            return (try? keyring.openDigest(box, purpose: .vaultDigest, position: row["lastChangeSequence"])) != nil
        }
        let entries = try allRecords().map(\.manifestEntry)
        let counter = UInt64(clamping: row["manifestCounter"] as Int64)
        return constantTimeEquals(
            keyring.authenticate(Manifest(counter: counter, entries: entries)), Array(row["manifestMAC"] as Data))
    }
}

/// Every record of a vault that passed its integrity check.
public struct VerifiedRecords: Sendable {
    /// The records, with the change sequence of each.
    public var records: [StoredRecord]
    /// SHA-256 of each record's sealed content, in the order of `records`: computed for the check
    /// and handed on, so that opening a large vault hashes each record once.
    public var contentHashes: [[UInt8]]
    /// The file's change sequence.
    public var changeSequence: Int64
}

extension SealedItem {
    /// The version the vault's own digest holds for this record.
    public var liveVersion: RecordVersion {
        RecordVersion(itemID: id, revision: revision, isDeleted: false, contentHash: contentHash)
    }
}

/// The one-time move from the protocol-1 manifest MAC (a MAC over every entry, recomputed on every
/// change) to the sealed, incremental digest. The old MAC must verify first: an upgrade never
/// launders a file that was tampered with.
enum IntegrityUpgrade {
    static func run(_ db: Database, keyring: Keyring) throws -> SetDigest {
        guard let account = try Row.fetchOne(db, sql: "SELECT manifestCounter, manifestMAC FROM account WHERE id = 1")
        else { throw CofferStoreError.corruptDatabase(path: "") }
        let rows = try ItemRow.fetchAll(db)
        let records = try rows.map { row throws(CofferStoreError) in try row.sealedItem() }
        let manifest = Manifest(
            counter: UInt64(clamping: account["manifestCounter"] as Int64), entries: records.map(\.manifestEntry))
        guard constantTimeEquals(keyring.authenticate(manifest), Array(account["manifestMAC"] as Data)) else {
            throw CofferVaultError.integrity(
                "the vault's manifest does not match its items (an item was added, removed or rolled back outside Coffer)"
            )
        }
        var digest = SetDigest.empty
        let setHash = try db.cachedStatement(sql: "UPDATE item SET contentHash = ? WHERE id = ?")
        for record in records {
            digest.insert(keyring.digestElement(record.liveVersion))
            try setHash.execute(arguments: [Data(record.contentHash), record.id.uuidString.lowercased()])
        }
        let sequence = try Int64.fetchOne(db, sql: "SELECT lastChangeSequence FROM account WHERE id = 1") ?? 0
        try db.execute(
            sql: "UPDATE account SET integrityFormat = 2, manifestMAC = ? WHERE id = 1",
            arguments: [keyring.sealDigest(digest, purpose: .vaultDigest, position: sequence).bytes])
        return digest
    }
}
