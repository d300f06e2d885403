public import CofferCrypto
public import CofferModel
public import CofferVault
import Crypto
public import Foundation

/// The backup file format (docs/formats/backup.md): a signature, a version, a header anyone can read
/// (which secrets open the file), and the sealed, compressed body.
public enum BackupFormat {
    /// The first eight bytes of every backup.
    static let signature = Array("COFFERBK".utf8)
    /// The format this code writes and the newest it reads.
    public static let version: UInt16 = 1
    /// Headers are small; a larger one is damage.
    static let maximumHeaderSize = 64 * 1024
    /// The largest body (uncompressed) a backup may claim: 1 GiB.
    static let maximumBodySize = 1 << 30
    /// The extension of backup files.
    public static let fileExtension = "cofferbackup"
}

/// What a backup says in the clear: enough to tell which secrets open it, and nothing about the items.
public struct BackupHeader: Codable, Sendable, Equatable {
    /// This backup; its key is derived from the account key and this id.
    public var backupID: UUID
    /// The account.
    public var accountID: UUID
    /// The key epoch in force when it was made.
    public var epoch: UInt32
    /// When it was made.
    public var createdAt: Date
    /// Argon2id parameters of the password in force then.
    public var kdfMemoryKiB: UInt32
    /// Argon2id passes.
    public var kdfIterations: UInt32
    /// Argon2id lanes.
    public var kdfParallelism: UInt32
    /// The salt of the password in force then.
    public var salt: Data
    /// The account key wrapped by the password in force then.
    public var passwordWrappedKey: Data
    /// The account key wrapped by the recovery code in force then.
    public var recoveryWrappedKey: Data
    /// Item counts and the device, sealed under the backup key: shown only once unlocked.
    public var sealedSummary: Data
    /// The body's size before compression.
    public var bodySize: Int

    /// The account header in force when the backup was made.
    public func accountHeader() throws(BackupError) -> AccountHeader {
        do {
            return AccountHeader(
                accountID: accountID, epoch: epoch,
                kdfParameters: KDFParameters(
                    memoryKiB: kdfMemoryKiB, iterations: kdfIterations, parallelism: kdfParallelism),
                salt: Array(salt), passwordWrappedKey: try SealedBox(bytes: passwordWrappedKey),
                recoveryWrappedKey: try SealedBox(bytes: recoveryWrappedKey))
        } catch {
            throw .damaged("its wrapped keys are malformed")
        }
    }
}

/// What a backup holds besides the items, for listings.
public struct BackupSummary: Codable, Sendable, Equatable {
    /// Live items.
    public var items: Int
    /// Items in the trash.
    public var trash: Int
    /// The device that made it.
    public var deviceName: String?

    /// Creates a summary.
    public init(items: Int, trash: Int, deviceName: String?) {
        self.items = items
        self.trash = trash
        self.deviceName = deviceName
    }
}

/// A secret that may open a backup.
public enum BackupSecret: Sendable {
    /// The vault's account key, unlocked now (works while the account key is unchanged).
    case accountKey(AccountKey)
    /// A master password.
    case password(String)
    /// A recovery code.
    case recoveryCode(RecoveryCode)
}

/// An opened backup.
public struct BackupContents: Sendable {
    /// Its header.
    public var header: BackupHeader
    /// Its summary.
    public var summary: BackupSummary
    /// Every item, trashed ones included.
    public var items: [Item]
}

/// A backup file read from disk, not yet opened.
public struct BackupFile: Sendable {
    /// The clear header.
    public let header: BackupHeader
    /// The file's size in bytes.
    public let size: Int
    private let headerBytes: Data
    private let body: SealedBox

