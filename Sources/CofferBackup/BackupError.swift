import Foundation

/// What can go wrong with a backup file, as a sentence that says what to do. Every case leaves the
/// vault unchanged.
public enum BackupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a Coffer backup at all.
    case notABackup(String)
    /// Made by a newer Coffer.
    case newerVersion(found: Int, supported: Int)
    /// Cut short or altered.
    case damaged(String)
    /// The secret given does not open it; lists the ones that would.
    case wrongSecret(opensWith: [String])
    /// A backup of another account.
    case otherAccount
    /// The file named is not there or not readable.
    case unreadable(String)
    /// Reading or writing failed.
    case io(String)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .notABackup(let what):
            return "\(what) is not a Coffer backup (it does not start with the backup signature). Nothing was changed."
        case .newerVersion(let found, let supported):
            return
                "This backup was made by a newer Coffer (format \(found); this one reads up to \(supported)). Update Coffer to open it. Nothing was changed."
        case .damaged(let detail):
            return
                "The backup is damaged or incomplete: \(detail). Nothing was changed; use another backup (`coffer backup list`)."
        case .wrongSecret(let secrets):
            return
                "That secret does not open this backup. It opens with \(secrets.joined(separator: ", or ")). Nothing was changed."
        case .otherAccount:
            return
                "This backup belongs to another Coffer account; it opens only with that account's password or recovery code. Nothing was changed."
        case .unreadable(let path):
            return
                "\(path) cannot be read: it does not exist or is not readable by you. `coffer backup list` shows your backups."
        case .io(let detail):
            return "The backup could not be read or written: \(detail)."
        }
    }
}
