import CofferCrypto
import CofferModel
public import CofferVault
import Foundation
import GRDB

extension VaultStore {
    /// Reads every record and checks the whole file against its sealed digest: a row added,
    /// removed, swapped or rolled back outside Coffer is an integrity error. A file written before
    /// incremental integrity is checked against its old manifest MAC and upgraded in the same
    /// transaction (once; afterwards every change costs O(change)).
    ///
    /// The records arrive in chunks of `chunkSize`, each handed to `body` as soon as it is read and
    /// hashed, so a caller that opens them reuses one chunk's memory for the next instead of holding
    /// the whole file at once (at 100,000 items, a third of the agent's memory after unlock). The
    /// check covers the whole file and ends the read: when it fails, it is what this throws, and
    /// whatever `body` made of the chunks must be thrown away. An error from `body` stops the calls
    /// to `body` (the check still runs first) and is rethrown. Returns the file's change sequence.
    public func readVerified(
        keyring: Keyring, chunkSize: Int = 4096, _ body: ([VerifiedRecord]) throws -> Void
    ) throws -> Int64 {
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
        var bodyError: (any Error)?
        let sequence = try readDatabase { db in
            guard
                let account = try Row.fetchOne(
                    db, sql: "SELECT lastChangeSequence, manifestMAC FROM account WHERE id = 1")
            else { throw CofferStoreError.corruptDatabase(path: "") }
            let sequence: Int64 = account["lastChangeSequence"]
            let stored = try keyring.openDigest(
                try SealedBox(bytes: account["manifestMAC"] as Data), purpose: .vaultDigest, position: sequence)
            var digest = SetDigest.empty
            let keys = try StoredKeys(db)
            let chunkSize = max(1, chunkSize)
            var rows: [ItemRow] = []
            rows.reserveCapacity(chunkSize)
            // The check hashes the content itself, each record's part of the digest computed on
            // every core.
            func check() throws {
                let checked = try ParallelMap.map(rows) { row throws(CofferStoreError) in
                    let record = try row.sealedItem(keys)
                    let version = record.liveVersion
                    return (
                        VerifiedRecord(
                            stored: StoredRecord(record: record, changeSequence: row.changeSequence),
                            contentHash: version.contentHash),
                        keyring.digestElement(version)
                    )
                }
                rows.removeAll(keepingCapacity: true)
                for (_, element) in checked { digest.insert(element) }
                guard bodyError == nil else { return }
                do { try body(checked.map(\.0)) } catch { bodyError = error }
            }
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM item")
            while let row = try cursor.next() {
                rows.append(try ItemRow(row: row))
                if rows.count == chunkSize { try check() }
            }
            try check()
            guard digest == stored else {
                throw CofferVaultError.integrity(
                    "the vault's items do not match its sealed digest (an item was added, removed or rolled back outside Coffer)"
                )
            }
            return sequence
        }
        if let bodyError { throw bodyError }
        return sequence
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

/// One record of a vault being read by ``VaultStore/readVerified(keyring:chunkSize:_:)``.
public struct VerifiedRecord: Sendable {
    /// The record, with its change sequence.
    public var stored: StoredRecord
    /// SHA-256 of its sealed content: computed for the check and handed on, so that opening a large
    /// vault hashes each record once.
    public var contentHash: [UInt8]
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
        let keys = try StoredKeys(db)
        let records = try rows.map { row throws(CofferStoreError) in try row.sealedItem(keys) }
        let manifest = Manifest(
            counter: UInt64(clamping: account["manifestCounter"] as Int64), entries: records.map(\.manifestEntry))
        guard constantTimeEquals(keyring.authenticate(manifest), Array(account["manifestMAC"] as Data)) else {
            throw CofferVaultError.integrity(
                "the vault's manifest does not match its items (an item was added, removed or rolled back outside Coffer)"
            )
        }
        var digest = SetDigest.empty
        for record in records { digest.insert(keyring.digestElement(record.liveVersion)) }
        let sequence = try Int64.fetchOne(db, sql: "SELECT lastChangeSequence FROM account WHERE id = 1") ?? 0
        try db.execute(
            sql: "UPDATE account SET integrityFormat = 2, manifestMAC = ? WHERE id = 1",
            arguments: [keyring.sealDigest(digest, purpose: .vaultDigest, position: sequence).bytes])
        return digest
    }
}
