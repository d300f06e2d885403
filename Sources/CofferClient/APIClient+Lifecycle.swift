public import CofferAPI
public import Foundation
import NIOHTTP1

extension APIClient {
    /// `POST /api/v1/account/password`.
    public func changePassword(_ request: PasswordChangeRequest, token: String) async throws(CofferClientError) {
        let _: Empty = try await send(.POST, "/api/v1/account/password", body: request, token: token)
    }

    /// `POST /api/v1/account/recovery-kit`.
    public func rotateRecoveryKit(_ request: RecoveryKitRequest, token: String) async throws(CofferClientError) {
        let _: Empty = try await send(.POST, "/api/v1/account/recovery-kit", body: request, token: token)
    }

    /// `POST /api/v1/account/email-code`.
    public func requestEmailCode(_ request: EmailCodeRequest) async throws(CofferClientError) {
        let _: Empty = try await send(.POST, "/api/v1/account/email-code", body: request)
    }

    /// `POST /api/v1/recover/prelogin`.
    public func recoverPrelogin(_ request: RecoverPreloginRequest) async throws(CofferClientError)
        -> RecoverPreloginResponse
    {
        try await send(.POST, "/api/v1/recover/prelogin", body: request)
    }

    /// `POST /api/v1/recover`.
    public func recover(_ request: RecoverRequest) async throws(CofferClientError) -> SessionResponse {
        try await send(.POST, "/api/v1/recover", body: request)
    }

    /// `POST /api/v1/account/reset/check`.
    public func resetCheck(_ request: ResetCheckRequest) async throws(CofferClientError) -> ResetCheckResponse {
        try await send(.POST, "/api/v1/account/reset/check", body: request)
    }

    /// `POST /api/v1/account/reset`.
    public func reset(_ request: ResetRequest) async throws(CofferClientError) -> SessionResponse {
        try await send(.POST, "/api/v1/account/reset", body: request)
    }

    /// `GET /api/v1/account/quarantine`.
    public func quarantines(token: String) async throws(CofferClientError) -> [QuarantineSummary] {
        try await send(.GET, "/api/v1/account/quarantine", body: Empty?.none, token: token)
    }

    /// `POST /api/v1/account/quarantine/{epoch}/open`: the old epoch's key and records, for proof of its
    /// password or recovery code.
    public func openQuarantine(epoch: UInt32, proof: QuarantineProof, token: String) async throws(CofferClientError)
        -> QuarantineRelease
    {
        try await send(.POST, "/api/v1/account/quarantine/\(epoch)/open", body: proof, token: token)
    }

    /// `POST /api/v1/account/deletions`: asks for a delayed deletion, confirmed by a mailed link.
    public func requestDeletion(_ request: DeletionRequest, token: String) async throws(CofferClientError)
        -> PendingDeletion
    {
        try await send(.POST, "/api/v1/account/deletions", body: request, token: token)
    }

    /// `GET /api/v1/account/deletions`.
    public func pendingDeletions(token: String) async throws(CofferClientError) -> [PendingDeletion] {
        try await send(.GET, "/api/v1/account/deletions", body: Empty?.none, token: token)
    }

    /// `DELETE /api/v1/account/deletions/{id}`.
    public func cancelDeletion(_ id: UUID, token: String) async throws(CofferClientError) {
        let _: Empty = try await send(
            .DELETE, "/api/v1/account/deletions/\(id.uuidString.lowercased())", body: Empty?.none, token: token)
    }
}

extension APIClient {
    /// `PUT /api/v1/backups/{id}`: keeps a sealed backup file on the server.
    public func uploadBackup(id: UUID, bytes: Data, token: String) async throws(CofferClientError) {
        _ = try await exchange(
            .PUT, "/api/v1/backups/\(id.uuidString.lowercased())", body: bytes, contentType: "application/octet-stream",
            token: token)
    }

    /// `POST /api/v1/backups/{id}/open`: a backup from before a reset, for proof of a secret of its epoch.
    public func downloadOldBackup(id: UUID, proof: QuarantineProof, token: String) async throws(CofferClientError)
        -> Data
    {
        let body: Data
        do {
            body = try JSONEncoder().encode(proof)
        } catch {
            throw .invalidResponse("the proof could not be encoded")
        }
        return try await exchange(
            .POST, "/api/v1/backups/\(id.uuidString.lowercased())/open", body: body, contentType: "application/json",
            token: token)
    }

    /// `GET /api/v1/backups`.
    public func backups(token: String) async throws(CofferClientError) -> [ServerBackup] {
        try await send(.GET, "/api/v1/backups", body: Empty?.none, token: token)
    }

    /// `GET /api/v1/backups/{id}`: the file's bytes.
    public func downloadBackup(id: UUID, token: String) async throws(CofferClientError) -> Data {
        try await exchange(
            .GET, "/api/v1/backups/\(id.uuidString.lowercased())", body: nil, contentType: "", token: token)
    }
}
