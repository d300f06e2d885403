public import CofferModel
public import Foundation

/// What `coffer status` reports.
public struct VaultStatus: Codable, Sendable, Equatable {
    /// Live items.
    public var items: Int
    /// Live items per type.
    public var itemsByType: [ItemType: Int]
    /// Items in the trash.
    public var trash: Int
    /// Whether an agent holds the vault unlocked.
    public var locked: Bool
    /// The vault file.
    public var vaultPath: String
    /// Whether quick unlock by PIN is set in the agent.
    public var pinEnabled: Bool
    /// The sync server, for a connected vault.
    public var server: String?
    /// The account's e-mail address on that server.
    public var email: String?
    /// Local changes not yet on the server.
    public var pendingChanges: Int
    /// When a sync last completed.
    public var lastSyncedAt: Date?
    /// Why the last sync could not run (signed out, account reset), until one completes.
    public var syncProblem: String?

    /// Creates a status.
    public init(
        items: Int, itemsByType: [ItemType: Int], trash: Int, locked: Bool, vaultPath: String, pinEnabled: Bool,
        server: String? = nil, email: String? = nil, pendingChanges: Int = 0, lastSyncedAt: Date? = nil,
        syncProblem: String? = nil
    ) {
        self.lastSyncedAt = lastSyncedAt
        self.syncProblem = syncProblem
        self.server = server
        self.email = email
        self.pendingChanges = pendingChanges
        self.items = items
        self.itemsByType = itemsByType
        self.trash = trash
        self.locked = locked
        self.vaultPath = vaultPath
        self.pinEnabled = pinEnabled
    }
}

/// What recovering items from an older key epoch did.
public struct RecoveryMerge: Codable, Sendable, Equatable {
    /// Items that were not in the vault.
    public var added: Int
    /// Items the recovered copy was newer for.
    public var updated: Int
    /// Items already here as recovered (or newer here).
    public var unchanged: Int
}
