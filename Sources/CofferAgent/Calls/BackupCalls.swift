import CofferClient
public import Foundation

/// Makes a backup now; answers with the new file's path.
public struct CreateBackup: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-create"
    /// Where backups go and how many are kept.
    public var settings: BackupSettings

    /// A backup into the folder `settings` names.
    public init(settings: BackupSettings) { self.settings = settings }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> String {
        try BackupService(session: vault.session, settings: settings).create()
    }
}

/// Every backup in the folder, newest first.
public struct ListBackups: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-list"
    /// Where backups go.
    public var settings: BackupSettings

    /// The backups in the folder `settings` names.
    public init(settings: BackupSettings) { self.settings = settings }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [BackupListing] {
        try BackupService(session: vault.session, settings: settings).list()
    }
}

/// Opens a backup completely and describes it, changing nothing.
public struct VerifyBackup: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-verify"
    /// The backup file.
    public var path: String
    /// The backup's own secret, when the current keys do not open it.
    public var secret: BackupSecretInput?
    /// Where backups go.
    public var settings: BackupSettings

    /// Checks the backup at `path`.
    public init(path: String, secret: BackupSecretInput?, settings: BackupSettings) {
        self.path = path
        self.secret = secret
        self.settings = settings
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> BackupListing {
        try BackupService(session: vault.session, settings: settings).verify(path, secret: secret)
    }
}

/// Restores a backup into the vault, after backing up the vault as it is.
public struct RestoreBackup: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-restore"
    /// The backup file.
    public var path: String
    /// Merge with the vault, or replace its items.
    public var mode: RestoreMode
    /// Only say what would change.
    public var dryRun: Bool
    /// The backup's own secret, when the current keys do not open it.
    public var secret: BackupSecretInput?
    /// Where backups go.
    public var settings: BackupSettings

    /// Restores the backup at `path`.
    public init(path: String, mode: RestoreMode, dryRun: Bool, secret: BackupSecretInput?, settings: BackupSettings) {
        self.path = path
        self.mode = mode
        self.dryRun = dryRun
        self.secret = secret
        self.settings = settings
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> RestoreSummary {
        let summary = try BackupService(session: vault.session, settings: settings)
            .restore(path, mode: mode, dryRun: dryRun, secret: secret)
        if !dryRun { vault.afterChange() }
        return summary
    }
}

/// Keeps a sealed copy of a backup on the sync server.
public struct UploadBackup: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-upload"
    /// The backup file.
    public var path: String
    /// Where backups go.
    public var settings: BackupSettings

    /// Uploads the backup at `path`.
    public init(path: String, settings: BackupSettings) {
        self.path = path
        self.settings = settings
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Done {
        try BackupService(session: vault.session, settings: settings).upload(path)
        return Done()
    }
}

/// The backups the server keeps for the account.
public struct ListServerBackups: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-server-list"
    /// Where backups go.
    public var settings: BackupSettings

    /// The server's backups.
    public init(settings: BackupSettings) { self.settings = settings }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [ServerBackupListing] {
        try vault.session.withServer { api, token in try await api.backups(token: token) }.map(ServerBackupListing.init)
    }
}

/// Saves the server's copy of a backup into the backup folder; answers with its path.
public struct DownloadBackup: VaultCall {
    /// The call's name on the socket.
    public static let name = "backup-download"
    /// The backup's id, from ``ListServerBackups``.
    public var id: UUID
    /// The secret of the backup's time, for one from before an account reset.
    public var secret: BackupSecretInput?
    /// Where backups go.
    public var settings: BackupSettings

    /// Downloads backup `id`.
    public init(id: UUID, secret: BackupSecretInput?, settings: BackupSettings) {
        self.id = id
        self.secret = secret
        self.settings = settings
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> String {
        try BackupService(session: vault.session, settings: settings).download(id, secret: secret)
    }
}
