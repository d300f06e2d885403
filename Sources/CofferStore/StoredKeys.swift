import CofferCrypto
import Foundation
import GRDB

/// Item keys as the vault file keeps them (schema v10). Every item key is wrapped by the account
/// key, and each wrapped key carries the account key's 32-byte commitment: at 100,000 items, 3.2 MB
/// of one value. The file keeps that value once, in `account.accountKeyCommitment`, and a wrapped
/// key whose commitment is that value as `0x81 ‖ nonce ‖ ciphertext ‖ tag`. Any other wrapped key
/// (one from another account, a damaged one) is kept as it came, so what is read back is always
/// byte for byte what was written. `0x81` is never a sealed box's first byte (its version).
struct StoredKeys {
    /// The first byte of a wrapped key kept without its commitment.
    static let detachedMarker: UInt8 = 0x81

    /// The account key's commitment, once known (a vault migrated with no items learns it at its
    /// first write).
    let commitment: Data?

    /// The stored commitment of the file `db` belongs to.
    init(_ db: Database) throws {
        commitment = try Data.fetchOne(db, sql: "SELECT accountKeyCommitment FROM account WHERE id = 1")
    }

    /// Keys stored against `commitment` (the migration's, before the account row has it).
    init(commitment: Data?) { self.commitment = commitment }

    /// The commitment stored, or `keyring`'s stored now: what a write strips from the keys it writes.
    static func forWriting(_ db: Database, accountKeyCommitment: [UInt8]) throws -> StoredKeys {
        let stored = try StoredKeys(db)
        if stored.commitment != nil { return stored }
        let commitment = Data(accountKeyCommitment)
        try db.execute(sql: "UPDATE account SET accountKeyCommitment = ? WHERE id = 1", arguments: [commitment])
        return StoredKeys(commitment: commitment)
    }

    /// How `box` is stored.
    func stored(_ box: SealedBox) -> Data {
        guard let commitment, box.commitment == commitment else { return box.bytes }
        var stored = Data([Self.detachedMarker])
        stored.append(box.detached)
        return stored
    }

    /// The wrapped key `stored` holds, or `nil` when it is not one.
    func box(_ stored: Data) -> SealedBox? {
        guard stored.first == Self.detachedMarker else { return try? SealedBox(bytes: stored) }
        guard let commitment else { return nil }
        return try? SealedBox(attaching: commitment, to: stored.dropFirst())
    }
}
