import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Which certificate authorities a device trusts for its server, and the one HTTP client built on them.
///
/// NIOSSL on Linux reads only Debian's bundle and ignores the variables every other TLS program honours,
/// so a server signed by a company's private CA looked unreachable. Trust here is, as with OpenSSL:
/// `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` (a hashed directory) replace the system's roots
/// when set, and the profile's own CA file (copied there by `--ca-file` at register or login) is
/// trusted in addition, so the background agent keeps trusting it without any environment.
public enum ServerTrust {
    /// The profile's CA file and the client built for the trust in force.
    private struct State {
        var profileCertificates: String?
        var client: HTTPClient?
        /// The CA file's modification time when `client` was made (`nil`: there was none).
        var clientMadeFor: Date?
        /// Clients made for an earlier trust, kept for the process's life: an HTTP client must be shut
        /// down before it goes, and a request may still be using one.
        var retired: [HTTPClient] = []

        mutating func retireClient() {
            if let client { retired.append(client) }
            client = nil
        }
    }

    private static let state = Mutex(State())

    /// Makes every later request also trust the PEM certificates in `path`, whenever that file exists.
    /// Called once per process with the profile's file; a file that appears or changes later (a
    /// sign-in with `--ca-file` while the agent runs) is picked up by the next request.
    public static func trustProfileCertificates(at path: String) {
        state.withLock {
            $0.profileCertificates = path
            $0.retireClient()
        }
    }

    /// Checks that `path` holds PEM certificates: what `--ca-file` accepts, before it is copied anywhere.
    public static func checkCertificates(inFile path: String) throws(CofferClientError) {
        _ = try certificates(inFile: path)
    }

    static func certificates(inFile path: String) throws(CofferClientError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .trustSettings(
                "\(path) is not a readable PEM certificate file (it should hold -----BEGIN CERTIFICATE----- blocks). Give the certificate of the authority that signed the server's certificate."
            )
        }
        guard !certificates.isEmpty else {
            throw .trustSettings("\(path) holds no PEM certificate. Give the certificate of the server's authority.")
        }
        return certificates
    }

    /// The process's HTTP client for the trust in force, made on first use. Fails fast when the server
    /// is down: every change works offline and syncs later, so nothing waits for a long connect timeout.
    static func client() throws(CofferClientError) -> HTTPClient {
        let profileFile = state.withLock { $0.profileCertificates }
        let fileVersion = profileFile.flatMap {
            (try? FileManager.default.attributesOfItem(atPath: $0))?[.modificationDate] as? Date
        }
        if let existing = state.withLock({ $0.clientMadeFor == fileVersion ? $0.client : nil }) { return existing }
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tlsConfiguration = try tlsConfiguration(
            environment: ProcessInfo.processInfo.environment, profileFile: profileFile)
        let made = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        return state.withLock { current in
            // Another thread may have made one for the same trust meanwhile; keep that one.
            if let existing = current.client, current.clientMadeFor == fileVersion {
                current.retired.append(made)
                return existing
            }
            current.retireClient()
            current.client = made
            current.clientMadeFor = fileVersion
            return made
        }
    }

    /// The TLS settings for `environment`'s variables and the profile's CA file.
    static func tlsConfiguration(environment: [String: String], profileFile: String?) throws(CofferClientError)
        -> TLSConfiguration
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        // As with OpenSSL, the variables replace the system's roots rather than adding to them. NIOSSL
        // reads a directory only as the main roots (hashed lookup) and loads additional roots as files.
        if let directory = environment["SSL_CERT_DIR"], !directory.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw .trustSettings(
                    "SSL_CERT_DIR names \(directory), which is not a directory. Point it at a directory of hashed CA certificates (c_rehash), or unset it."
                )
            }
            tls.trustRoots = .file(directory)
        }
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty {
            guard let loaded = try? certificates(inFile: file) else {
                throw .trustSettings(
                    "SSL_CERT_FILE names \(file), which is not a readable file of PEM certificates. Point it at your certificate bundle, or unset it."
                )
            }
            tls.additionalTrustRoots.append(.certificates(loaded))
            if tls.trustRoots == .default { tls.trustRoots = .certificates([]) }
        }
        if let profileFile, FileManager.default.fileExists(atPath: profileFile) {
            tls.additionalTrustRoots.append(.certificates(try certificates(inFile: profileFile)))
        }
        return tls
    }

    /// Why the server's certificate was refused, if that is why a connection failed: the user must hear
    /// "not trusted", not "cannot reach", or they look for a network problem that is not there.
    static func certificateProblem(_ error: any Error, host: String) -> String? {
        if let connection = error as? NIOConnectionError {
            return connection.connectionErrors.lazy.compactMap { certificateProblem($0.error, host: host) }.first
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "it is not made out to \(host)"
        }
        if case .handshakeFailed(let reason) = error as? NIOSSLError, "\(reason)".contains("CERTIFICATE_VERIFY_FAILED")
        {
            return "it is not signed by a certificate authority this device trusts, or it has expired"
        }
        return nil
    }
}
