/// Problems with the device's vault file, as a sentence the user can act on.
public enum CofferStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No vault exists at the path yet.
    case noVault(path: String)
    /// A vault already exists where a new one was to be created.
    case vaultExists(path: String)
    /// SQLite reports the file as damaged or not a database.
    case corruptDatabase(path: String)
    /// Another process changed the vault between reading and writing.
    case concurrentChange
    /// The database could not be read or written for another reason.
    case database(String)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .noVault(let path):
            return "No vault at \(path). Create one with `coffer init`."
        case .vaultExists(let path):
            return
                "A vault already exists at \(path); nothing was changed. Use another COFFER_HOME to create a second one."
        case .corruptDatabase(let path):
            return
                "Integrity check failed: the vault file \(path) is damaged or was modified outside Coffer. Nothing was changed; restore it from a backup or another device."
        case .concurrentChange:
            return
                "The vault was changed by another Coffer process at the same time; nothing was saved. Run the command again."
        case .database(let reason):
            return "The vault file could not be read or written: \(reason)."
        }
    }
}
