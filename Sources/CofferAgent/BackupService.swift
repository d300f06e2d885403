import CofferAPI
public import CofferBackup
import CofferClient
import CofferCrypto
import CofferFiles
import CofferModel
import CofferStore
import CofferVault
public import Foundation

/// Where backups go and how many are kept; from the environment (README, "Configuration").
public struct BackupSettings: Codable, Sendable, Equatable {
    /// The folder: `COFFER_BACKUP_DIR`, default `backups/` next to the vault. Any folder works
    /// (a cloud-drive folder, a USB stick): the files are sealed.
    public var directory: String
    /// At most one automatic backup per this many seconds after changes (`COFFER_BACKUP_INTERVAL`,
    /// default 1h); `nil` turns automatic backups off.
    public var interval: TimeInterval?
    /// Which automatic backups to keep (`COFFER_BACKUP_KEEP`).
    public var retention: BackupRetention
    /// Whether automatic backups are also kept on the sync server (`COFFER_BACKUP_UPLOAD=on`), so a
    /// new device can restore them; off by default.
    public var upload: Bool

    /// Reads the settings for `paths` from `environment`.
    public init(paths: ProfilePaths, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        directory =
            environment["COFFER_BACKUP_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? paths.dataDirectory + "/backups"
        retention = try environment["COFFER_BACKUP_KEEP"].map { try BackupRetention(parsing: $0) } ?? BackupRetention()
        upload = ["on", "1", "yes", "true"].contains(environment["COFFER_BACKUP_UPLOAD"]?.lowercased() ?? "")
        switch environment["COFFER_BACKUP_INTERVAL"]?.lowercased() {
        case nil, "": interval = 3600
        case "off", "0": interval = nil
        case let text?:
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
            guard let unit = text.last.flatMap({ units[$0] }), let value = Double(text.dropLast()), value > 0 else {
                throw AgentFailure(
                    .invalidInput, "COFFER_BACKUP_INTERVAL '\(text)' is not a duration: use e.g. 30m, 1h, 1d or off.")
            }
            interval = value * unit
        }
    }
}

/// One backup as `coffer backup list` shows it.
public struct BackupListing: Codable, Sendable, Equatable {
    /// The file.
    public var path: String
    /// When it was made.
    public var created: Date
    /// Its size on disk.
    public var size: Int
    /// Live items, when the current keys open it.
    public var items: Int?
    /// Trashed items, when the current keys open it.
    public var trash: Int?
    /// The device that made it, when the current keys open it.
    public var device: String?
    /// Whether it was made automatically (and so is subject to retention).
    public var automatic: Bool
    /// The secrets that open it, in words.
    public var opensWith: [String]
}

/// A secret for a backup the current keys do not open, as it travels to the agent.
public enum BackupSecretInput: Codable, Sendable {
    /// A master password in force when the backup was made.
    case password(String)
    /// A recovery code in force when the backup was made.
    case recoveryCode(String)
}

/// What a restore did (or, for a dry run, would do).
public struct RestoreSummary: Codable, Sendable, Equatable {
    /// The backup of the state before the restore; `nil` for a dry run.
    public var safetyBackup: String?
    /// Items added.
    public var added: Int
    /// Items replaced by the backup's version.
    public var updated: Int
    /// Items moved to the trash (`--replace` only).
    public var trashed: Int
    /// Items left as they were.
    public var unchanged: Int
    /// Whether nothing was written.
    public var dryRun: Bool
}

/// How a restore treats the items already in the vault.
public enum RestoreMode: String, Codable, Sendable {
    /// Add missing items; of items in both, keep the newer.
    case merge
    /// Make the vault hold the backup's items; others move to the trash, where they can be restored.
    case replace
}

/// Backups of an unlocked session: made where the keys are (the agent, or the command's process).
public struct BackupService {
    let session: VaultSession
    let settings: BackupSettings
    let now: () -> Date

    /// A service for `session`.
    public init(session: VaultSession, settings: BackupSettings, now: @escaping () -> Date = Date.init) {
        self.session = session
        self.settings = settings
        self.now = now
    }

    /// Writes a backup of every item (trash included); returns its path.
    @discardableResult
    public func create(automatic: Bool = false) throws -> String {
        let header = try session.store.header()
        let (items, trashed) = try session.itemJSONForBackup()
        let data = try BackupFile.make(
            itemJSON: items, trashed: trashed, accountHeader: header, keyring: session.keyring,
            deviceName: try? session.store.syncState()?.deviceName, now: now())
        try ProfilePaths.makeOwnerOnlyDirectory(settings.directory)
        let stamp = Self.stamp(now())
        let name =
            "coffer-\(stamp)-\(automatic ? "auto" : "manual")-\(UUID().uuidString.prefix(8).lowercased()).\(BackupFormat.fileExtension)"
        let path = (settings.directory as NSString).appendingPathComponent(name)
        // Owner-only, whole and on the disk before it has a backup's name (a crash never leaves half
        // a backup), and never in place of another.
        do {
            try OwnerOnlyFile.write(data, to: path, existing: .refuse)
        } catch {
            throw BackupError.io("cannot write \(path): \(error.reason); check that the folder is writable")
        }
        session.changesSinceBackup = false
        if automatic {
            try prune()
            if settings.upload, (try? session.store.syncState()) != nil { try? upload(path) }
        }
        return path
    }

