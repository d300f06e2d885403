public import Foundation

// Bodies of the account-lifecycle endpoints: password change, recovery kit, recovery by code,
// account reset and the quarantine of a reset account's old data (docs/openapi.yaml).

/// A password-derived key set made by the client: the server stores the verifier of `authKey`,
/// never the key, and the wrapped account key as ciphertext.
public struct PasswordKeys: Codable, Sendable, Equatable {
    /// Argon2id parameters for the new password.
    public var kdf: WireKDF
    /// A new random salt.
    public var salt: Data
    /// The new auth key (the server keeps only its verifier).
    public var authKey: Data
    /// The account key wrapped by the new password.
    public var passwordWrappedKey: Data
    /// Creates a key set.
    public init(kdf: WireKDF, salt: Data, authKey: Data, passwordWrappedKey: Data) {
        self.kdf = kdf
        self.salt = salt
        self.authKey = authKey
        self.passwordWrappedKey = passwordWrappedKey
    }
}

/// A recovery-code-derived key set made by the client.
public struct RecoveryKeys: Codable, Sendable, Equatable {
    /// The recovery auth key (the server keeps only its verifier).
    public var recoveryAuthKey: Data
    /// The account key wrapped by the recovery code.
    public var recoveryWrappedKey: Data
    /// Creates a key set.
    public init(recoveryAuthKey: Data, recoveryWrappedKey: Data) {
        self.recoveryAuthKey = recoveryAuthKey
        self.recoveryWrappedKey = recoveryWrappedKey
    }
}

/// `POST /api/v1/account/password`: the same account key under a new password.
public struct PasswordChangeRequest: Codable, Sendable {
    /// Proves the caller knows the current password, not just a session.
    public var currentAuthKey: Data
    /// The epoch the keys were made for; a reset in between refuses the change.
    public var epoch: UInt32
    /// The new password's keys.
    public var keys: PasswordKeys
    /// Creates a request.
    public init(currentAuthKey: Data, epoch: UInt32, keys: PasswordKeys) {
        self.currentAuthKey = currentAuthKey
        self.epoch = epoch
        self.keys = keys
    }
}

/// `POST /api/v1/account/recovery-kit`: the same account key under a new recovery code.
public struct RecoveryKitRequest: Codable, Sendable {
    /// Proves the caller knows the current password.
    public var currentAuthKey: Data
    /// The epoch the keys were made for.
    public var epoch: UInt32
    /// The new recovery code's keys.
    public var keys: RecoveryKeys
    /// Creates a request.
    public init(currentAuthKey: Data, epoch: UInt32, keys: RecoveryKeys) {
        self.currentAuthKey = currentAuthKey
        self.epoch = epoch
        self.keys = keys
    }
}

/// What an e-mailed one-time code is for.
public enum EmailCodePurpose: String, Codable, Sendable {
    /// Setting a new password with the recovery code.
    case recover
    /// Resetting the account (or finishing a reset started in the portal).
    case reset
}

/// `POST /api/v1/account/email-code`: mails a one-time code; the answer never says whether the address exists.
public struct EmailCodeRequest: Codable, Sendable {
    /// The account's address.
    public var email: String
    /// What the code will be good for.
    public var purpose: EmailCodePurpose
    /// Creates a request.
    public init(email: String, purpose: EmailCodePurpose) {
        self.email = email
        self.purpose = purpose
    }
}

/// `POST /api/v1/recover/prelogin`: checks the e-mail code and the recovery code and returns what
/// the recovery code unwraps. The code is not used up until `POST /api/v1/recover`.
public struct RecoverPreloginRequest: Codable, Sendable {
    /// The account's address.
    public var email: String
    /// The code from the e-mail.
    public var emailCode: String
    /// Derived from the recovery code.
    public var recoveryAuthKey: Data
    /// Creates a request.
    public init(email: String, emailCode: String, recoveryAuthKey: Data) {
        self.email = email
        self.emailCode = emailCode
        self.recoveryAuthKey = recoveryAuthKey
    }
}

