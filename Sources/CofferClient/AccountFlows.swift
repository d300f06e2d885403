public import CofferAPI
public import CofferCrypto
public import CofferStore
public import CofferVault
public import Foundation

/// Joining a server: registering a vault and signing a new device in.
public enum AccountFlows {
    /// Registers the vault at `vaultFile` (created first when missing) with the server and uploads it.
    ///
    /// The recovery code is replaced by a new one registered with the server; it is returned so the
    /// recovery kit can be shown. The old code stops opening this vault.
    public static func register(
        server: String, email: String, password: String, deviceName: String, vaultFile: String, createIfMissing: Bool
    ) async throws -> (keyring: Keyring, recoveryCode: RecoveryCode, report: SyncReport) {
        let api = try APIClient(baseURL: server)
        let store: VaultStore
        if FileManager.default.fileExists(atPath: vaultFile) {
            store = try VaultStore.open(at: vaultFile)
            if try store.syncState() != nil {
                throw CofferClientError.server(
                    status: 409, code: "already-registered",
                    message: "This vault is already connected to a server; `coffer sync` syncs it.")
            }
        } else {
            guard createIfMissing else { throw CofferStoreError.noVault(path: vaultFile) }
            let created = try AccountHeader.create(password: password)
            let keyring = Keyring(
                accountID: created.header.accountID, epoch: created.header.epoch, accountKey: created.accountKey)
            store = try VaultStore.create(
                at: vaultFile, header: created.header,
                keyring: keyring)
        }
        let header = try store.header()
        let masterKey = try header.masterKey(password: password)
        let accountKey = try header.unlock(masterKey: masterKey)
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        let (rotated, recoveryCode) = header.rotatingRecoveryCode(accountKey: accountKey)
        let device = DeviceInfo(id: UUID(), name: deviceName)
        let session = try await api.register(
            RegisterRequest(
                email: email, accountID: header.accountID,
                kdf: WireKDF(
                    memoryKiB: header.kdfParameters.memoryKiB, iterations: header.kdfParameters.iterations,
                    parallelism: header.kdfParameters.parallelism),
                salt: Data(header.salt), authKey: masterKey.authKey().withUnsafeBytes { Data($0) },
                recoveryAuthKey: recoveryCode.authKey().withUnsafeBytes { Data($0) },
                passwordWrappedKey: rotated.passwordWrappedKey.bytes,
                recoveryWrappedKey: rotated.recoveryWrappedKey.bytes,
                device: device))
        try store.replaceHeader(rotated)
        try store.saveSyncState(
            SyncState(
                serverURL: api.baseURL, email: email, deviceID: device.id, deviceName: deviceName,
                sealedRefreshToken: keyring.sealToken(session.refreshToken), cursor: 0, serverManifestCounter: 0))
        try store.markAllDirty()
        let report = try await SyncEngine(store: store, keyring: keyring).sync()
        return (keyring, recoveryCode, report)
    }

    /// Signs this device in to an existing account and downloads the vault into a new file at
    /// `vaultFile`; when that file already holds the same account, signs it in again instead.
    public static func login(
        server: String, email: String, password: String, deviceName: String, vaultFile: String
    ) async throws -> (keyring: Keyring, report: SyncReport) {
        let existing = FileManager.default.fileExists(atPath: vaultFile) ? try VaultStore.open(at: vaultFile) : nil
        let api = try APIClient(baseURL: server)
        let prelogin = try await api.prelogin(email: email)
        let parameters = KDFParameters(
            memoryKiB: prelogin.kdf.memoryKiB, iterations: prelogin.kdf.iterations,
            parallelism: prelogin.kdf.parallelism)
        let masterKey = try Argon2id.deriveMasterKey(
            password: password, salt: Array(prelogin.salt), parameters: parameters)
        let device = DeviceInfo(id: UUID(), name: deviceName)
        let request = LoginRequest(
            email: email, authKey: masterKey.authKey().withUnsafeBytes { Data($0) }, device: device)
        let session = try await signIn(api, request)
        let state = try await api.account(token: session.accessToken)
        // A missing or empty key blob is an error: fail closed, never generate new keys here.
        let header = AccountHeader(
            accountID: state.accountID, epoch: state.epoch,
            kdfParameters: KDFParameters(
                memoryKiB: state.kdf.memoryKiB, iterations: state.kdf.iterations, parallelism: state.kdf.parallelism),
            salt: Array(state.salt), passwordWrappedKey: try SealedBox(bytes: state.passwordWrappedKey),
            recoveryWrappedKey: try SealedBox(bytes: state.recoveryWrappedKey))
        guard header.kdfParameters == parameters, header.salt == Array(prelogin.salt) else {
            throw CofferClientError.invalidResponse("the account's key parameters changed during sign-in")
        }
        let accountKey = try header.unlock(masterKey: masterKey)
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        if let existing {
            // Signing in again (after a sign-out or a revoked session): keep every local item and
            // sync from the start; the manifest check and the merge handle what the server has.
            let local = try existing.header()
            guard local.accountID == header.accountID, local.epoch == header.epoch else {
                throw CofferStoreError.vaultExists(path: vaultFile)
            }
            let previous = try existing.syncState()
            try existing.saveSyncState(
                SyncState(
                    serverURL: api.baseURL, email: email, deviceID: device.id, deviceName: deviceName,
                    sealedRefreshToken: keyring.sealToken(session.refreshToken), cursor: 0,
                    serverManifestCounter: previous?.serverManifestCounter ?? 0))
            let report = try await SyncEngine(store: existing, keyring: keyring).sync()
            return (keyring, report)
        }
        let directory = (vaultFile as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try VaultStore.create(
            at: vaultFile, header: header, keyring: keyring)
        try store.saveSyncState(
            SyncState(
                serverURL: api.baseURL, email: email, deviceID: device.id, deviceName: deviceName,
                sealedRefreshToken: keyring.sealToken(session.refreshToken), cursor: 0, serverManifestCounter: 0))
        let report = try await SyncEngine(store: store, keyring: keyring).sync()
        return (keyring, report)
    }

    /// Logs in, reporting a refused auth key as a wrong password.
    private static func signIn(_ api: APIClient, _ request: LoginRequest) async throws -> SessionResponse {
        do {
            return try await api.login(request)
        } catch {
            if case .server(401, _, _) = error { throw CofferVaultError.wrongPassword }
            throw error
        }
    }

    /// Signs this device out on the server and forgets the server; local data stays.
    public static func logout(store: VaultStore, keyring: Keyring) async throws {
        guard let state = try store.syncState() else { throw CofferClientError.notSynced }
        if let sealed = state.sealedRefreshToken, let api = try? APIClient(baseURL: state.serverURL) {
            try? await api.logout(try keyring.openToken(sealed))
        }
        try store.saveSyncState(nil)
    }
}
