public import CofferAPI
public import CofferCrypto
public import CofferModel
public import CofferStore
public import CofferVault
public import Foundation

/// The ways back into an account when the password is gone: the recovery code (same data, new
/// password), an account reset (new key epoch, old data quarantined), and recovering the
/// quarantined data with an old password or recovery code.
public enum AccountRecovery {
    /// Asks the server to e-mail a one-time code; the answer is the same whether or not the account exists.
    public static func requestCode(server: String, email: String, purpose: EmailCodePurpose) async throws {
        try await APIClient(baseURL: server).requestEmailCode(EmailCodeRequest(email: email, purpose: purpose))
    }

    /// Sets a new password with the e-mailed code and the recovery code. The account key, and so every
    /// item, stays the same; every other device is signed out and asks for the new password.
    public static func recover(
        server: String, email: String, emailCode: String, recoveryCode: RecoveryCode, newPassword: String,
        deviceName: String, vaultFile: String
    ) async throws -> (keyring: Keyring, report: SyncReport) {
        let api = try APIClient(baseURL: server)
        let recoveryAuthKey = recoveryCode.authKey().data
        let found = try await api.recoverPrelogin(
            RecoverPreloginRequest(email: email, emailCode: emailCode, recoveryAuthKey: recoveryAuthKey))
        let wrapped = try SealedBox(bytes: found.recoveryWrappedKey)
        let recovered = AccountHeader(
            accountID: found.accountID, epoch: found.epoch, kdfParameters: .default, salt: [],
            passwordWrappedKey: wrapped, recoveryWrappedKey: wrapped)
        let accountKey = try recovered.unlock(recoveryCode: recoveryCode)
        let (header, masterKey) = try recovered.rewrapped(
            password: newPassword, accountKey: accountKey, parameters: .default)
        let device = DeviceInfo(id: try AccountFlows.existingDeviceID(vaultFile) ?? UUID(), name: deviceName)
        let session = try await api.recover(
            RecoverRequest(
                email: email, emailCode: emailCode, recoveryAuthKey: recoveryAuthKey, epoch: header.epoch,
                keys: KeyChanges.passwordKeys(header, masterKey), device: device))
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        let report = try await AccountFlows.attach(
            api: api, email: email, header: header, keyring: keyring, session: session, device: device,
            vaultFile: vaultFile)
        return (keyring, report)
    }

    /// What a reset code allows, before anything changes.
    public static func checkReset(server: String, email: String, code: String) async throws -> ResetCheckResponse {
        try await APIClient(baseURL: server).resetCheck(ResetCheckRequest(email: email, code: code))
    }

    /// Resets the account (unless the portal already did) with a new account key made here, signs
    /// this device in to the new epoch, and archives this device's old-epoch vault file.
    public static func reset(
        server: String, email: String, code: String, check: ResetCheckResponse, newPassword: String,
        deviceName: String, vaultFile: String
    ) async throws -> (keyring: Keyring, recoveryCode: RecoveryCode, report: SyncReport) {
        let api = try APIClient(baseURL: server)
        let (header, accountKey, recoveryCode, masterKey) = try AccountHeader.createWithMasterKey(
            password: newPassword, accountID: check.accountID, epoch: check.newEpoch)
        let device = DeviceInfo(id: try AccountFlows.existingDeviceID(vaultFile) ?? UUID(), name: deviceName)
        let session = try await api.reset(
            ResetRequest(
                email: email, code: code, epoch: header.epoch, passwordKeys: KeyChanges.passwordKeys(header, masterKey),
                recoveryKeys: RecoveryKeys(
                    recoveryAuthKey: recoveryCode.authKey().data,
                    recoveryWrappedKey: header.recoveryWrappedKey.bytes),
                device: device))
        CrashPoint.reached("reset.server-reset")
        let keyring = Keyring(accountID: header.accountID, epoch: header.epoch, accountKey: accountKey)
        let report = try await AccountFlows.attach(
            api: api, email: email, header: header, keyring: keyring, session: session, device: device,
            vaultFile: vaultFile)
        return (keyring, recoveryCode, report)
    }

