import CofferStore
import CofferVault

/// Moves a vault that no sync server has ever seen from JSON items to content format 2
/// (``ItemContentFormat``), once, right after an unlock: about a third of the file, and faster
/// opening, for a vault made by a Coffer from before format 2.
///
/// Only such a vault moves by itself: it has no other devices, so nothing that reads it can be
/// older than this build. A vault that has synced waits for the account-level switch. The move is
/// reversible: an automatic backup (JSON, which every Coffer restores) is taken first, and without
/// one nothing moves. Each chunk of items moves in one transaction, so an interrupted move leaves
/// every record whole, in one format or the other, and the next unlock moves the rest.
enum ContentFormatMove {
    /// Moves `session`'s vault when it is due; any failure leaves it as it was, writing JSON.
    static func runIfDue(_ session: VaultSession, paths: ProfilePaths) {
        guard !session.isEmpty, session.keyring.contentFormat == .json,
            (try? session.store.neverSynced()) == true,
            let backups = BackupService.automatic(for: session, paths: paths),
            (try? backups.create(automatic: true)) != nil
        else { return }
        try? session.moveItems(to: .compact)
    }
}
