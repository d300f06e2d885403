public import CofferModel
import Foundation

/// Which items a listing covers: live ones, the trash, or both.
public enum ItemScope: String, Codable, Sendable {
    case live, trash, all

    func contains(_ item: Item) -> Bool { contains(isTrashed: item.isTrashed) }

    func contains(_ summary: ItemSummary) -> Bool { contains(isTrashed: summary.isTrashed) }

    private func contains(isTrashed: Bool) -> Bool {
        switch self {
        case .live: !isTrashed
        case .trash: isTrashed
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
    /// Only items with a URL on this host, `host` or `host:port` in lower case (git's credential
    /// helper), so only the logins a remote needs cross the agent's socket.
    public var host: String?

    /// Creates a filter; the default lists all live items.
    public init(
        scope: ItemScope = .live, type: ItemType? = nil, tag: String? = nil, favoritesOnly: Bool = false,
        host: String? = nil
    ) {
        self.scope = scope
        self.type = type
        self.tag = tag
        self.favoritesOnly = favoritesOnly
        self.host = host
    }

    /// Whether `item` passes.
    public func matches(_ item: Item) -> Bool {
        guard scope.contains(item) else { return false }
        if let type, item.type != type { return false }
        if let tag, !item.tags.contains(where: { $0.caseInsensitiveCompare(tag) == .orderedSame }) { return false }
        if favoritesOnly && !item.isFavorite { return false }
        if let host, !Self.hasURL(on: host, item) { return false }
        return true
    }

    /// Whether one of `item`'s URLs is on `host` (and port); a URL without a scheme counts as https.
    static func hasURL(on host: String, _ item: Item) -> Bool {
        item.urls.contains { text in
            let candidate = text.contains("://") ? text : "https://" + text
            guard let url = URLComponents(string: candidate), let itemHost = url.host?.lowercased() else {
                return false
            }
            return itemHost + (url.port.map { ":\($0)" } ?? "") == host
        }
    }
}
