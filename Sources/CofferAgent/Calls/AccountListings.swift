public import CofferAPI
public import Foundation

// The agent protocol's own answers about the account. They are made from the server's HTTP types
// on the agent's side, so the server's API and the agent's protocol change shape independently:
// a field the server adds or renames changes these conversions, never what a running agent and a
// newer `coffer` exchange. The kinds (`AccountEventKind`, `DeletionKind`) are shared vocabulary.

/// A device signed in to the account.
public struct DeviceListing: Codable, Sendable, Equatable {
    /// The device's id (for `coffer devices revoke`).
    public var id: UUID
    /// Its name.
    public var name: String
    /// Its first sign-in.
    public var createdAt: Date
    /// Its last request.
    public var lastSeenAt: Date
    /// Whether it is this device.
    public var isCurrent: Bool

    /// The listing of what the server says about a device.
    public init(_ device: DeviceSummary) {
        id = device.id
        name = device.name
        createdAt = device.createdAt
        lastSeenAt = device.lastSeenAt
        isCurrent = device.isCurrent
    }
}

/// Something that happened to the account.
public struct AccountEventListing: Codable, Sendable, Equatable {
    /// What happened.
    public var kind: AccountEventKind
    /// When.
    public var at: Date
    /// From which device, when known.
    public var deviceName: String?
    /// From which client address, when known.
    public var clientAddress: String?

    /// The listing of an event the server reports.
    public init(_ event: AccountEvent) {
        kind = event.kind
        at = event.at
        deviceName = event.deviceName
        clientAddress = event.clientAddress
    }
}

/// A deletion of a safety net that was asked for and has not happened.
public struct PendingDeletionListing: Codable, Sendable, Equatable {
    /// The request's id (for `coffer account deletions cancel`).
    public var id: UUID
    /// What it deletes.
    public var what: DeletionKind
    /// The backup, when it deletes one.
    public var backupID: UUID?
    /// Until when the mailed link can confirm it.
    public var confirmBy: Date
    /// When it happens; `nil` while unconfirmed.
    public var executesAt: Date?
    /// What goes and when, or what it waits for, in a sentence.
    public var summary: String

    /// The listing of a pending deletion the server reports.
    public init(_ deletion: PendingDeletion) {
        id = deletion.id
        what = deletion.what
        backupID = deletion.backupID
        confirmBy = deletion.confirmBy
        executesAt = deletion.executesAt
        summary = deletion.summary
    }
}

/// Whether the account's address is confirmed, and whether a link was just mailed.
public struct EmailConfirmationState: Codable, Sendable, Equatable {
    /// The account's address.
    public var email: String
    /// Whether its owner confirmed it.
    public var confirmed: Bool
    /// Whether this call mailed a new link.
    public var linkSent: Bool

    /// The state the server reports.
    public init(_ confirmation: EmailConfirmation) {
        email = confirmation.email
        confirmed = confirmation.confirmed
        linkSent = confirmation.linkSent
    }
}

/// A backup kept on the server.
public struct ServerBackupListing: Codable, Sendable, Equatable {
    /// The backup's id (for `coffer backup download`).
    public var id: UUID
    /// When the server received it.
    public var storedAt: Date
    /// Its size in bytes.
    public var size: Int
    /// The account's key epoch when it was uploaded; an older one needs that epoch's secret.
    public var epoch: UInt32?

    /// The listing of a backup the server keeps.
    public init(_ backup: ServerBackup) {
        id = backup.id
        storedAt = backup.storedAt
        size = backup.size
        epoch = backup.epoch
    }
}