    /// Every backup in the folder, newest first, with item counts where the current keys open it.
    public func list() throws -> [BackupListing] {
        let header = try session.store.header()
        return files().compactMap { path -> BackupListing? in
            guard let file = try? BackupFile.read(at: path) else { return nil }
            let summary =
                (file.header.accountID == header.accountID && file.header.epoch == header.epoch)
                ? try? file.summary(with: session.keyring.accountKey) : nil
            return BackupListing(
                path: path, created: file.header.createdAt, size: file.size, items: summary?.items,
                trash: summary?.trash, device: summary?.deviceName, automatic: path.contains("-auto-"),
                opensWith: file.header.opensWith(current: header).map(\.description))
        }.sorted { $0.created > $1.created }
    }

    /// Opens a backup completely (every item decoded) and describes it.
    public func verify(_ path: String, secret: BackupSecretInput?) throws -> BackupListing {
        let (file, contents) = try open(path, secret: secret)
        return BackupListing(
            path: path, created: file.header.createdAt, size: file.size, items: contents.summary.items,
            trash: contents.summary.trash, device: contents.summary.deviceName, automatic: path.contains("-auto-"),
            opensWith: file.header.opensWith(current: try session.store.header()).map(\.description))
    }

    /// Restores a backup into the vault; takes a backup of the current state first.
    public func restore(_ path: String, mode: RestoreMode, dryRun: Bool, secret: BackupSecretInput?) throws
        -> RestoreSummary
    {
        let (file, contents) = try open(path, secret: secret)
        guard file.header.accountID == session.keyring.accountID else { throw BackupError.otherAccount }
        let safety = dryRun ? nil : try create()
        var summary = try session.restore(contents.items, mode: mode, dryRun: dryRun)
        summary.safetyBackup = safety
        return summary
    }

    /// The service for automatic backups, with the settings of the environment; `nil` when they are
    /// invalid (the `coffer backup` commands report that; automatic backups stay quiet).
    public static func automatic(for session: VaultSession, paths: ProfilePaths) -> BackupService? {
        (try? BackupSettings(paths: paths)).map { BackupService(session: session, settings: $0) }
    }

    /// Keeps a copy of the backup at `path` on the sync server (sealed: the server cannot open it).
    public func upload(_ path: String) throws {
        let file = try BackupFile.read(at: path)
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw BackupError.io("\(path) cannot be read")
        }
        try session.withServer { api, token in
            try await api.uploadBackup(id: file.header.backupID, bytes: bytes, token: token)
        }
    }

    /// Saves the server's copy of backup `id` into the backup folder; returns its path. A backup from
    /// before an account reset is released only to proof of `secret` (the password or recovery code
    /// of its time); without one, the failure says which secret to give.
    public func download(_ id: UUID, secret: BackupSecretInput? = nil) throws -> String {
        let store = session.store
        let bytes = try session.withServer { api, token in
            do {
                return try await api.downloadBackup(id: id, token: token)
            } catch {
                guard case .server(403, "backup-needs-old-secret", let message) = error as? CofferClientError else {
                    throw error
                }
                guard let secret else {
                    throw AgentFailure(
                        .wrongSecret,
                        "\(message) Give the master password or the recovery code (--recovery-code -) that was in force then."
                    )
                }
                return try await Self.downloadOld(id, secret: secret, store: store, api: api, token: token)
            }
        }
        let file = try BackupFile.parse(bytes, name: "The server's copy")
        try Self.checkDownloaded(file, id: id, keyring: session.keyring)
        try ProfilePaths.makeOwnerOnlyDirectory(settings.directory)
        let path = (settings.directory as NSString).appendingPathComponent(
            "coffer-\(Self.stamp(file.header.createdAt))-manual-\(id.uuidString.prefix(8).lowercased()).\(BackupFormat.fileExtension)"
        )
        do {
            try OwnerOnlyFile.write(bytes, to: path, existing: .replace)
        } catch {
            throw BackupError.io("cannot write \(path): \(error.reason)")
        }
        return path
    }

