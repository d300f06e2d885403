public import CofferCrypto
public import CofferVault
import Foundation
import GRDB

/// What a device remembers about the servers it used, even after `coffer logout`: the highest
/// manifest counter it verified per server, account and epoch (so a server cannot roll the vault back
/// by signing the device out and in again), and the Argon2id parameters it derived with per server
/// and address (so a server cannot talk it into a cheaper derivation). Deleting the profile is the
/// only way to forget them; a brand-new device trusts on first use.
extension VaultStore {
    /// The high-water mark for `server`, `keyring`'s account and epoch; 0 when none was kept.
    /// A stored mark whose MAC does not verify is an integrity error, never a silent reset to 0.
    public func watermark(server: String, keyring: Keyring) throws(CofferStoreError) -> Int64 {
        let row = try readDatabase { db in
            try Row.fetchOne(
                db, sql: "SELECT counter, mac FROM serverWatermark WHERE serverURL = ? AND accountID = ? AND epoch = ?",
                arguments: [server, keyring.accountID.uuidString.lowercased(), Int64(keyring.epoch)])
        }
        guard let row else { return 0 }
        let counter: Int64 = row["counter"]
        guard constantTimeEquals(keyring.watermarkMAC(server: server, counter: counter), Array(row["mac"] as Data))
        else {
            throw .integrity(
                .integrity("the remembered version of the server's vault was changed outside Coffer"))
        }
        return counter
    }

    /// The Argon2id parameters this device has derived with for `email` on `server`, if any.
    public func kdfPin(server: String, email: String) throws(CofferStoreError) -> KDFParameters? {
        try readDatabase { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM kdfPin WHERE serverURL = ? AND email = ?",
                arguments: [server, email.lowercased()]
            ).map {
                KDFParameters(
                    memoryKiB: UInt32(clamping: $0["memoryKiB"] as Int64),
                    iterations: UInt32(clamping: $0["iterations"] as Int64),
                    parallelism: UInt32(clamping: $0["parallelism"] as Int64))
            }
        }
    }

    /// Remembers `parameters` for `email` on `server`. Pins only rise: a weaker set is the one a
    /// user lowers explicitly, which replaces the pin through ``replaceKDFPin(_:server:email:)``.
    public func pinKDF(_ parameters: KDFParameters, server: String, email: String) throws(CofferStoreError) {
        let current = try kdfPin(server: server, email: email)
        let pinned = KDFParameters(
            memoryKiB: max(parameters.memoryKiB, current?.memoryKiB ?? 0),
            iterations: max(parameters.iterations, current?.iterations ?? 0),
            parallelism: max(parameters.parallelism, current?.parallelism ?? 0))
        try replaceKDFPin(pinned, server: server, email: email)
    }

    /// Sets the pin to exactly `parameters` (the user chose them on this device).
    public func replaceKDFPin(_ parameters: KDFParameters, server: String, email: String) throws(CofferStoreError) {
        try writeDatabase { db in
            try db.execute(
                sql: """
                    INSERT INTO kdfPin (serverURL, email, memoryKiB, iterations, parallelism) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(serverURL, email) DO UPDATE SET memoryKiB = excluded.memoryKiB,
                      iterations = excluded.iterations, parallelism = excluded.parallelism
                    """,
                arguments: [
                    server, email.lowercased(), Int64(parameters.memoryKiB), Int64(parameters.iterations),
                    Int64(parameters.parallelism),
                ])
        }
    }
}

/// The SQL behind the high-water marks, shared by sync commits.
enum Watermarks {
    /// Raises the mark for `server` and the keyring's account and epoch to `counter`; never lowers it.
    static func save(_ db: Database, server: String, counter: Int64, keyring: Keyring) throws {
        let account = keyring.accountID.uuidString.lowercased()
        let current = try Int64.fetchOne(
            db, sql: "SELECT counter FROM serverWatermark WHERE serverURL = ? AND accountID = ? AND epoch = ?",
            arguments: [server, account, Int64(keyring.epoch)])
        guard counter > (current ?? -1) else { return }
        try db.execute(
            sql: """
                INSERT INTO serverWatermark (serverURL, accountID, epoch, counter, mac) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(serverURL, accountID, epoch) DO UPDATE SET counter = excluded.counter, mac = excluded.mac
                """,
            arguments: [
                server, account, Int64(keyring.epoch), counter,
                Data(keyring.watermarkMAC(server: server, counter: counter)),
            ])
    }
}
