import CofferAgentTransport
import CofferBackup
import CofferClient
import CofferCrypto
import CofferInterchange
public import CofferModel
import CofferSSH
import CofferStore
import CofferVault
public import Foundation

/// A short description of an item without any secret: what lists, search results and the candidates
/// of an ambiguous name show, so only the items a command asks for cross the agent's socket whole.
public struct ItemSummary: Codable, Sendable, Equatable {
    /// The item's id.
    public var id: UUID
    /// Its title.
    public var title: String
    /// Its type.
    public var type: ItemType
    /// Username or similar.
    public var subtitle: String
    /// Its tags.
    public var tags: [String]
    /// Marked as a favourite.
    public var isFavorite: Bool
    /// In the trash.
    public var isTrashed: Bool
    /// When it last changed.
    public var modified: Date

    /// A summary of these parts.
    public init(
        id: UUID, title: String, type: ItemType, subtitle: String, tags: [String], isFavorite: Bool, isTrashed: Bool,
        modified: Date
    ) {
        self.id = id
        self.title = title
        self.type = type
        self.subtitle = subtitle
        self.tags = tags
        self.isFavorite = isFavorite
        self.isTrashed = isTrashed
        self.modified = modified
    }

    /// Summarizes an item without any secret.
    public init(_ item: Item) {
        id = item.id
        title = item.title
        type = item.type
        subtitle = item.subtitle
        tags = item.tags
        isFavorite = item.isFavorite
        isTrashed = item.isTrashed
        modified = item.modified
    }
}

/// Every failure a vault operation reports, in or out of the agent: a kind for the exit code and
/// the sentence the user reads.
public struct AgentFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for choosing an exit code.
    public enum Kind: String, Codable, Sendable {
        case locked
        case notFound
        case ambiguous
        case wrongSecret
        case integrity
        case noVault
        case invalidInput
        case storage
        case agentUnavailable
        /// The server could not be reached; local data is intact.
        case offline
        /// The server refused or failed the request.
        case server
        /// The device's session on the server ended.
        case signedOut
        /// Too many attempts in a short time; the message says how long to wait.
        case rateLimited
        /// Something this command needs is missing on this machine (a clipboard tool, a display).
        case unavailable
        /// The server lacks writes this device holds; the user may let the device put them back.
        case serverLostData
    }

    /// What went wrong.
    public var kind: Kind
    /// The sentence the user reads: what is wrong and what to do.
    public var message: String
    /// Items the name could have meant, for `.ambiguous`.
    public var candidates: [ItemSummary]

    /// Creates a failure.
    public init(_ kind: Kind, _ message: String, candidates: [ItemSummary] = []) {
        self.kind = kind
        self.message = message
        self.candidates = candidates
    }

    /// The sentence shown to the user.
    public var description: String { message }

    /// Classifies an error from a lower layer; its description is already the user's sentence.
    public init(_ error: any Error) {
        switch error {
        case let failure as AgentFailure: self = failure
        case let vault as CofferVaultError:
            switch vault {
            case .wrongPassword, .wrongRecoveryCode, .wrongSecretFor: self.init(.wrongSecret, vault.description)
            case .integrity, .corruptRecord: self.init(.integrity, vault.description)
            // What is missing is a newer Coffer on this machine.
            case .newerContentFormat: self.init(.unavailable, vault.description)
            }
        case let store as CofferStoreError:
            switch store {
            case .noVault, .vaultExists: self.init(.noVault, store.description)
            case .corruptDatabase: self.init(.integrity, store.description)
            case .integrity: self.init(.integrity, store.description)
            case .newerVault: self.init(.unavailable, store.description)
            case .concurrentChange, .database, .diskFull, .notWritable: self.init(.storage, store.description)
            }
        case let crypto as CofferCryptoError:
            switch crypto {
            case .wrongKey: self.init(.wrongSecret, crypto.description)
            case .invalidRecoveryCode, .weakKDFParameters: self.init(.invalidInput, crypto.description)
            default: self.init(.integrity, crypto.description)
            }
        case let transport as TransportFailure:
            switch transport {
            case .brokenConnection, .tooLarge, .malformedFrame:
                self.init(.agentUnavailable, "\(transport) Run `coffer lock`, then unlock again.")
            case .cannotCreateSocket, .cannotListen, .cannotSpawn:
                self.init(.agentUnavailable, transport.description)
            }
        case let model as CofferModelError: self.init(.invalidInput, model.description)
        case let ssh as SSHKeyError:
            self.init(ssh == .wrongPassphrase ? .wrongSecret : .invalidInput, ssh.description)
        case let importError as ImportError:
            self.init(.invalidInput, importError.description)
        case let backup as BackupError:
            switch backup {
            case .wrongSecret: self.init(.wrongSecret, backup.description)
            case .damaged: self.init(.integrity, backup.description)
            case .notABackup, .newerVersion, .otherAccount, .unreadable: self.init(.invalidInput, backup.description)
            case .io: self.init(.storage, backup.description)
            }
        case let client as CofferClientError:
            switch client {
            case .unreachable, .timedOut, .untrustedCertificate: self.init(.offline, client.description)
            case .trustSettings: self.init(.invalidInput, client.description)
            case .manifestMismatch, .rollback, .weakerKDF: self.init(.integrity, client.description)
            case .serverLostData: self.init(.serverLostData, client.description)
            case .signedOut, .accountReset: self.init(.signedOut, client.description)
            case .lifecycle, .unencrypted: self.init(.invalidInput, client.description)
            case .server(let status, _, _) where status == 401: self.init(.wrongSecret, client.description)
            case .server(let status, _, _) where status == 429: self.init(.rateLimited, client.description)
            case .server, .invalidResponse: self.init(.server, client.description)
            case .notSynced: self.init(.invalidInput, client.description)
            }
        default: self.init(.storage, "Unexpected error (\(type(of: error))).")
        }
    }
}
