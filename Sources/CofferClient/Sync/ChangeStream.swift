import AsyncHTTPClient
import CofferAPI
public import CofferStore
public import CofferVault
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The device's end of `GET /api/v2/changes`: hints that another device changed the account, so an
/// unlocked device syncs within moments instead of at its next command.
///
/// A hint is never trusted for anything but "sync now": the sync verifies whatever it pulls, as
/// always. The stream never refreshes the sign-in itself — two refreshes of one refresh token
/// racing each other would read as a copied token and sign the device out — it asks for a sync
/// (which refreshes) instead.
public struct ChangeStream: Sendable {
    let store: VaultStore
    let keyring: Keyring

    /// Why listening stopped.
    public enum End: Error, Equatable {
        /// There is no unexpired access token: sync first (the sync signs in again), then listen.
        case needsSync
        /// The server has no change stream (an older server): poll as before.
        case unsupported
        /// The connection ended or failed, or the server went silent; connect again after a pause.
        case disconnected
    }

    /// Silence after which the connection counts as dead: the server speaks every 15 seconds.
    static let silenceLimit: Duration = .seconds(45)
    /// The longest line read; announcements are a few dozen bytes.
    static let longestLine = 4096

    /// A stream for the device whose vault is `store`.
    public init(store: VaultStore, keyring: Keyring) {
        self.store = store
        self.keyring = keyring
    }

    /// Connects, calls `onConnected` once the server accepted, then `onChange` for each announced
    /// sequence above the device's cursor; returns `.disconnected` when the stream ends.
    public func listen(onConnected: @Sendable () -> Void, onChange: @escaping @Sendable () -> Void) async -> End {
        guard let state = try? store.syncState(), let sealed = state.sealedAccessToken,
            let expiry = state.accessTokenExpiresAt, expiry.timeIntervalSinceNow > SyncSession.margin,
            let token = try? keyring.openToken(sealed)
        else { return .needsSync }
        var request = HTTPClientRequest(url: state.serverURL + "/api/v2/changes")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response: HTTPClientResponse
        do {
            response = try await ServerTrust.client().execute(request, timeout: .seconds(30))
        } catch {
            return .disconnected
        }
        switch response.status.code {
        case 200: break
        case 401: return .needsSync
        case 404, 405: return .unsupported
        default: return .disconnected
        }
        onConnected()
        let store = store
        let heard = LastHeard()
        return await withTaskGroup(of: End.self) { group in
            group.addTask {
                var line: [UInt8] = []
                do {
                    for try await chunk in response.body {
                        heard.touch()
                        for byte in chunk.readableBytesView {
                            guard byte != 0x0A else {
                                if let sequence = ChangeAnnouncement.sequence(fromLine: line),
                                    sequence > (try? store.syncState())?.flatMap({ $0.cursor }) ?? 0
                                {
                                    onChange()
                                }
                                line.removeAll(keepingCapacity: true)
                                continue
                            }
                            guard line.count < Self.longestLine else { return .disconnected }
                            line.append(byte)
                        }
                    }
                } catch {}
                return .disconnected
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    if heard.silence > Self.silenceLimit { break }
                }
                return .disconnected
            }
            let end = await group.next() ?? .disconnected
            group.cancelAll()
            return end
        }
    }
}

/// When the server was last heard, shared by the reader and the watchdog.
private final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func touch() { instant.withLock { $0 = .now } }

    var silence: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