    /// Reads and checks the file's structure (signature, version, lengths); opens nothing.
    public static func read(at path: String) throws(BackupError) -> BackupFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path)
        }
        return try parse(data, name: path)
    }

    /// Parses backup bytes; `name` is used in messages.
    public static func parse(_ data: Data, name: String) throws(BackupError) -> BackupFile {
        let bytes = [UInt8](data)
        let fixed = BackupFormat.signature.count + 6
        guard bytes.count >= BackupFormat.signature.count,
            Array(bytes[0..<BackupFormat.signature.count]) == BackupFormat.signature
        else { throw .notABackup(name) }
        guard bytes.count >= fixed else { throw .damaged("it ends right after its signature (truncated)") }
        let version = Int(bytes[8]) << 8 | Int(bytes[9])
        guard version <= Int(BackupFormat.version) else {
            throw .newerVersion(found: version, supported: Int(BackupFormat.version))
        }
        guard version >= 1 else { throw .damaged("its format version is 0") }
        let headerLength = bytes[10..<14].reduce(0) { $0 << 8 | Int($1) }
        guard headerLength <= BackupFormat.maximumHeaderSize else { throw .damaged("its header length is impossible") }
        guard bytes.count > fixed + headerLength else { throw .damaged("it is truncated inside its header") }
        let headerBytes = Data(bytes[fixed..<(fixed + headerLength)])
        let header: BackupHeader
        do {
            header = try Self.decoder.decode(BackupHeader.self, from: headerBytes)
        } catch {
            throw .damaged("its header is not readable")
        }
        let body: SealedBox
        do {
            body = try SealedBox(bytes: Data(bytes[(fixed + headerLength)...]))
        } catch {
            throw .damaged("its body is truncated")
        }
        return BackupFile(header: header, size: bytes.count, headerBytes: headerBytes, body: body)
    }

    /// The account key `secret` unlocks, or the error naming the secrets that would.
    public func accountKey(for secret: BackupSecret, currentHeader: AccountHeader?) throws(BackupError)
        -> AccountKey
    {
        let wrongSecret = BackupError.wrongSecret(
            opensWith: header.opensWith(current: currentHeader).map(\.description))
        switch secret {
        case .accountKey(let key):
            return key
        case .password(let password):
            do {
                return try header.accountHeader().unlock(password: password)
            } catch CofferVaultError.wrongPassword {
                throw wrongSecret
            } catch let error as BackupError {
                throw error
            } catch {
                throw .damaged("its password-wrapped key does not open (\(error))")
            }
        case .recoveryCode(let code):
            do {
                return try header.accountHeader().unlock(recoveryCode: code)
            } catch CofferVaultError.wrongRecoveryCode {
                throw wrongSecret
            } catch {
                throw .damaged("its recovery-wrapped key does not open")
            }
        }
    }

    /// Opens only the sealed summary (item counts, device), for listings: the body stays closed.
    public func summary(with accountKey: AccountKey) throws(BackupError) -> BackupSummary {
        let key = accountKey.backupKey(backupID: header.backupID)
        do {
            let box = try SealedBox(bytes: header.sealedSummary)
            return try Self.decoder.decode(
                BackupSummary.self, from: try box.open(with: key, context: Self.summaryContext(header)))
        } catch {
            throw .damaged("its summary does not open")
        }
    }

    /// Opens the body with an account key: checks it against the header, decompresses, decodes.
    public func open(with accountKey: AccountKey, currentHeader: AccountHeader? = nil) throws(BackupError)
        -> BackupContents
    {
        let key = accountKey.backupKey(backupID: header.backupID)
        let compressed: Data
        do {
            compressed = try body.open(with: key, context: Self.bodyContext(header, headerBytes))
        } catch .wrongKey {
            throw .wrongSecret(opensWith: header.opensWith(current: currentHeader).map(\.description))
        } catch {
            throw .damaged("it was changed or cut short after it was written")
        }
        let summary = try summary(with: accountKey)
        let items: [Item]
        do {
            let plain = try Deflate.decompress(compressed, expectedCount: header.bodySize)
            // The direct reader takes the shape backups are written in; anything else goes through JSONDecoder.
            items = try ItemJSONReader.itemList(plain) ?? Self.decoder.decode(BackupBody.self, from: plain).items
        } catch let error as BackupError {
            throw error
        } catch {
            throw .damaged("its contents are not readable")
        }
        return BackupContents(header: header, summary: summary, items: items)
    }

    /// Writes a backup of `items` for the account `accountHeader` describes, sealed under a key
    /// derived from `keyring`'s account key; returns the file's bytes.
    public static func make(
        items: [Item], accountHeader: AccountHeader, keyring: Keyring, deviceName: String?, now: Date = Date()
    ) throws(BackupError) -> Data {
        try make(
            body: BackupBody.json(items),
            summary: BackupSummary(
                items: items.count { !$0.isTrashed }, trash: items.count { $0.isTrashed }, deviceName: deviceName),
            accountHeader: accountHeader, keyring: keyring, now: now)
    }

    /// Writes a backup of items given as their JSON (as `ItemJSONWriter` writes an item, the form
    /// sealed records hold them in), `trashed` of them in the trash; returns the file's bytes.
    public static func make(
        itemJSON: [Data], trashed: Int, accountHeader: AccountHeader, keyring: Keyring, deviceName: String?,
        now: Date = Date()
    ) throws(BackupError) -> Data {
        try make(
            body: BackupBody.json(itemJSON),
            summary: BackupSummary(items: itemJSON.count - trashed, trash: trashed, deviceName: deviceName),
            accountHeader: accountHeader, keyring: keyring, now: now)
    }

    private static func make(
        body plain: Data, summary: BackupSummary, accountHeader: AccountHeader, keyring: Keyring, now: Date
    ) throws(BackupError) -> Data {
        let backupID = UUID()
        let key = keyring.accountKey.backupKey(backupID: backupID)
        let summaryBytes: Data
        do {
            summaryBytes = try encoder.encode(summary)
        } catch {
            throw .io("the items could not be encoded")
        }
        guard plain.count <= BackupFormat.maximumBodySize else {
            throw .io("the vault is larger than a backup may hold")
        }
        var header = BackupHeader(
            backupID: backupID, accountID: accountHeader.accountID, epoch: accountHeader.epoch, createdAt: now,
            kdfMemoryKiB: accountHeader.kdfParameters.memoryKiB, kdfIterations: accountHeader.kdfParameters.iterations,
            kdfParallelism: accountHeader.kdfParameters.parallelism, salt: Data(accountHeader.salt),
            passwordWrappedKey: accountHeader.passwordWrappedKey.bytes,
            recoveryWrappedKey: accountHeader.recoveryWrappedKey.bytes, sealedSummary: Data(), bodySize: plain.count)
        header.sealedSummary = SealedBox.seal(summaryBytes, with: key, context: summaryContext(header)).bytes
        let headerBytes: Data
        do {
            headerBytes = try encoder.encode(header)
        } catch {
            throw .io("the header could not be encoded")
        }
        let body = SealedBox.seal(
            try Deflate.compress(plain), with: key, context: bodyContext(header, headerBytes))
        var data = Data(BackupFormat.signature)
        data.append(contentsOf: [UInt8(BackupFormat.version >> 8), UInt8(BackupFormat.version & 0xff)])
        let length = UInt32(headerBytes.count)
        data.append(contentsOf: [
            UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff),
        ])
        data.append(headerBytes)
        data.append(body.bytes)
        return data
    }

    /// A Coffer encrypted export (docs/formats/export.md): a backup-format file under a one-off key
    /// that only `password` opens, so it can move between accounts and devices.
    public static func makeExport(items: [Item], password: String, now: Date = Date()) throws -> Data {
        let (header, accountKey, _) = try AccountHeader.create(password: password)
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        return try make(items: items, accountHeader: header, keyring: keyring, deviceName: "export", now: now)
    }

    /// Whether `data` starts like a backup or encrypted export.
    public static func hasSignature(_ data: Data) -> Bool {
        data.starts(with: BackupFormat.signature)
    }

    /// The body is bound to its account, epoch, backup id and the exact header bytes: editing the
    /// header (its date, its wrapped keys) makes the body fail to open.
    private static func bodyContext(_ header: BackupHeader, _ headerBytes: Data) -> SealContext {
        SealContext(
            purpose: .backupBody, accountID: header.accountID, epoch: header.epoch, itemID: header.backupID,
            extra: Array(SHA256.hash(data: headerBytes)))
    }

    private static func summaryContext(_ header: BackupHeader) -> SealContext {
        SealContext(
            purpose: .backupBody, accountID: header.accountID, epoch: header.epoch, itemID: header.backupID,
            extra: Array("summary".utf8))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}

/// The body's plaintext before compression.
struct BackupBody: Codable {
    var items: [Item]

    /// `{"items":[…]}` written by ``ItemJSONWriter`` — the JSON `Codable` gives (milliseconds dates),
    /// read back by the same decoder, at a fraction of the encoder's cost: the automatic backup after
    /// a bulk import writes every item of the vault.
    static func json(_ items: [Item]) -> Data {
        json(items.count, estimatedSize: items.count * 512) { index, output in
            ItemJSONWriter.write(items[index], into: &output)
        }
    }

    /// `{"items":[…]}` of items already written as JSON.
    static func json(_ itemJSON: [Data]) -> Data {
        json(itemJSON.count, estimatedSize: itemJSON.reduce(0) { $0 + $1.count + 1 }) { index, output in
            output.append(contentsOf: itemJSON[index])
        }
    }

    private static func json(_ count: Int, estimatedSize: Int, _ write: (Int, inout [UInt8]) -> Void) -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(16 + estimatedSize)
        output.append(contentsOf: #"{"items":["#.utf8)
        for index in 0..<count {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            write(index, &output)
        }
        output.append(contentsOf: "]}".utf8)
        return Data(output)
    }
}