    /// Proves `secret` for the epoch the backup was made in, and downloads it.
    private static func downloadOld(
        _ id: UUID, secret: BackupSecretInput, store: VaultStore, api: APIClient, token: String
    ) async throws -> Data {
        let old: AccountRecovery.OldSecret =
            switch secret {
            case .password(let password): .password(password)
            case .recoveryCode(let text): .recoveryCode(try RecoveryCode(parsing: text))
            }
        guard let epoch = try await api.backups(token: token).first(where: { $0.id == id })?.epoch,
            let quarantine = try await api.quarantines(token: token).first(where: { $0.epoch == epoch }),
            let key = try AccountRecovery.OldSecretKey(
                old, quarantine: quarantine, floor: try AccountRecovery.kdfFloor(store))
        else {
            throw AgentFailure(
                .server, "The server does not say which key epoch backup \(id) is from; try again later.")
        }
        do {
            return try await api.downloadOldBackup(id: id, proof: key.proof, token: token)
        } catch {
            guard case .server(403, "wrong-old-secret", let message) = error else { throw error }
            throw AgentFailure(.wrongSecret, message)
        }
    }

    /// A file from the server is saved only when it is the backup asked for, of this account, and —
    /// for the current key epoch — opens completely (its header is bound into the sealed body, so
    /// nothing in it was changed). A swapped, foreign or altered file is refused; nothing is saved.
    static func checkDownloaded(_ file: BackupFile, id: UUID, keyring: Keyring) throws {
        let short = id.uuidString.prefix(8).lowercased()
        guard file.header.backupID == id else {
            throw AgentFailure(
                .integrity,
                "The server sent another backup (\(file.header.backupID.uuidString.prefix(8).lowercased())) instead of \(short); nothing was saved. The server may be faulty or tampered with."
            )
        }
        guard file.header.accountID == keyring.accountID, file.header.epoch <= keyring.epoch else {
            throw AgentFailure(
                .integrity,
                "The server's backup \(short) belongs to another account; nothing was saved. The server may be faulty or tampered with."
            )
        }
        guard file.header.epoch == keyring.epoch else { return }
        do {
            _ = try file.open(with: keyring.accountKey)
        } catch {
            throw AgentFailure(
                .integrity,
                "The server's backup \(short) does not open with this account's keys (\(error)); nothing was saved. The server may be faulty or tampered with."
            )
        }
    }

    /// After a change: an automatic backup if none was made within the interval.
    public func afterChange() throws {
        guard let interval = settings.interval, session.changesSinceBackup else { return }
        if let newest = newestAutomatic(), now().timeIntervalSince(newest) < interval { return }
        try create(automatic: true)
    }

    /// Before the keys leave memory (lock, idle timeout): back up changes the interval held back.
    public func beforeLock() throws {
        guard settings.interval != nil, session.changesSinceBackup else { return }
        try create(automatic: true)
    }

    /// At unlock: the daily backup, when the newest automatic one is a day old.
    public func daily() throws {
        guard settings.interval != nil, !session.isEmpty else { return }
        if let newest = newestAutomatic(), now().timeIntervalSince(newest) < 86_400 { return }
        try create(automatic: true)
    }

    /// Deletes automatic backups the retention policy does not keep; manual ones are never deleted.
    public func prune() throws {
        let automatic = files().filter { $0.contains("-auto-") }.compactMap { path in
            Self.date(fromName: path).map { (id: path, date: $0) }
        }
        let keep = settings.retention.kept(automatic)
        for backup in automatic where !keep.contains(backup.id) {
            try? FileManager.default.removeItem(atPath: backup.id)
        }
    }

    private func open(_ path: String, secret: BackupSecretInput?) throws -> (BackupFile, BackupContents) {
        let file = try BackupFile.read(at: path)
        let header = try session.store.header()
        let backupSecret: BackupSecret
        switch secret {
        case nil:
            guard file.header.accountID == header.accountID, file.header.epoch == header.epoch else {
                throw BackupError.wrongSecret(opensWith: file.header.opensWith(current: header).map(\.description))
            }
            backupSecret = .accountKey(session.keyring.accountKey)
        case .password(let password): backupSecret = .password(password)
        case .recoveryCode(let text): backupSecret = .recoveryCode(try RecoveryCode(parsing: text))
        }
        let key = try file.accountKey(for: backupSecret, currentHeader: header)
        return (file, try file.open(with: key, currentHeader: header))
    }

    private func files() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: settings.directory)) ?? []
        return names.filter { $0.hasSuffix("." + BackupFormat.fileExtension) }
            .map { (settings.directory as NSString).appendingPathComponent($0) }
    }

    private func newestAutomatic() -> Date? {
        files().filter { $0.contains("-auto-") }.compactMap(Self.date(fromName:)).max()
    }

    /// The time in a backup's name: UTC to the millisecond, so names sort by time.
    static func stamp(_ date: Date) -> String { stampFormatter().string(from: date) }

    /// The time in a backup's file name (`coffer-20261126T121600123Z-…`).
    static func date(fromName path: String) -> Date? {
        let name = (path as NSString).lastPathComponent
        guard name.hasPrefix("coffer-") else { return nil }
        return stampFormatter().date(from: String(name.dropFirst(7).prefix(19)))
    }

    private static func stampFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmssSSS'Z'"
        return formatter
    }
}
