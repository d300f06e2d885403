import CofferAPI
public import CofferClient
import CofferVault
public import Foundation

/// Syncs with the server now.
public struct SyncNow: VaultCall {
    /// The call's name on the socket.
    public static let name = "sync"
    /// Whether the user agreed to put back on the server what it lost (restored from a backup).
    public var healsServer: Bool

    /// A sync; with `healsServer`, one that re-uploads what the server lost.
    public init(healsServer: Bool = false) { self.healsServer = healsServer }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> SyncReport {
        try vault.sync(healing: healsServer ? .allowed : .refused)
    }
}

/// The account's signed-in devices.
public struct ListDevices: VaultCall {
    /// The call's name on the socket.
    public static let name = "devices"

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [DeviceListing] {
        try vault.session.withServer { api, token in try await api.devices(token: token) }.map(DeviceListing.init)
    }
}

/// Signs a device out.
public struct RevokeDevice: VaultCall {
    /// The call's name on the socket.
    public static let name = "revoke-device"
    /// The device's id, from ``ListDevices``.
    public var id: UUID

    /// Signs device `id` out.
    public init(id: UUID) { self.id = id }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Done {
        try vault.session.withServer { [id] api, token in try await api.revokeDevice(id, token: token) }
        return Done()
    }
}

/// The account's events (sign-ins, password changes, resets), newest first.
public struct ListAccountEvents: VaultCall {
    /// The call's name on the socket.
    public static let name = "account-events"

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [AccountEventListing] {
        try vault.session.withServer { api, token in try await api.events(token: token) }.map(AccountEventListing.init)
    }
}

/// Mails a new address-confirmation link unless the address is confirmed.
public struct SendEmailConfirmation: VaultCall {
    /// The call's name on the socket.
    public static let name = "confirm-email"

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> EmailConfirmationState {
        EmailConfirmationState(try vault.session.withServer { api, token in try await api.confirmEmail(token: token) })
    }
}

/// Deletions of safety nets asked for and not yet carried out.
public struct ListPendingDeletions: VaultCall {
    /// The call's name on the socket.
    public static let name = "pending-deletions"

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [PendingDeletionListing] {
        try vault.session.withServer { api, token in try await api.pendingDeletions(token: token) }
            .map(PendingDeletionListing.init)
    }
}

/// Cancels a pending deletion (no password needed: cancelling never loses data).
public struct CancelDeletion: VaultCall {
    /// The call's name on the socket.
    public static let name = "cancel-deletion"
    /// The deletion's id, from ``ListPendingDeletions``.
    public var id: UUID

    /// Cancels deletion `id`.
    public init(id: UUID) { self.id = id }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Done {
        try vault.session.withServer { [id] api, token in try await api.cancelDeletion(id, token: token) }
        return Done()
    }
}

/// Signs this device out and makes the vault local-only.
public struct SignOut: VaultCall {
    /// The call's name on the socket.
    public static let name = "sign-out"

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Done {
        let (store, keyring) = (vault.session.store, vault.session.keyring)
        try AsyncBridge.wait { try await AccountFlows.logout(store: store, keyring: keyring) }
        try vault.session.refreshIfChanged()
        return Done()
    }
}
