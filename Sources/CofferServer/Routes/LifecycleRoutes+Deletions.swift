import CofferAPI
import Foundation
import Hummingbird

/// Deleting a safety net — the quarantine a reset left, or a backup kept on the server — takes the
/// current password, a link mailed to the account's address, and a waiting period during which any
/// signed-in device can cancel. One stolen session, or one stolen mailbox, is not enough to destroy
/// the way back (security.md).
extension LifecycleRoutes {
    func registerDeletions(on authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.post("/api/v1/account/deletions") { request, context in
            try await requestDeletion(request, context)
        }
        authenticated.get("/api/v1/account/deletions") { _, context in try await pendingDeletions(context) }
        authenticated.delete("/api/v1/account/deletions/:deletionID") { _, context in
            try await cancelDeletion(context)
        }
    }

    private func requestDeletion(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<
        PendingDeletion
    > {
        let body = try await request.decode(as: DeletionRequest.self, context: context)
        try Validation.key(body.currentAuthKey, "currentAuthKey")
        let account = try await reauthenticated(body.currentAuthKey, context)
        try await lifecycle.purgeExpired()
        switch body.what {
        case .quarantine:
            guard body.backupID == nil else {
                throw APIError.badRequest("A quarantine deletion names no backupID; leave it out.")
            }
            guard try await storage.quarantines(accountID: account.id).contains(where: { $0.purgedAt == nil }) else {
                throw APIError(.notFound, "no-quarantine", "The account keeps no data from before a reset.")
            }
        case .backup:
            guard let id = body.backupID else {
                throw APIError.badRequest("A backup deletion needs backupID; GET /api/v1/backups lists them.")
            }
            guard try await storage.backups(accountID: account.id).contains(where: { $0.id == id }) else {
                throw APIError(
                    .notFound, "backup-not-found", "No backup with that id is kept; `coffer backup list --server`.")
            }
        }
        let deletion = try await lifecycle.requestDeletion(
            of: body.what, backupID: body.backupID, account: account, address: context.clientAddress,
            deviceName: try context.requireSession().deviceName)
        return JSONResponse(deletion, status: .accepted)
    }

    private func pendingDeletions(_ context: CofferRequestContext) async throws -> JSONResponse<[PendingDeletion]> {
        let session = try context.requireSession()
        try await lifecycle.purgeExpired()
        return JSONResponse(try await storage.pendingDeletions(accountID: session.accountID, now: Date()))
    }

    /// Any signed-in device may cancel, without the password: stopping a deletion never loses data.
    private func cancelDeletion(_ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let session = try context.requireSession()
        guard let id = context.parameters.get("deletionID", as: UUID.self) else {
            throw APIError.badRequest("The deletion id is not a UUID; GET /api/v1/account/deletions lists them.")
        }
        try await lifecycle.purgeExpired()
        guard
            try await storage.cancelDeletion(
                accountID: session.accountID, id: id, now: Date(), event: context.event(.deletionCancelled))
        else {
            throw APIError(
                .notFound, "no-pending-deletion",
                "No pending deletion has that id: it was carried out, cancelled or never confirmed. GET /api/v1/account/deletions lists the pending ones."
            )
        }
        return .noContent
    }
}
