public import CofferAgentTransport
public import CofferModel
public import Foundation

/// The vault's status: counts, sync state, lock state.
public struct ReadStatus: VaultCall {
    /// The call's name on the socket.
    public static let name = "status"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local

    /// The call.
    public init() {}

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) -> VaultStatus {
        vault.session.status(isLocked: vault.isLocked, pinEnabled: vault.pinEnabled)
    }
}

/// Whole items passing a filter (export, recovery, git-credential's host match).
public struct ListItems: VaultCall {
    /// The call's name on the socket.
    public static let name = "list"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// Which items.
    public var filter: ItemFilter

    /// The items passing `filter`.
    public init(_ filter: ItemFilter) { self.filter = filter }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> ItemBatch { ItemBatch(try vault.session.list(filter)) }
}

/// Whole items matching a query, best first.
public struct SearchItems: VaultCall {
    /// The call's name on the socket.
    public static let name = "search"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// What to look for.
    public var query: String
    /// Which items may match.
    public var filter: ItemFilter

    /// The items passing `filter` that match `query`.
    public init(_ query: String, filter: ItemFilter) {
        self.query = query
        self.filter = filter
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> ItemBatch {
        ItemBatch(try vault.session.search(query, filter: filter))
    }
}

/// Summaries of the items passing a filter and, with a query, matching it best first: what `coffer
/// list` and `coffer search` print, without any item's secrets crossing the socket.
public struct ListSummaries: VaultCall {
    /// The call's name on the socket.
    public static let name = "summaries"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// Which items.
    public var filter: ItemFilter
    /// What to look for; `nil` lists in display order.
    public var query: String?

    /// Summaries of the items passing `filter` and matching `query`.
    public init(_ filter: ItemFilter, query: String? = nil) {
        self.filter = filter
        self.query = query
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> SummaryBatch {
        SummaryBatch(try vault.session.summaries(filter, query: query))
    }
}

/// The one item a name (title, id or id prefix) means; `.ambiguous` with the candidates otherwise.
public struct ResolveItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "resolve"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// What the user typed.
    public var itemName: String
    /// Where to look.
    public var scope: ItemScope

    /// The item `name` means among `scope`.
    public init(_ name: String, scope: ItemScope) {
        itemName = name
        self.scope = scope
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item { try vault.session.resolve(itemName, scope: scope) }
}

/// The values secret references name, in order; all or nothing.
public struct ResolveReferences: VaultCall {
    /// The call's name on the socket.
    public static let name = "resolve-references"
    /// Answered from memory or the vault file.
    public static let patience = AnswerPatience.local
    /// The references, in the order the answer follows.
    public var references: [SecretReference]

    /// The values of `references`.
    public init(_ references: [SecretReference]) { self.references = references }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> [String] {
        let now = Date()
        return try references.map { reference throws(AgentFailure) in try vault.session.value(of: reference, at: now) }
    }
}

/// Adds an item; answers with it as saved.
public struct AddItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "add"
    /// The new item.
    public var item: Item

    /// Adds `item`.
    public init(_ item: Item) { self.item = item }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item { try vault.syncingAfter { try vault.session.add(item) } }
}

/// Saves an edited item (guarded against changes made since it was read); answers with it as saved.
public struct UpdateItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "update"
    /// The edited item.
    public var item: Item

    /// Saves `item`.
    public init(_ item: Item) { self.item = item }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item {
        try vault.syncingAfter { try vault.session.update(item) }
    }
}

/// Moves an item to the trash.
public struct TrashItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "trash"
    /// The item's id.
    public var id: UUID

    /// Trashes item `id`.
    public init(id: UUID) { self.id = id }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item { try vault.syncingAfter { try vault.session.trash(id) } }
}

/// Takes an item out of the trash.
public struct RestoreItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "restore"
    /// The item's id.
    public var id: UUID

    /// Restores item `id`.
    public init(id: UUID) { self.id = id }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item {
        try vault.syncingAfter { try vault.session.restore(id) }
    }
}

/// Deletes a trashed item for good (backups still hold it).
public struct PurgeItem: VaultCall {
    /// The call's name on the socket.
    public static let name = "purge"
    /// The item's id.
    public var id: UUID

    /// Purges item `id`.
    public init(id: UUID) { self.id = id }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> Item { try vault.syncingAfter { try vault.session.purge(id) } }
}

/// Adds items recovered from an older key epoch (a device archive or the server's quarantine),
/// re-encrypted under the current account key; see ``VaultSession/mergeRecovered(_:)``.
public struct MergeRecovered: VaultCall {
    /// The call's name on the socket.
    public static let name = "merge-recovered"
    /// The recovered items.
    public var items: ItemBatch

    /// Merges `items`.
    public init(_ items: [Item]) { self.items = ItemBatch(items) }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> RecoveryMerge {
        try vault.syncingAfter { try vault.session.mergeRecovered(items.elements) }
    }
}

/// Imports items, finding duplicates among the vault's items here (none of them crosses the socket),
/// in one transaction; with `dryRun` only says what that would do.
public struct ImportItems: VaultCall {
    /// The call's name on the socket.
    public static let name = "import"
    /// The items read from the file.
    public var items: ItemBatch
    /// What to do with an item the vault already holds.
    public var duplicates: DuplicateChoice
    /// Only count.
    public var dryRun: Bool

    /// Imports `items`, or with `dryRun` says what that would do.
    public init(_ items: [Item], duplicates: DuplicateChoice, dryRun: Bool) {
        self.items = ItemBatch(items)
        self.duplicates = duplicates
        self.dryRun = dryRun
    }

    /// Answers on the unlocked vault.
    public func answer(in vault: VaultContext) throws -> ImportOutcome {
        let importing = { try vault.session.importItems(items.elements, duplicates: duplicates, dryRun: dryRun) }
        return try dryRun ? importing() : vault.syncingAfter(importing)
    }
}
