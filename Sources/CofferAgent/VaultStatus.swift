public import CofferModel

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

    /// Creates a status.
    public init(items: Int, itemsByType: [ItemType: Int], trash: Int, locked: Bool, vaultPath: String, pinEnabled: Bool)
    {
        self.items = items
        self.itemsByType = itemsByType
        self.trash = trash
        self.locked = locked
        self.vaultPath = vaultPath
        self.pinEnabled = pinEnabled
    }
}