/// The recovery-wrapped account key and the identity it is bound to.
public struct RecoverPreloginResponse: Codable, Sendable, Equatable {
    /// The account.
    public var accountID: UUID
    /// The key epoch.
    public var epoch: UInt32
    /// The account key wrapped by the recovery code.
    public var recoveryWrappedKey: Data
    /// Creates a response.
    public init(accountID: UUID, epoch: UInt32, recoveryWrappedKey: Data) {
        self.accountID = accountID
        self.epoch = epoch
        self.recoveryWrappedKey = recoveryWrappedKey
    }
}

/// `POST /api/v1/recover`: a new password for the same account key; every other device is signed out.
public struct RecoverRequest: Codable, Sendable {
    /// The account's address.
    public var email: String
    /// The code from the e-mail (used up by this request).
    public var emailCode: String
    /// Derived from the recovery code.
    public var recoveryAuthKey: Data
    /// The epoch the keys were made for.
    public var epoch: UInt32
    /// The new password's keys.
    public var keys: PasswordKeys
    /// This device.
    public var device: DeviceInfo
    /// Creates a request.
    public init(
        email: String, emailCode: String, recoveryAuthKey: Data, epoch: UInt32, keys: PasswordKeys, device: DeviceInfo
    ) {
        self.email = email
        self.emailCode = emailCode
        self.recoveryAuthKey = recoveryAuthKey
        self.epoch = epoch
        self.keys = keys
        self.device = device
    }
}

/// `POST /api/v1/account/reset/check`: what a reset code allows, before anything changes.
public struct ResetCheckRequest: Codable, Sendable {
    /// The account's address.
    public var email: String
    /// The code from the e-mail or the portal.
    public var code: String
    /// Creates a request.
    public init(email: String, code: String) {
        self.email = email
        self.code = code
    }
}

/// What a reset would do, and what still works without one.
public struct ResetCheckResponse: Codable, Sendable, Equatable {
    /// The account (it keeps its id across resets).
    public var accountID: UUID
    /// The epoch the new keys must be made for.
    public var newEpoch: UInt32
    /// Whether the reset already happened (in the portal) and only new keys are missing.
    public var awaitingKeys: Bool
    /// Devices still signed in: each one still holds the data and can move it into the new account.
    public var devices: [DeviceSummary]
    /// Days the current data stays in quarantine after a reset.
    public var quarantineDays: Int
    /// Creates a response.
    public init(accountID: UUID, newEpoch: UInt32, awaitingKeys: Bool, devices: [DeviceSummary], quarantineDays: Int) {
        self.accountID = accountID
        self.newEpoch = newEpoch
        self.awaitingKeys = awaitingKeys
        self.devices = devices
        self.quarantineDays = quarantineDays
    }
}

/// `POST /api/v1/account/reset`: quarantines the current epoch (unless the portal already did) and
/// installs a new account key made by this client.
public struct ResetRequest: Codable, Sendable {
    /// The account's address.
    public var email: String
    /// The code (used up by this request).
    public var code: String
    /// The epoch the keys were made for (`newEpoch` from the check).
    public var epoch: UInt32
    /// The new password's keys.
    public var passwordKeys: PasswordKeys
    /// The new recovery code's keys.
    public var recoveryKeys: RecoveryKeys
    /// This device.
    public var device: DeviceInfo
    /// Creates a request.
    public init(
        email: String, code: String, epoch: UInt32, passwordKeys: PasswordKeys, recoveryKeys: RecoveryKeys,
        device: DeviceInfo
    ) {
        self.email = email
        self.code = code
        self.epoch = epoch
        self.passwordKeys = passwordKeys
        self.recoveryKeys = recoveryKeys
        self.device = device
    }
}

