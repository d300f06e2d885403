public import CofferAPI
public import Foundation

/// Devices and their tokens: sign-in, access, refresh rotation, sign-out.
public protocol SessionRepository: Sendable {
    /// Records a sign-in: creates or renames the device and sets its refresh token hash.
    /// Returns whether the device is new to the account.
    func signIn(accountID: UUID, device: DeviceInfo, refreshHash: Data, now: Date) async throws -> Bool
    /// Stores an access token hash.
    func addAccessToken(hash: Data, accountID: UUID, deviceID: UUID, expiresAt: Date) async throws
    /// The session an unexpired access token belongs to.
    func session(accessHash: Data, now: Date) async throws -> AuthenticatedSession?
    /// Exchanges a refresh token for a new pending one and an access token, in one transaction.
    ///
    /// The presented token stays valid until its successor is used, so a device that never received
    /// the successor can try again; a token older than that (used before its successor was) is a
    /// replay, and signs the device out. A device that has not refreshed since `unusedSince` is
    /// signed out instead (``RefreshOutcome/expiredUnused``).
    func refresh(
        presentedHash: Data, successorHash: Data, access: NewAccessToken, now: Date, unusedSince: Date
    ) async throws -> RefreshOutcome
    /// Signs out the device holding this refresh token (current or pending); returns it.
    func signOut(refreshHash: Data) async throws -> (accountID: UUID, deviceID: UUID)?
    /// Deletes access tokens that expired before `cutoff`; returns how many.
    func deleteExpiredAccessTokens(before cutoff: Date) async throws -> Int
    /// Signs a device out: its refresh and access tokens stop working.
    func revokeDevice(accountID: UUID, deviceID: UUID) async throws -> Bool
    /// The account's signed-in devices.
    func devices(accountID: UUID) async throws -> [StoredDevice]
}

/// A device as stored.
public struct StoredDevice: Sendable, Equatable {
    /// The device.
    public var id: UUID
    /// Its name.
    public var name: String
    /// First sign-in.
    public var createdAt: Date
    /// Last request.
    public var lastSeenAt: Date
}

/// An access token to store with a refresh: its hash and expiry.
public struct NewAccessToken: Sendable {
    /// SHA-256 of the token.
    public var hash: Data
    /// When it stops working.
    public var expiresAt: Date

    /// Creates a value.
    public init(hash: Data, expiresAt: Date) {
        self.hash = hash
        self.expiresAt = expiresAt
    }
}

/// What happened to a refresh token.
public enum RefreshOutcome: Sendable, Equatable {
    /// Swapped; the session continues.
    case rotated(accountID: UUID, deviceID: UUID)
    /// An already used token came back: someone copied it. The device is signed out.
    case replayed(accountID: UUID, deviceID: UUID)
    /// The device was signed out by an account change; the client is told which.
    case revoked(accountID: UUID, reason: RevocationReason)
    /// The device had not refreshed since before the cutoff: a sign-in left unused that long (a lost
    /// or forgotten device) ends, and the device was signed out.
    case expiredUnused
    /// Not a token this server issued (or the device was revoked).
    case unknown
}

/// Why an account change signed a device out, so the device can say what to do next.
public enum RevocationReason: String, Sendable {
    /// The password changed elsewhere: sign in with the new one, local data stays.
    case passwordChanged = "password-changed"
    /// The password was reset with the recovery code.
    case recovered
    /// The account was reset: a new key epoch, the old data quarantined.
    case accountReset = "account-reset"
}
