public import CofferAPI
public import CofferCrypto
public import CofferStore
public import CofferVault
import Foundation

/// Changes to the keys that open an account, with the same account key: a new password, a new
/// recovery code. Items are never touched.
///
/// Each change is written locally as a *pending* header first, then sent to the server, then made
/// current. A crash anywhere leaves a vault that opens: before the server took it, with the old
/// password (and, on this device, the new one); after, with the new one (and, on this device until
/// the next sync settles it, the old one). Never with neither.
public enum KeyChanges {
    /// Sets a new master password. Other devices are signed out and ask for it; their data stays.
    public static func changePassword(store: VaultStore, currentPassword: String, newPassword: String)
        async throws -> Keyring
    {
        let (header, masterKey, keyring) = try unlock(store, currentPassword)
        let (changed, newMasterKey) = try header.rewrapped(
            password: newPassword, accountKey: keyring.accountKey, parameters: header.kdfParameters)
        try await apply(changed, to: store, keyring: keyring, step: "password-change") { api, token in
            try await api.changePassword(
                PasswordChangeRequest(
                    currentAuthKey: masterKey.authKey().data, epoch: header.epoch,
                    keys: passwordKeys(changed, newMasterKey)),
                token: token)
        }
        return keyring
    }

    /// Sets a new master password on a vault that syncs with no server, opened with its recovery code:
    /// the forgotten-password way back that needs no network. The same pending/current steps as a
    /// password change, so a crash leaves a vault that opens with the recovery code (and either
    /// password). A synced vault is refused: its server holds the keys, and recovery goes through it.
    public static func recoverLocally(store: VaultStore, recoveryCode: RecoveryCode, newPassword: String)
        async throws -> Keyring
    {
        guard try store.syncState() == nil else {
            throw CofferClientError.lifecycle(
                "This vault syncs with a server, so the password is reset there: `coffer recover --server URL --email ADDRESS` mails a code, then `--code CODE --recovery-code -`."
            )
        }
        let header = try store.header()
        let accountKey = try header.unlock(recoveryCode: recoveryCode)
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        let (changed, _) = try header.rewrapped(
            password: newPassword, accountKey: accountKey, parameters: header.kdfParameters)
        try await apply(changed, to: store, keyring: keyring, step: "local-recovery") { _, _ in }
        return keyring
    }

    /// Makes a new recovery code; the previous one stops opening the account. Returns the new code.
    public static func rotateRecoveryCode(store: VaultStore, password: String) async throws -> RecoveryCode {
        let (header, masterKey, keyring) = try unlock(store, password)
        let (rotated, code) = header.rotatingRecoveryCode(accountKey: keyring.accountKey)
        try await apply(rotated, to: store, keyring: keyring, step: "recovery-kit") { api, token in
            try await api.rotateRecoveryKit(
                RecoveryKitRequest(
                    currentAuthKey: masterKey.authKey().data, epoch: header.epoch,
                    keys: RecoveryKeys(
                        recoveryAuthKey: code.authKey().data, recoveryWrappedKey: rotated.recoveryWrappedKey.bytes)),
                token: token)
        }
        return code
    }

    /// The header as the server should learn it after a password change or a recovery.
    static func passwordKeys(_ header: AccountHeader, _ masterKey: MasterKey) -> PasswordKeys {
        PasswordKeys(
            kdf: WireKDF(header.kdfParameters), salt: Data(header.salt), authKey: masterKey.authKey().data,
            passwordWrappedKey: header.passwordWrappedKey.bytes)
    }

    private static func unlock(_ store: VaultStore, _ password: String) throws -> (
        AccountHeader, MasterKey, Keyring
    ) {
        let header = try store.header()
        let masterKey = try header.masterKey(password: password)
        let accountKey = try header.unlock(masterKey: masterKey)
        return (header, masterKey, Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey))
    }

    /// Pending locally → on the server → current locally, with a crash point after each step.
    private static func apply(
        _ header: AccountHeader, to store: VaultStore, keyring: Keyring, step: String,
        send: @Sendable (APIClient, String) async throws -> Void
    ) async throws {
        try store.savePendingHeader(header)
        CrashPoint.reached("\(step).pending-saved")
        if try store.syncState() != nil {
            do {
                let (api, token, _) = try await SyncEngine(store: store, keyring: keyring).session()
                try await send(api, token)
            } catch let error as CofferClientError {
                // A refusal means the server kept the old keys; anything else (no answer) is settled
                // by the next sync, which compares the server's keys with both headers.
                if case .server(let status, _, _) = error, (400..<500).contains(status) {
                    try store.discardPendingHeader()
                }
                throw error
            }
            CrashPoint.reached("\(step).server-updated")
        }
        try store.promotePendingHeader()
    }

    /// Settles a key change a crash or a lost answer left pending: whichever header the server holds
    /// becomes (or stays) current. Called at the start of every sync; free when nothing is pending.
    public static func settlePendingHeader(store: VaultStore, api: APIClient, token: String) async throws {
        guard let pending = try store.pendingHeader() else { return }
        let state = try await api.account(token: token)
        let matches = { (header: AccountHeader) in
            header.epoch == state.epoch && Data(header.salt) == state.salt
                && header.passwordWrappedKey.bytes == state.passwordWrappedKey
                && header.recoveryWrappedKey.bytes == state.recoveryWrappedKey
        }
        if matches(pending) {
            try store.promotePendingHeader()
        } else if try matches(store.header()) {
            try store.discardPendingHeader()
        }
    }
}

extension WireKDF {
    /// The parameters as they travel.
    public init(_ parameters: KDFParameters) {
        self.init(
            memoryKiB: parameters.memoryKiB, iterations: parameters.iterations, parallelism: parameters.parallelism)
    }
}

extension CofferKey where Role == AuthKeyRole {
    /// The bytes a server verifies (it stores only their hash).
    var data: Data { withUnsafeBytes { Data($0) } }
}

extension CofferKey where Role == RecoveryAuthKeyRole {
    /// The bytes a server verifies (it stores only their hash).
    var data: Data { withUnsafeBytes { Data($0) } }
}
