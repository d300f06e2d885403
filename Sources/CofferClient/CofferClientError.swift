public import CofferCrypto
public import CofferStore
public import Foundation

/// What can go wrong talking to a server or syncing, as a sentence the user can act on.
public enum CofferClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server did not answer.
    case unreachable(server: String)
    /// A plain-HTTP address that is not this machine.
    case unencrypted(server: String)
    /// The server's TLS certificate is not signed by an authority this device trusts, or names another host.
    case untrustedCertificate(server: String, detail: String)
    /// `SSL_CERT_FILE`, `SSL_CERT_DIR` or a CA file names something that is not usable.
    case trustSettings(String)
    /// The server did not finish its answer in time.
    case timedOut(server: String, after: Duration)
    /// The server answered with an error body.
    case server(status: Int, code: String, message: String)
    /// The server answered something that is not the API.
    case invalidResponse(String)
    /// The server's data does not match the vault's manifest: something was dropped, injected or rolled back.
    case manifestMismatch(String)
    /// The server served an older manifest than this device has seen.
    case rollback(seen: Int64, served: Int64)
    /// The server lacks writes this device has seen (restored from a backup, or tampered with); the
    /// device can put them back with the user's consent (`coffer sync --yes`).
    case serverLostData(ServerLoss)
    /// This vault is not connected to a server.
    case notSynced
    /// The session ended; the user must sign in again.
    case signedOut(String)
    /// The account was reset elsewhere: this device keeps its data and may move it into the new account.
    case accountReset(AccountResetNotice, message: String)
    /// A lifecycle step that cannot go on, with what to do instead.
    case lifecycle(String)
    /// The server asked for a cheaper key derivation than this device accepts for the account.
    case weakerKDF(offered: KDFParameters, expected: KDFParameters)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .unreachable(let server):
            return
                "Cannot reach the server at \(server). Your changes are kept on this device and sync when it is back."
        case .unencrypted(let server):
            return
                "\(server) is not encrypted: Coffer talks to a server over TLS (https://), and plain http:// only to this machine (127.0.0.1, ::1, localhost). Put the server behind a TLS reverse proxy (docs/operations.md) and use its https:// address."
        case .untrustedCertificate(let server, let detail):
            return
                "The server's certificate is not trusted: \(detail). Nothing was sent to \(server). If the server uses a private certificate authority, give its certificate with --ca-file PATH at `coffer login` (or set SSL_CERT_FILE); otherwise the connection may be intercepted."
        case .trustSettings(let message):
            return message
        case .timedOut(let server, let after):
            return
                "The server at \(server) did not finish answering within \(after.components.seconds) seconds. Nothing from it was applied; your changes are kept on this device and sync when it answers."
        case .server(_, _, let message):
            return message
        case .invalidResponse(let detail):
            return "The server gave an answer Coffer does not understand (\(detail)). Check the server URL."
        case .manifestMismatch(let detail):
            return
                "The server's data failed Coffer's integrity checks: \(detail). Nothing from this sync was applied; your local data is unchanged. The server may be faulty or tampered with."
        case .rollback(let seen, let served):
            return
                "The server sent an older state of your vault (version \(served), this device has seen \(seen)). Nothing was applied; your local data is unchanged."
        case .serverLostData(let loss):
            return loss.description
        case .notSynced:
            return
                "This vault is not connected to a server. Connect it with `coffer register --server URL --email ADDRESS`."
        case .signedOut(let message):
            // The server's sentence usually says how to sign in again already; say it once.
            guard !message.contains("coffer login") else { return message }
            return "\(message) Your data on this device is kept; sign in again with `coffer login`."
        case .accountReset(_, let message), .lifecycle(let message):
            return message
        case .weakerKDF(let offered, let expected):
            return
                "The server asks this device to derive your key with weaker Argon2id parameters (\(offered)) than it expects for this account (\(expected)). A hostile server does this to make your password cheaper to attack, so nothing was derived or sent. If you lowered them yourself, pass --accept-weaker-kdf."
        }
    }
}

/// What a device knows when a server turns out to lack writes the device saw.
public struct ServerLoss: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The newest manifest version this device has seen.
    public var seen: Int64
    /// The version the server holds now.
    public var served: Int64
    /// When the server's operator recorded a restore from a backup, if they did.
    public var restoredAt: Date?

    /// The explanation, and the way on.
    public var description: String {
        let what =
            restoredAt.map {
                "The server's operator restored it from a backup on \($0.formatted(date: .abbreviated, time: .shortened)), so it may lack changes this device holds"
            }
            ?? (served < seen
                ? "The server holds an older state of your vault (version \(served)) than this device has seen (version \(seen))"
                : "The server showed two different versions of your vault under the same number (\(served))")
            + ". That happens when a server is restored from a backup without its operator recording it, or when it is tampered with"
        return
            "\(what). Nothing from the server was applied and this device keeps all its data. `coffer sync --yes` puts back on the server what this device holds (the device takes nothing older from it, whatever the cause); until then this device does not sync."
    }
}