    /// A secret from before a reset.
    public enum OldSecret: Sendable {
        /// The master password in force before the reset.
        case password(String)
        /// The recovery code in force before the reset.
        case recoveryCode(RecoveryCode)
    }

    /// Items of one quarantined epoch, opened and checked against its signed manifest.
    public struct QuarantinedItems: Sendable {
        /// The old epoch.
        public var epoch: UInt32
        /// When the account left it.
        public var resetAt: Date
        /// Its items, trashed ones included.
        public var items: [Item]
    }

    /// Downloads and opens every quarantined epoch that `secret` opens.
    public static func quarantinedItems(store: VaultStore, keyring: Keyring, secret: OldSecret) async throws
        -> [QuarantinedItems]
    {
        let (api, token, _) = try await SyncEngine(store: store, keyring: keyring).session()
        let all = try await api.quarantines(token: token).filter { $0.epoch < keyring.epoch }
        let live = all.filter { $0.purgedAt == nil }
        guard !live.isEmpty else {
            if let gone = all.first(where: { $0.purgedAt != nil }), let purgedAt = gone.purgedAt {
                throw CofferClientError.lifecycle(
                    "The data from before the reset of \(day(gone.resetAt)) was deleted from the server on \(day(purgedAt)). Only a backup made before the reset, or a device that still holds the data (run `coffer recover --from-device` there), can bring it back."
                )
            }
            throw CofferClientError.lifecycle(
                "The server holds no data from before a reset for this account, so there is nothing to recover.")
        }
        let floor = try Self.kdfFloor(store)
        var opened: [QuarantinedItems] = []
        var refusal: String?
        for quarantine in live {
            guard let key = try OldSecretKey(secret, quarantine: quarantine, floor: floor) else { continue }
            let release: QuarantineRelease
            switch try await Self.release(quarantine, proof: key.proof, api: api, token: token) {
            case .success(let released): release = released
            case .failure(let refused):
                refusal = refused.message
                continue
            }
            guard
                let oldKeyring = try key.open(release.wrappedKey, accountID: keyring.accountID, quarantine: quarantine)
            else { continue }
            opened.append(
                QuarantinedItems(
                    epoch: quarantine.epoch, resetAt: quarantine.resetAt,
                    items: try verifiedItems(release.records, manifest: release.manifest, keyring: oldKeyring)))
        }
        guard !opened.isEmpty else {
            let dates = live.map { day($0.resetAt) }.joined(separator: ", ")
            let what =
                switch secret {
                case .password: "That password does not open"
                case .recoveryCode: "That recovery code does not open"
                }
            throw CofferVaultError.wrongSecretFor(
                "\(what) the data from before the reset of \(dates). It opens with the master password in force before that reset (--old-password), or with the recovery code from the recovery kit in force then (--old-recovery-code).\(refusal.map { " The server says: \($0)" } ?? "")"
            )
        }
        return opened
    }

    /// Asks the server to delete a safety net (the quarantine, or a server-held backup), proven with
    /// the current password. Nothing goes at once: the server mails a confirmation link, then waits
    /// its delay, and any device can cancel until then.
    public static func requestDeletion(
        _ what: DeletionKind, backupID: UUID? = nil, store: VaultStore, password: String
    ) async throws -> PendingDeletion {
        let header = try store.header()
        let masterKey = try header.masterKey(password: password)
        let keyring = Keyring(
            accountID: header.accountID, epoch: header.epoch, accountKey: try header.unlock(masterKey: masterKey))
        let (api, token, _) = try await SyncEngine(store: store, keyring: keyring).session()
        return try await api.requestDeletion(
            DeletionRequest(what: what, backupID: backupID, currentAuthKey: masterKey.authKey().data), token: token)
    }

    /// The server's refusal of a proof, as it words it (with the attempts left).
    private struct ProofRefused: Error {
        let message: String
    }

    /// Asks for one quarantine's release; a wrong proof is an answer, not an error, so the next
    /// quarantine can be tried.
    private static func release(_ quarantine: QuarantineSummary, proof: QuarantineProof, api: APIClient, token: String)
        async throws -> Result<QuarantineRelease, ProofRefused>
    {
        do {
            return .success(try await api.openQuarantine(epoch: quarantine.epoch, proof: proof, token: token))
        } catch {
            guard case .server(403, "wrong-old-secret", let message) = error else { throw error }
            return .failure(ProofRefused(message: message))
        }
    }

