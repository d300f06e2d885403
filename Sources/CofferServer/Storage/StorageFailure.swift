import Foundation

/// Why the database could not do what a request needed, in words an operator can act on. Routes
/// answer 507 or 503 with `Retry-After`, and the log names the cause; nothing acknowledged is lost.
public enum StorageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The disk (or the database's size limit) is full.
    case full
    /// The database or its directory cannot be written (permissions, a read-only file system).
    case readOnly
    /// The database file was removed or replaced while the server runs.
    case fileMissing(path: String)
    /// Another failure, named by the database.
    case unavailable(String)

    /// For the log and `/health/ready`.
    public var description: String {
        switch self {
        case .full: "the disk holding the database is full"
        case .readOnly: "the database cannot be written (read-only file system or permissions)"
        case .fileMissing(let path): "the database file \(path) was removed or replaced while the server runs"
        case .unavailable(let reason): "the database failed: \(reason)"
        }
    }
}
