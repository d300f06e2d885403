public import CofferVault

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
    /// The disk holding the vault is full; nothing was written.
    case diskFull(path: String)
    /// The vault file or its folder cannot be written (permissions, a read-only file system).
    case notWritable(path: String)
    /// The vault file uses something a newer Coffer added (`detail` says what).
    case newerVault(path: String, detail: String)
    /// The records do not match the vault's sealed digest, or a stored value does not open.
    case integrity(CofferVaultError)

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
        case .diskFull(let path):
            return "The disk holding \(path) is full; nothing was saved. Free some space and run the command again."
        case .notWritable(let path):
            return
                "The vault file \(path) cannot be written (check its permissions and that its disk is not read-only); nothing was saved."
        case .newerVault(let path, let detail):
            return
                "The vault file \(path) was made by a newer Coffer (\(detail)). Update Coffer on this device; nothing was changed."
        case .integrity(let error):
            return error.description
        }
    }
}