    /// The weakest Argon2id parameters this device accepts for deriving a proof from an old password: a
    /// server must not get a cheap hash of it by claiming the old epoch used weak ones.
    public static func kdfFloor(_ store: VaultStore) throws -> KDFParameters {
        guard let state = try store.syncState() else { return .default }
        return try store.kdfPin(server: state.serverURL, email: state.email) ?? .default
    }

    /// An old secret made ready for one quarantine: the proof the server checks, and what opens the
    /// key it then releases. Also what a backup from before a reset is downloaded with.
    public struct OldSecretKey: Sendable {
        /// What the server compares with the epoch's verifier.
        public let proof: QuarantineProof
        private let opener: Opener
        private let kdf: KDFParameters
        private let salt: [UInt8]

        private enum Opener: Sendable {
            case masterKey(MasterKey)
            case recoveryCode(RecoveryCode)
        }

        /// `nil` when the quarantine has no password parameters left (purged meanwhile).
        public init?(_ secret: OldSecret, quarantine: QuarantineSummary, floor: KDFParameters) throws {
            guard let wireKDF = quarantine.kdf, let salt = quarantine.salt else { return nil }
            kdf = KDFParameters(wire: wireKDF)
            self.salt = Array(salt)
            switch secret {
            case .password(let password):
                try KDFPolicy.check(kdf, floor: floor, acceptance: .pinned)
                let key = try Argon2id.deriveMasterKey(password: password, salt: self.salt, parameters: kdf)
                opener = .masterKey(key)
                proof = .password(authKey: key.authKey().data)
            case .recoveryCode(let code):
                opener = .recoveryCode(code)
                proof = .recoveryCode(recoveryAuthKey: code.authKey().data)
            }
        }

        /// The old epoch's keyring from the released key; `nil` when the secret does not open it
        /// (a server that accepted a wrong proof gains nothing: the key still does not open).
        func open(_ wrappedKey: Data, accountID: UUID, quarantine: QuarantineSummary) throws -> Keyring? {
            let box = try SealedBox(bytes: wrappedKey)
            let header = AccountHeader(
                accountID: accountID, epoch: quarantine.epoch, kdfParameters: kdf, salt: salt,
                passwordWrappedKey: box, recoveryWrappedKey: box)
            do {
                let accountKey =
                    switch opener {
                    case .masterKey(let key): try header.unlock(masterKey: key)
                    case .recoveryCode(let code): try header.unlock(recoveryCode: code)
                    }
                return Keyring(accountID: accountID, epoch: quarantine.epoch, accountKey: accountKey)
            } catch .wrongPassword, .wrongRecoveryCode {
                return nil
            }
        }
    }

    /// Opens quarantined records after checking them against the old epoch's signed manifest (of
    /// either sync protocol): nothing the server holds back, adds or swaps goes unnoticed.
    private static func verifiedItems(_ records: [WireRecord], manifest: WireManifest?, keyring: Keyring) throws
        -> [Item]
    {
        let parsed = try records.map { wire throws(CofferClientError) in try ServerRecord(wire) }
        guard let manifest else {
            guard parsed.isEmpty else {
                throw CofferClientError.manifestMismatch("the quarantined items have no signed manifest")
            }
            return []
        }
        let covered: [ServerRecord]
        if SyncManifest.isLegacy(manifest.blob) {
            covered = parsed
            var served: [UUID: (Int64, [UInt8])] = [:]
            for record in parsed where !record.isDeleted {
                served[record.id] = (record.revision, record.version.contentHash)
            }
            try LegacyManifest.check(try keyring.decodeManifest(manifest.blob), served: served)
        } else {
            let signed = try SyncManifest(encoded: manifest.blob)
            covered = SyncAttempt.newestPerItem(parsed.filter { $0.sequence <= signed.sequence })
            guard keyring.verifies(signed, digest: keyring.digest(of: covered.map(\.version))) else {
                throw CofferClientError.manifestMismatch("the quarantined items do not match their signed manifest")
            }
        }
        return try covered.compactMap(\.sealed).map { try keyring.open($0) }
    }

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}