/// One reset's quarantined data, for `GET /api/v1/account/quarantine`: what a session of the new
/// epoch may know. The old keys and records are not here: they are released only to a request that
/// proves the old password or recovery code (``QuarantineProof``), because a reset needs nothing but
/// the mailbox, and whoever holds the mailbox must not get material for an offline attack.
public struct QuarantineSummary: Codable, Sendable, Equatable {
    /// The old epoch.
    public var epoch: UInt32
    /// When the account was reset.
    public var resetAt: Date
    /// From which client address.
    public var resetFrom: String?
    /// When it will be deleted.
    public var expiresAt: Date
    /// When it was deleted (on request or at expiry); `nil` while it can still be recovered.
    public var purgedAt: Date?
    /// Records held, including deleted ones.
    public var recordCount: Int
    /// The old password's Argon2id parameters, to derive the proof from the old password (what
    /// pre-login tells anyone about a current account); kept after a purge, for that epoch's backups.
    public var kdf: WireKDF?
    /// The old password's salt.
    public var salt: Data?
    /// Creates a summary.
    public init(
        epoch: UInt32, resetAt: Date, resetFrom: String?, expiresAt: Date, purgedAt: Date?, recordCount: Int,
        kdf: WireKDF?, salt: Data?
    ) {
        self.epoch = epoch
        self.resetAt = resetAt
        self.resetFrom = resetFrom
        self.expiresAt = expiresAt
        self.purgedAt = purgedAt
        self.recordCount = recordCount
        self.kdf = kdf
        self.salt = salt
    }
}

/// Proof of a secret from before a reset, for `POST /api/v1/account/quarantine/{epoch}/open`: the
/// authentication key the old password or the old recovery code derives, never the secret itself.
public enum QuarantineProof: Codable, Sendable, Equatable {
    /// The old master password's authentication key (Argon2id with the quarantine's `kdf` and `salt`).
    case password(authKey: Data)
    /// The old recovery code's authentication key.
    case recoveryCode(recoveryAuthKey: Data)

    private enum CodingKeys: String, CodingKey {
        case authKey, recoveryAuthKey
    }

    /// Any key of the object, to refuse the ones a proof does not have.
    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads exactly one of `authKey` and `recoveryAuthKey`, and nothing else: a proof with other
    /// fields was not made by a Coffer client and is refused rather than half read.
    public init(from decoder: any Decoder) throws {
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter {
            CodingKeys(stringValue: $0) == nil
        }
        guard unknown.isEmpty else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "Unknown fields \(unknown.sorted()); give only authKey or recoveryAuthKey."))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let authKey = try container.decodeIfPresent(Data.self, forKey: .authKey)
        let recoveryAuthKey = try container.decodeIfPresent(Data.self, forKey: .recoveryAuthKey)
        switch (authKey, recoveryAuthKey) {
        case (let key?, nil): self = .password(authKey: key)
        case (nil, let key?): self = .recoveryCode(recoveryAuthKey: key)
        default:
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "Give exactly one of authKey (old password) and recoveryAuthKey (old recovery code)."
                ))
        }
    }

    /// Writes the one key the proof carries.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .password(let key): try container.encode(key, forKey: .authKey)
        case .recoveryCode(let key): try container.encode(key, forKey: .recoveryAuthKey)
        }
    }
}

/// What a proven old secret releases: the old account key wrapped by that secret, the old epoch's
/// signed manifest and its records. The client still checks every record against the manifest.
public struct QuarantineRelease: Codable, Sendable, Equatable {
    /// The old epoch.
    public var epoch: UInt32
    /// The old account key, wrapped by the secret that was proven.
    public var wrappedKey: Data
    /// The old epoch's signed manifest; absent when the old vault was empty and never published one.
    public var manifest: WireManifest?
    /// The old epoch's records, deleted ones included.
    public var records: [WireRecord]
    /// Creates a release.
    public init(epoch: UInt32, wrappedKey: Data, manifest: WireManifest?, records: [WireRecord]) {
        self.epoch = epoch
        self.wrappedKey = wrappedKey
        self.manifest = manifest
        self.records = records
    }
}

