import CofferAPI
import CofferStore
import CofferVault
import Foundation

/// The device's sign-in: an access token while it lasts (kept sealed in the vault file, so a
/// no-change sync is one request), else a new one from the refresh token.
///
/// The server keeps a refresh token valid until its successor is used (docs/security.md), so a
/// device killed after the server rotated the token but before it saved the new one signs in with
/// the old one next time instead of being signed out.
struct SyncSession {
    let store: VaultStore
    let keyring: Keyring
    let now: @Sendable () -> Date

    /// A minute's margin: a token about to expire is not worth a request that fails halfway.
    static let margin: TimeInterval = 60

    func open(forceRefresh: Bool = false) async throws -> (api: APIClient, accessToken: String, state: SyncState) {
        guard let state = try store.syncState() else { throw CofferClientError.notSynced }
        let api = try APIClient(baseURL: state.serverURL)
        if !forceRefresh, let sealed = state.sealedAccessToken, let expiry = state.accessTokenExpiresAt,
            expiry.timeIntervalSince(now()) > Self.margin, let token = try? keyring.openToken(sealed)
        {
            return (api, token, state)
        }
        guard let sealedRefresh = state.sealedRefreshToken else {
            throw CofferClientError.signedOut("This device is signed out.")
        }
        let session = try await refresh(api, token: try keyring.openToken(sealedRefresh))
        CrashPoint.reached("token.rotated")
        try store.saveTokens(
            refresh: keyring.sealToken(session.refreshToken), access: keyring.sealToken(session.accessToken),
            accessExpiresAt: now().addingTimeInterval(TimeInterval(max(0, min(session.expiresIn, 86_400)))))
        return (api, session.accessToken, try store.syncState() ?? state)
    }

    private func refresh(_ api: APIClient, token: String) async throws -> SessionResponse {
        do {
            return try await api.refresh(token)
        } catch {
            if case .accountReset(let notice, _) = error {
                // Remembered so `coffer status` can say when and from where, even offline; local data stays.
                try store.saveResetNotice(notice)
            }
            if case .server(401, _, let message) = error { throw CofferClientError.signedOut(message) }
            throw error
        }
    }
}
