import CofferAPI
public import CofferCrypto
public import CofferStore
public import CofferVault
import Foundation

/// Joining a server: registering a vault and signing a new device in.
public enum AccountFlows {
    /// What a device that signs in to an existing account writes: JSON, because the account's other
    /// devices may run a Coffer from before content format 2 (``ItemContentFormat``).
    static let joiningContentFormat = ItemContentFormat.json

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
            // Registering makes a new account, so no older Coffer reads it.
            store = try VaultStore.create(
                at: vaultFile, header: created.header, keyring: keyring, writing: .compact)
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
                kdf: WireKDF(header.kdfParameters),
                salt: Data(header.salt), authKey: masterKey.authKey().data,
                recoveryAuthKey: recoveryCode.authKey().data,
                passwordWrappedKey: rotated.passwordWrappedKey.bytes,
                recoveryWrappedKey: rotated.recoveryWrappedKey.bytes,
                device: device))
        try store.replaceHeader(rotated)
        try store.saveSyncState(
            SyncState(
                serverURL: api.baseURL, email: email, deviceID: device.id, deviceName: deviceName,
                sealedRefreshToken: keyring.sealToken(session.refreshToken)))
        try store.pinKDF(header.kdfParameters, server: api.baseURL, email: email)
        try store.markAllDirty()
        let report = try await SyncEngine(store: store, keyring: keyring).sync()
        return (keyring, recoveryCode, report)
    }

    /// Signs this device in to an existing account and downloads the vault into a new file at
    /// `vaultFile`; when that file already holds the same account, signs it in again instead (after a
    /// password change elsewhere it adopts the new password; after a reset it archives the old epoch).
    ///
    /// The server's Argon2id parameters are checked before anything is derived or sent: never lower
    /// than this device has seen for the account on that server, nor — for an account it has not
    /// seen — than Coffer's default, unless `kdf` is ``KDFAcceptance/acceptWeaker`` (the user's
    /// explicit choice).
    public static func login(
        server: String, email: String, password: String, deviceName: String, vaultFile: String,
        kdf: KDFAcceptance = .pinned
    ) async throws -> (keyring: Keyring, report: SyncReport) {
        let api = try APIClient(baseURL: server)
        let prelogin = try await api.prelogin(email: email)
        let parameters = KDFParameters(wire: prelogin.kdf)
        try KDFPolicy.check(
            parameters, floor: try KDFPolicy.floor(vaultFile: vaultFile, server: api.baseURL, email: email),
            acceptance: kdf)
        let masterKey = try Argon2id.deriveMasterKey(
            password: password, salt: Array(prelogin.salt), parameters: parameters)
        let device = DeviceInfo(id: try existingDeviceID(vaultFile) ?? UUID(), name: deviceName)
        let request = LoginRequest(email: email, authKey: masterKey.authKey().data, device: device)
        let session = try await signIn(api, request)
        let state = try await api.account(token: session.accessToken)
        let header = try AccountHeader(state)
        guard header.kdfParameters == parameters, header.salt == Array(prelogin.salt) else {
            throw CofferClientError.invalidResponse("the account's key parameters changed during sign-in")
        }
        let accountKey: AccountKey
        do {
            accountKey = try header.unlock(masterKey: masterKey)
        } catch {
            // The server accepted the password's auth key, so the password is right: a key that then
            // does not open was changed on the server, and nothing here changes because of it.
            throw CofferClientError.manifestMismatch(
                "the server's copy of your account key does not open with your password, although the server accepted it"
            )
        }
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        let report = try await attach(
            api: api, email: email, header: header, keyring: keyring, session: session, device: device,
            vaultFile: vaultFile)
        return (keyring, report)
    }

    /// This profile's device id on its server, when the vault file already has one.
    static func existingDeviceID(_ vaultFile: String) throws -> UUID? {
        guard FileManager.default.fileExists(atPath: vaultFile) else { return nil }
        return try VaultStore.open(at: vaultFile).syncState()?.deviceID
    }

    /// Makes the vault file at `vaultFile` hold the account as the server now has it, then syncs.
    ///
    /// - No file: a new one is created and downloaded.
    /// - Same account and key epoch: local items stay; the server's header (a new password) is adopted
    ///   only after proving it holds the same account key (it must sign the local manifest).
    /// - Same account, older epoch (the account was reset): the file is archived, never deleted, and a
    ///   new one is created; `coffer recover --from-device` moves the archived items in.
    static func attach(
        api: APIClient, email: String, header: AccountHeader, keyring: Keyring, session: SessionResponse,
        device: DeviceInfo, vaultFile: String
    ) async throws -> SyncReport {
        let store: VaultStore
        var previous: SyncState?
        if FileManager.default.fileExists(atPath: vaultFile) {
            let existing = try VaultStore.open(at: vaultFile)
            let local = try existing.header()
            guard local.accountID == header.accountID else { throw CofferStoreError.vaultExists(path: vaultFile) }
            if local.epoch == header.epoch {
                guard try existing.opens(with: keyring) else {
                    throw CofferClientError.lifecycle(
                        "The vault on this device does not open with this account's key, so it was left as it is. Move \(vaultFile) aside to sign in here."
                    )
                }
                try existing.replaceHeader(header)
                try existing.discardPendingHeader()
                previous = try existing.syncState()
                store = existing
            } else if local.epoch < header.epoch {
                _ = try VaultArchive.archive(vaultFile: vaultFile)
                CrashPoint.reached("reset.archived")
                store = try VaultStore.create(
                    at: vaultFile, header: header, keyring: keyring, writing: Self.joiningContentFormat)
            } else {
                throw CofferClientError.lifecycle(
                    "This device holds a newer key epoch (\(local.epoch)) than the server (\(header.epoch)); the server may have been restored from an old backup. Nothing was changed."
                )
            }
        } else {
            let directory = (vaultFile as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            store = try VaultStore.create(
                at: vaultFile, header: header, keyring: keyring, writing: Self.joiningContentFormat)
        }
        try store.saveResetNotice(nil)
        try store.saveSyncState(
            SyncState(
                serverURL: api.baseURL, email: email, deviceID: device.id, deviceName: device.name,
                sealedRefreshToken: keyring.sealToken(session.refreshToken),
                serverManifestCounter: previous?.serverManifestCounter ?? 0))
        try store.pinKDF(header.kdfParameters, server: api.baseURL, email: email)
        do {
            return try await SyncEngine(store: store, keyring: keyring).sync()
        } catch CofferClientError.serverLostData(let loss) {
            // Signed in all the same; putting data back on the server is the user's call (`coffer sync`).
            var report = SyncReport(pulled: 0, pushed: 0, conflictCopies: 0)
            report.serverLoss = loss
            return report
        }
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

extension KDFParameters {
    /// Parameters a server sent; the floor is checked again where they are used (Argon2id refuses
    /// anything below it), so a server cannot talk a client into a weak derivation.
    init(wire kdf: WireKDF) {
        self.init(memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism)
    }
}

extension AccountHeader {
    /// The account's header as the server holds it. A missing or empty key blob is an error: fail
    /// closed, never generate new keys here.
    init(_ state: AccountState) throws {
        self.init(
            accountID: state.accountID, epoch: state.epoch, kdfParameters: KDFParameters(wire: state.kdf),
            salt: Array(state.salt), passwordWrappedKey: try SealedBox(bytes: state.passwordWrappedKey),
            recoveryWrappedKey: try SealedBox(bytes: state.recoveryWrappedKey))
    }
}
