import CofferAPI
import Foundation
import Hummingbird
import Metrics

/// Pull, push and the manifest (sync protocol 2): the server stores and relays opaque records and
/// orders manifest updates; devices verify everything it says.
struct SyncRoutes: Sendable {
    let storage: any RecordRepository & CoordinationRepository

    func register(on router: Router<CofferRequestContext>, authenticated: RouterGroup<CofferRequestContext>) {
        // Authenticates itself, in the same database read as the pull: the request every device makes
        // most often costs one round trip.
        router.get("/api/v2/sync") { request, context in try await pull(request, context) }
        authenticated.post("/api/v2/sync") { request, context in try await push(request, context) }
        authenticated.put("/api/v2/manifest") { request, context in try await updateManifest(request, context) }
        // Protocol 1 clients get a sentence that tells them what to do, not a tamper alarm.
        for path in ["/api/v1/sync", "/api/v1/manifest"] {
            for method in [HTTPRequest.Method.get, .post, .put] {
                router.on(RouterPath(path), method: method) { _, _ -> Response in throw Self.protocolOne }
            }
        }
    }

    static let protocolOne = APIError(
        .gone, "upgrade-required",
        "This server speaks sync protocol 2. Update coffer on this device; its data stays on it and syncs once updated."
    )

    private func pull(_ request: Request, _ context: CofferRequestContext) async throws -> SyncPageResponse {
        let token = try BearerAuthenticator.token(of: request)
        let afterText = request.uri.queryParameters.get("after") ?? "0"
        guard let after = Int64(afterText), after >= 0 else {
            throw APIError.badRequest("'after' must be a non-negative cursor from an earlier pull.")
        }
        guard
            let page = try await storage.pull(
                accessHash: Tokens.hash(token), now: Date(), after: after, within: Self.page)
        else { throw APIError.unauthorized }
        return SyncPageResponse(
            page: SyncPage(
                records: page.records, cursor: page.nextCursor(after: after), hasMore: page.hasMore,
                manifest: page.head.manifest, restoredAt: page.head.restoredAt))
    }

    /// A pull page: the protocol's record limit, and about 32 MiB of ciphertext.
    static let page = PageLimit(records: SyncPage.maximumRecords, bytes: 32 * 1_048_576)

    private func push(_ request: Request, _ context: CofferRequestContext) async throws -> JSONResponse<PushResult> {
        let session = try context.requireSession()
        let body = try await request.decode(as: PushRequest.self, context: context)
        try Self.validate(body)
        Recorder(label: ServerMetrics.pushBatchSize).record(body.changes.count)
        let rule: PushRule = body.restoresLostVersions == true ? .aboveCurrent : .onTopOfBase
        let result = try await storage.push(
            accountID: session.accountID, changes: body.changes, rule: rule, now: Date())
        if let sequence = result.accepted.map(\.sequence).max() {
            await announce(accountID: session.accountID, sequence: sequence)
        }
        return JSONResponse(result)
    }

    /// Tells the account's listening devices; a failure here is only a hint lost (they sync anyway
    /// when they next connect), never the push's.
    private func announce(accountID: UUID, sequence: Int64) async {
        try? await storage.announceChange(accountID: accountID, sequence: sequence)
    }

    /// Every number is range-checked before any arithmetic, so no value a client sends can trap.
    static func validate(_ body: PushRequest) throws {
        guard body.changes.count <= PushRequest.maximumChanges else {
            throw APIError.badRequest("A push carries at most \(PushRequest.maximumChanges) changes; split it.")
        }
        guard Set(body.changes.map(\.id)).count == body.changes.count else {
            throw APIError.badRequest("A push names the same item twice.")
        }
        for change in body.changes {
            let item = change.id.uuidString.lowercased()
            guard (0..<PushChange.maximumRevision).contains(change.baseRevision) else {
                throw APIError.badRequest(
                    "Item \(item): baseRevision must be between 0 and \(PushChange.maximumRevision - 1).")
            }
            guard let content = change.content else {
                throw APIError.badRequest("Item \(item) has no content (a tombstone carries its sealed proof).")
            }
            try Validation.box(content, "content")
            if change.isDeleted {
                guard change.wrappedKey == nil else {
                    throw APIError.badRequest("Item \(item) is a tombstone and must not carry a wrappedKey.")
                }
            } else {
                guard let key = change.wrappedKey else { throw APIError.badRequest("Item \(item) has no wrappedKey.") }
                try Validation.box(key, "wrappedKey")
            }
        }
    }

    private func updateManifest(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let body = try await request.decode(as: ManifestUpdate.self, context: context)
        guard body.manifest.blob.count <= ManifestUpdate.maximumBlobBytes, !body.manifest.blob.isEmpty else {
            throw APIError.badRequest("A manifest is between 1 and \(ManifestUpdate.maximumBlobBytes) bytes.")
        }
        guard body.expectedCounter >= 0, body.manifest.counter >= 0, body.manifest.sequence >= 0 else {
            throw APIError.badRequest("Manifest counters and sequences are never negative.")
        }
        switch try await storage.updateManifest(
            accountID: session.accountID, expectedCounter: body.expectedCounter, manifest: body.manifest)
        {
        case .updated:
            // A new manifest is news for the other devices too (they verify what they pull against it).
            await announce(accountID: session.accountID, sequence: body.manifest.sequence)
            return Response(status: .noContent)
        case .counterMoved(let current):
            throw APIError(
                .conflict, "manifest-moved",
                "Another device published a newer manifest (counter \(current)); pull, verify and publish again.")
        case .sequenceOutOfRange(let last, let published):
            throw APIError(
                .conflict, "sequence-out-of-range",
                "The manifest covers write \(published), but this account's writes go up to \(last) and a manifest may not cover fewer than the current one."
            )
        }
    }
}

/// A pull's answer. Most pulls find nothing new: that page is written directly (a few numbers and
/// the manifest's base64) instead of through `JSONEncoder`, which was the largest share of the
/// route's own cost; pages with records go through the encoder as every other answer does.
struct SyncPageResponse: ResponseGenerator {
    let page: SyncPage

    func response(from request: Request, context: some RequestContext) throws -> Response {
        guard page.records.isEmpty else { return try JSONResponse(page).response(from: request, context: context) }
        var json = #"{"cursor":\#(page.cursor),"hasMore":\#(page.hasMore),"#
        if let manifest = page.manifest {
            json += #""manifest":{"blob":"\#(manifest.blob.base64EncodedString())","counter":\#(manifest.counter),"#
            json += #""sequence":\#(manifest.sequence)},"#
        }
        json += #""records":[]"#
        // As JSONResponse writes dates (ISO 8601, whole seconds), so both paths give a device one value.
        if let restoredAt = page.restoredAt { json += #","restoredAt":"\#(restoredAt.formatted(.iso8601))""# }
        json += "}"
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