/// A backup kept on the server, for `GET /api/v1/backups`. The server cannot open it.
public struct ServerBackup: Codable, Sendable, Equatable {
    /// The backup's id (from its file header).
    public var id: UUID
    /// When the server received it.
    public var storedAt: Date
    /// Its size in bytes.
    public var size: Int
    /// The account's key epoch when it was uploaded. One from before a reset is released only to
    /// proof of the password or recovery code of that epoch (`POST /api/v1/backups/{id}/open`).
    public var epoch: UInt32?
    /// Creates a description.
    public init(id: UUID, storedAt: Date, size: Int, epoch: UInt32? = nil) {
        self.id = id
        self.storedAt = storedAt
        self.size = size
        self.epoch = epoch
    }
}

/// What a delayed deletion removes. Both are safety nets: the data a reset left behind, and a backup
/// kept on the server; neither may go at once on the word of one session.
public enum DeletionKind: String, Codable, Sendable, CaseIterable {
    /// Every quarantined epoch of the account.
    case quarantine
    /// One server-held backup.
    case backup
}

/// `POST /api/v1/account/deletions`: asks for a deletion, proven with the current password.
public struct DeletionRequest: Codable, Sendable {
    /// What to delete.
    public var what: DeletionKind
    /// The backup, when `what` is `backup`.
    public var backupID: UUID?
    /// The current password's authentication key.
    public var currentAuthKey: Data
    /// Creates a request.
    public init(what: DeletionKind, backupID: UUID? = nil, currentAuthKey: Data) {
        self.what = what
        self.backupID = backupID
        self.currentAuthKey = currentAuthKey
    }
}

/// A deletion that was asked for and has not happened: it waits for the link mailed to the account's
/// address, then for the waiting period, and any signed-in device or the link's page can cancel it.
public struct PendingDeletion: Codable, Sendable, Equatable {
    /// The request's id (for cancelling).
    public var id: UUID
    /// What it deletes.
    public var what: DeletionKind
    /// The backup, when `what` is `backup`.
    public var backupID: UUID?
    /// When it was asked for.
    public var requestedAt: Date
    /// From which client address.
    public var requestedFrom: String?
    /// Until when the mailed link can confirm it; unconfirmed, it lapses then.
    public var confirmBy: Date
    /// When the link confirmed it; `nil` while unconfirmed.
    public var confirmedAt: Date?
    /// When it will happen; `nil` while unconfirmed.
    public var executesAt: Date?
    /// Creates a description.
    public init(
        id: UUID, what: DeletionKind, backupID: UUID?, requestedAt: Date, requestedFrom: String?, confirmBy: Date,
        confirmedAt: Date?, executesAt: Date?
    ) {
        self.id = id
        self.what = what
        self.backupID = backupID
        self.requestedAt = requestedAt
        self.requestedFrom = requestedFrom
        self.confirmBy = confirmBy
        self.confirmedAt = confirmedAt
        self.executesAt = executesAt
    }

    /// A sentence for people: what goes, and when (or what it waits for).
    public var summary: String {
        let target =
            switch what {
            case .quarantine: "the data kept from before an account reset"
            case .backup: "server backup \(backupID?.uuidString.lowercased() ?? "?")"
            }
        let stamp = Date.ISO8601FormatStyle(timeZone: .gmt)
        guard let executesAt else {
            return
                "Deletion of \(target) waits for the link mailed to the account (until \(confirmBy.formatted(stamp)))."
        }
        return "Deletion of \(target) happens at \(executesAt.formatted(stamp)) unless cancelled."
    }
}

/// `POST /api/v1/account/email-confirmation`: whether the account's address is confirmed, and whether
/// a new confirmation link was mailed (only while it is not). Codes for recovery and reset go only
/// to a confirmed address.
public struct EmailConfirmation: Codable, Sendable, Equatable {
    /// The account's address.
    public var email: String
    /// Whether its owner confirmed it.
    public var confirmed: Bool
    /// Whether a new link was mailed by this request.
    public var linkSent: Bool
    /// Creates a state.
    public init(email: String, confirmed: Bool, linkSent: Bool) {
        self.email = email
        self.confirmed = confirmed
        self.linkSent = linkSent
    }
}
