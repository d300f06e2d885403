import CofferCrypto
import CofferModel
import CofferVault
import Foundation
import GRDB

/// The single row of the `account` table.
struct AccountRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "account"

    var id: Int64 = 1
    var accountID: String
    var epoch: Int64
    var kdfMemoryKiB: Int64
    var kdfIterations: Int64
    var kdfParallelism: Int64
    var salt: Data
    var passwordWrappedKey: Data
    var recoveryWrappedKey: Data
    var manifestCounter: Int64
    var manifestMAC: Data

    init(header: AccountHeader, manifestCounter: UInt64, manifestMAC: [UInt8]) {
        accountID = header.accountID.uuidString.lowercased()
        epoch = Int64(header.epoch)
        kdfMemoryKiB = Int64(header.kdfParameters.memoryKiB)
        kdfIterations = Int64(header.kdfParameters.iterations)
        kdfParallelism = Int64(header.kdfParameters.parallelism)
        salt = Data(header.salt)
        passwordWrappedKey = header.passwordWrappedKey.bytes
        recoveryWrappedKey = header.recoveryWrappedKey.bytes
        self.manifestCounter = Int64(manifestCounter)
        self.manifestMAC = Data(manifestMAC)
    }

    func header() throws(CofferStoreError) -> AccountHeader {
        guard let accountID = UUID(uuidString: accountID), let epoch = UInt32(exactly: epoch),
            let memory = UInt32(exactly: kdfMemoryKiB), let iterations = UInt32(exactly: kdfIterations),
            let parallelism = UInt32(exactly: kdfParallelism),
            let passwordBox = try? SealedBox(bytes: passwordWrappedKey),
            let recoveryBox = try? SealedBox(bytes: recoveryWrappedKey)
        else { throw .corruptDatabase(path: "") }
        return AccountHeader(
            accountID: accountID, epoch: epoch,
            kdfParameters: KDFParameters(memoryKiB: memory, iterations: iterations, parallelism: parallelism),
            salt: Array(salt), passwordWrappedKey: passwordBox, recoveryWrappedKey: recoveryBox)
    }
}

/// A row of the `item` table: one sealed record.
struct ItemRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "item"

    var id: Data
    var revision: Int64
    var wrappedKey: Data
    var content: Data
    /// The change sequence of the write that put the row here.
    var changeSequence: Int64

    /// Read by column, without the `Decodable` machinery (a tenth of opening 100,000 items).
    init(row: Row) throws {
        id = row["id"]
        revision = row["revision"]
        wrappedKey = row["wrappedKey"]
        content = row["content"]
        changeSequence = row["changeSequence"]
    }

    /// The record, its wrapped key put back together with `keys`.
    func sealedItem(_ keys: StoredKeys) throws(CofferStoreError) -> SealedItem {
        guard let uuid = UUID(storeKey: id), let key = keys.box(wrappedKey),
            let box = try? SealedBox(bytes: content)
        else { throw .corruptDatabase(path: "") }
        return SealedItem(id: uuid, revision: revision, wrappedKey: key, content: box)
    }
}
