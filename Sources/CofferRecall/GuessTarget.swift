import CofferBackup
import CofferCrypto
import CofferStore
public import CofferVault
import Crypto
import Foundation

/// A file on this device that a password opens, and so can tell whether a guess is right: a backup,
/// a vault file set aside by a reset (`before-reset/`), or a vault file. Guessing works only on such
/// files: each guess costs one Argon2id derivation here, and nothing is sent anywhere.
public struct GuessTarget: Sendable {
    /// What the file is, for the next step once the password is found.
    public enum Kind: Sendable {
        /// A Coffer backup file.
        case backup
        /// A vault file kept aside after an account reset.
        case archivedVault
        /// A vault file.
        case vault
    }

    /// What the file is.
    public let kind: Kind
    /// Where it is.
    public let path: String
    /// The password wrap a guess is tried against.
    public let header: AccountHeader

    /// Identifies the password wrap (hash of salt and wrapped key): a run resumes only on the same one.
    public var fingerprint: String {
        var hash = SHA256()
        hash.update(data: header.salt)
        hash.update(data: header.passwordWrappedKey.bytes)
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Recognises the file at `path`; a file that is none of the three is refused with what would do.
    public static func open(path: String) throws(RecallError) -> GuessTarget {
        if path.hasPrefix("http://") || path.hasPrefix("https://") || path == "server" || path == "quarantine" {
            throw .serverTarget
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path) }
        let start = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        let header: AccountHeader
        let kind: Kind
        if BackupFile.hasSignature(start) {
            do {
                header = try BackupFile.read(at: path).header.accountHeader()
            } catch {
                throw .damaged(path, error.description)
            }
            kind = .backup
        } else if start.starts(with: Array("SQLite format 3".utf8)) {
            do {
                header = try VaultStore.readHeader(at: path)
            } catch {
                throw .damaged(path, "\(error)")
            }
            kind = (path as NSString).deletingLastPathComponent.hasSuffix("before-reset") ? .archivedVault : .vault
        } else {
            throw .unknownFile(path)
        }
        do {
            _ = try header.kdfParameters.validated()
        } catch {
            throw .damaged(path, "its key-derivation parameters are out of range (\(error))")
        }
        return GuessTarget(kind: kind, path: path, header: header)
    }

    /// Whether `password` opens the file: one full Argon2id derivation and one unwrap.
    public func opens(with password: String) -> Bool {
        (try? header.unlock(password: password)) != nil
    }
}

/// Why a guessing run cannot start, as a sentence that says what to do instead.
public enum RecallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server's quarantine was named: it is no target for guessing.
    case serverTarget
    /// The file does not exist or cannot be read.
    case unreadable(String)
    /// Not a backup, archive or vault file.
    case unknownFile(String)
    /// A backup or vault file whose password wrap cannot be read.
    case damaged(String, String)

    /// The sentence shown to the user.
    public var description: String {
        let files =
            "a backup file (`coffer backup list` shows them), a vault file kept in before-reset/ next to your vault, or a vault file"
        switch self {
        case .serverTarget:
            return
                "Guessing does not work against the server's quarantine: there each try is a round trip, and only 10 wrong ones an hour are allowed, on purpose. Give \(files) instead: on this device, guesses are tried as fast as the computer allows and nothing is sent anywhere."
        case .unreadable(let path):
            return "\(path) does not exist or cannot be read by you. Give \(files)."
        case .unknownFile(let path):
            return
                "\(path) is not a Coffer backup or vault file, so no password can be tested against it. Give \(files)."
        case .damaged(let path, let detail):
            return "\(path) looks like a Coffer file but its password wrap cannot be read: \(detail)."
        }
    }
}
