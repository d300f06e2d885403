public import CofferModel
import Foundation

/// Which items a listing covers: live ones, the trash, or both.
public enum ItemScope: String, Codable, Sendable {
    case live, trash, all

    func contains(_ item: Item) -> Bool {
        switch self {
        case .live: !item.isTrashed
        case .trash: item.isTrashed
        case .all: true
        }
    }
}

/// A listing filter, as `coffer list` flags express it.
public struct ItemFilter: Codable, Sendable, Equatable {
    /// Live, trash or all.
    public var scope: ItemScope
    /// Only items of this type.
    public var type: ItemType?
    /// Only items with this tag (case-insensitive).
    public var tag: String?
    /// Only favourites.
    public var favoritesOnly: Bool

    /// Creates a filter; the default lists all live items.
    public init(scope: ItemScope = .live, type: ItemType? = nil, tag: String? = nil, favoritesOnly: Bool = false) {
        self.scope = scope
        self.type = type
        self.tag = tag
        self.favoritesOnly = favoritesOnly
    }

    /// Whether `item` passes.
    public func matches(_ item: Item) -> Bool {
        guard scope.contains(item) else { return false }
        if let type, item.type != type { return false }
        if let tag, !item.tags.contains(where: { $0.caseInsensitiveCompare(tag) == .orderedSame }) { return false }
        if favoritesOnly && !item.isFavorite { return false }
        return true
    }
}
