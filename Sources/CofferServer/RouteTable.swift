import Foundation
import Hummingbird
import Synchronization

/// Which methods each path of the API answers, so a known path asked with another method gets
/// `405 Method Not Allowed` and an `Allow` header, as HTTP says, instead of a 404.
///
/// Filled once, after every route is registered; read by the error middleware.
final class RouteTable: Sendable {
    private let entries: Mutex<[(segments: [Substring], method: HTTPRequest.Method)]> = Mutex([])

    /// Records the router's routes.
    func load(_ routes: [Router<CofferRequestContext>.RouteDescription]) {
        entries.withLock { $0 = routes.map { ("\($0.path)".split(separator: "/"), $0.method) } }
    }

    /// The methods `path` answers; empty when no route has that path.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == segments.count
                    && zip(entry.segments, segments).allSatisfy { pattern, segment in
                        pattern.hasPrefix(":") || pattern == segment
                    }
            }.map(\.method)
        }
    }
}
