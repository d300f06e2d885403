import CofferAPI
import Foundation
import Hummingbird

/// Backups a client chose to keep on the server, so a new device can list and restore them. They are
/// sealed by the client; the server checks only the file signature and keeps the newest few.
struct BackupRoutes: Sendable {
    let storage: any ServerStorage
    /// Backups kept per account; older ones are dropped when a new one arrives.
    static let keptPerAccount = 10
    /// The largest backup accepted.
    static let maximumSize = 64 * 1024 * 1024

    func register(on authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.get("/api/v1/backups") { _, context in try await list(context) }
        authenticated.put("/api/v1/backups/:backupID") { request, context in try await store(request, context) }
        authenticated.get("/api/v1/backups/:backupID") { _, context in try await fetch(context) }
    }

    private func backupID(_ context: CofferRequestContext) throws -> UUID {
        guard let id = context.parameters.get("backupID", as: UUID.self) else {
            throw APIError.badRequest("The backup id is not a UUID; GET /api/v1/backups lists them.")
        }
        return id
    }

    private func list(_ context: CofferRequestContext) async throws -> JSONResponse<[ServerBackup]> {
        JSONResponse(try await storage.backups(accountID: try context.requireSession().accountID))
    }

    private func store(_ request: Request, _ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let session = try context.requireSession()
        let id = try backupID(context)
        let body = try await request.body.collect(upTo: Self.maximumSize)
        let blob = Data(body.readableBytesView)
        guard blob.starts(with: Data("COFFERBK".utf8)) else {
            throw APIError.badRequest("The body is not a Coffer backup file.")
        }
        try await storage.storeBackup(
            accountID: session.accountID, id: id, blob: blob, now: Date(), keep: Self.keptPerAccount)
        return .noContent
    }

    private func fetch(_ context: CofferRequestContext) async throws -> Response {
        let session = try context.requireSession()
        guard let blob = try await storage.backup(accountID: session.accountID, id: try backupID(context)) else {
            throw APIError(
                .notFound, "backup-not-found", "No backup with that id is kept; `coffer backup list --server`.")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: blob)))
    }
}
