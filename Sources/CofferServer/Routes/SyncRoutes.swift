import CofferAPI
import Foundation
import Hummingbird
import Metrics

/// Pull, push and the manifest: the server stores and relays opaque records.
struct SyncRoutes: Sendable {
    let storage: any ServerStorage
    static let pullLimit = 1000
    static let pushLimit = 1000

    func register(on authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.get("/api/v1/sync") { request, context in try await pull(request, context) }
        authenticated.post("/api/v1/sync") { request, context in try await push(request, context) }
        authenticated.get("/api/v1/manifest") { _, context in try await manifest(context) }
        authenticated.put("/api/v1/manifest") { request, context in try await updateManifest(request, context) }
    }

    private func pull(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<PullResponse> {
        let session = try context.requireSession()
        let afterText = request.uri.queryParameters.get("after") ?? "0"
        guard let after = Int64(afterText), after >= 0 else {
            throw APIError.badRequest("'after' must be a non-negative cursor from an earlier pull.")
        }
        return JSONResponse(try await storage.pull(accountID: session.accountID, after: after, limit: Self.pullLimit))
    }

    private func push(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<PushResponse> {
        let session = try context.requireSession()
        let body = try await request.decode(as: PushRequest.self, context: context)
        guard body.changes.count <= Self.pushLimit else {
            throw APIError.badRequest("A push carries at most \(Self.pushLimit) changes; split it.")
        }
        guard Set(body.changes.map(\.id)).count == body.changes.count else {
            throw APIError.badRequest("A push names the same item twice.")
        }
        for change in body.changes {
            guard change.baseRevision >= 0, change.revision == change.baseRevision + 1 else {
                throw APIError.badRequest(
                    "Item \(change.id.uuidString.lowercased()): revision must be baseRevision + 1.")
            }
            if !change.isDeleted {
                guard let key = change.wrappedKey, let content = change.content else {
                    throw APIError.badRequest("Item \(change.id.uuidString.lowercased()) has no wrappedKey or content.")
                }
                try Validation.box(key, "wrappedKey")
                try Validation.box(content, "content")
            }
        }
        Recorder(label: "coffer_sync_push_batch_size").record(body.changes.count)
        return JSONResponse(try await storage.push(accountID: session.accountID, changes: body.changes, now: Date()))
    }

    private func manifest(_ context: CofferRequestContext) async throws -> JSONResponse<WireManifest> {
        let session = try context.requireSession()
        guard let manifest = try await storage.manifest(accountID: session.accountID) else {
            throw APIError(.notFound, "no-manifest", "This account has no manifest yet.")
        }
        return JSONResponse(manifest)
    }

    private func updateManifest(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await request.decode(as: ManifestUpdate.self, context: context)
        guard body.manifest.blob.count <= 8 * 1024 * 1024 else {
            throw APIError.badRequest("The manifest is too large.")
        }
        if let current = try await storage.updateManifest(
            accountID: session.accountID, expectedCounter: body.expectedCounter, manifest: body.manifest)
        {
            return try JSONResponse(current, status: .conflict).response(from: request, context: context)
        }
        return Response(status: .noContent)
    }
}
