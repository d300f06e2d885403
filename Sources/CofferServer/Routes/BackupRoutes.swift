import CofferAPI
import Foundation
import Hummingbird

/// Backups a client chose to keep on the server, so a new device can list and restore them. They are
/// sealed by the client; the server checks only the file signature. A backup is a safety net: none is
/// ever dropped to make room for another (junk uploads must not push a real one out), and deleting
/// one goes through the delayed deletion of ``DeletionRoutes``.
struct BackupRoutes: Sendable {
    let storage: any BackupRepository & AccountRepository & KeyLifecycleRepository
    let lifecycle: AccountLifecycle
    /// Uploads in progress at once; more are told to come back (each holds one chunk in memory).
    let uploads = UploadSlots(limit: 4)
    /// Backups an account may keep on the server.
    static let quota = 10
    /// The largest backup accepted.
    static let maximumSize = 64 * 1024 * 1024
    /// How much of an upload or download is in memory at once.
    static let chunkSize = 1_048_576
    /// What every backup file starts with.
    static let signature = Array("COFFERBK".utf8)

    func register(on authenticated: RouterGroup<CofferRequestContext>) {
        authenticated.get("/api/v1/backups") { _, context in try await list(context) }
        authenticated.put("/api/v1/backups/:backupID") { request, context in try await store(request, context) }
        authenticated.get("/api/v1/backups/:backupID") { _, context in try await fetch(context) }
        authenticated.post("/api/v1/backups/:backupID/open") { request, context in
            try await fetchOld(request, context)
        }
    }

    private func backupID(_ context: CofferRequestContext) throws -> UUID {
        guard let id = context.parameters.get("backupID", as: UUID.self) else {
            throw APIError.badRequest("The backup id is not a UUID; GET /api/v1/backups lists them.")
        }
        return id
    }

    private func list(_ context: CofferRequestContext) async throws -> JSONResponse<[ServerBackup]> {
        let session = try context.requireSession()
        try await lifecycle.purgeExpired()
        return JSONResponse(try await storage.backups(accountID: session.accountID))
    }

    private func store(_ request: Request, _ context: CofferRequestContext) async throws -> HTTPResponse.Status {
        let session = try context.requireSession()
        let id = try backupID(context)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumSize {
            throw APIError(
                .contentTooLarge, "body-too-large", "A backup may be at most \(Self.maximumSize / 1_048_576) MiB.")
        }
        guard await uploads.acquire() else {
            var headers = HTTPFields()
            headers[.retryAfter] = "10"
            throw APIError(
                .serviceUnavailable, "busy", "The server is receiving other backups; try again in a few seconds.",
                headers: headers)
        }
        let outcome: BackupStoreOutcome
        do {
            guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
            outcome = try await storage.storeBackup(
                accountID: session.accountID, id: id, epoch: account.epoch, now: Date(), quota: Self.quota,
                chunks: Self.chunks(of: request.body))
            await uploads.release()
        } catch {
            await uploads.release()
            throw error
        }
        guard case .overQuota(let quota) = outcome else { return .noContent }
        throw APIError(
            .conflict, "backup-quota",
            "This account keeps \(quota) backups on the server, the most it may; nothing was stored. Backups are never removed to make room for new ones: delete one you no longer need with `coffer backup delete-remote ID` (it goes \(Int(lifecycle.deletionDelay / 3600)) hours after you confirm the mailed link), then upload again."
        )
    }

    /// The body in chunks of at most ``chunkSize``, refused (400, 413) as soon as it is not a backup
    /// file or grows past ``maximumSize``: a bounded amount of it is ever in memory.
    static func chunks(of body: RequestBody) -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var pending = Data()
                var total = 0
                do {
                    for try await buffer in body {
                        total += buffer.readableBytes
                        guard total <= maximumSize else {
                            throw APIError(
                                .contentTooLarge, "body-too-large",
                                "A backup may be at most \(maximumSize / 1_048_576) MiB.")
                        }
                        pending.append(contentsOf: buffer.readableBytesView)
                        if total - pending.count == 0, pending.count >= signature.count,
                            !pending.starts(with: signature)
                        {
                            throw APIError.badRequest("The body is not a Coffer backup file.")
                        }
                        while pending.count >= chunkSize {
                            continuation.yield(pending.prefix(chunkSize))
                            pending = Data(pending.dropFirst(chunkSize))
                        }
                    }
                    guard total >= signature.count, total > pending.count || pending.starts(with: signature) else {
                        throw APIError.badRequest("The body is not a Coffer backup file.")
                    }
                    if !pending.isEmpty { continuation.yield(pending) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A backup of the current key epoch. One from before a reset carries the old password's wrap
    /// (material for an offline attack), and a reset needs only the mailbox: it is refused here and
    /// released by ``fetchOld(_:_:)`` to proof of that epoch's password or recovery code.
    private func fetch(_ context: CofferRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let id = try backupID(context)
        let backup = try await described(id, accountID: session.accountID)
        guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
        if let epoch = backup.epoch, epoch < account.epoch {
            throw APIError(
                .forbidden, "backup-needs-old-secret",
                "Backup \(id.uuidString.prefix(8).lowercased()) was made before the account reset; it is released only to the password or recovery code in force then (`coffer backup download ID` asks for it)."
            )
        }
        return try await stream(id, accountID: session.accountID)
    }

    private func fetchOld(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let id = try backupID(context)
        let proof = try await request.decode(as: QuarantineProof.self, context: context)
        switch proof {
        case .password(let key): try Validation.key(key, "authKey")
        case .recoveryCode(let key): try Validation.key(key, "recoveryAuthKey")
        }
        let backup = try await described(id, accountID: session.accountID)
        guard let account = try await storage.account(id: session.accountID) else { throw APIError.unauthorized }
        guard let epoch = backup.epoch, epoch < account.epoch else {
            return try await stream(id, accountID: session.accountID)
        }
        switch try await storage.proveOldSecret(
            accountID: session.accountID, epoch: epoch, proof: proof, budget: lifecycle.guessBudget, now: Date(),
            proven: context.event(.quarantineRecovery), refused: context.event(.quarantineGuessFailed))
        {
        case .proven, .unknownEpoch:
            // No verifiers were kept for that epoch (a reset before they were): the file still
            // opens only with its own secrets.
            return try await stream(id, accountID: session.accountID)
        case .wrongSecret(let remaining):
            throw APIError.wrongOldSecret(proof, remaining: remaining)
        case .tooManyGuesses(let wait):
            throw APIError.tooManyGuesses(retryAfter: wait)
        }
    }

    private func described(_ id: UUID, accountID: UUID) async throws -> ServerBackup {
        guard let backup = try await storage.backups(accountID: accountID).first(where: { $0.id == id }) else {
            throw APIError(
                .notFound, "backup-not-found", "No backup with that id is kept; `coffer backup list --server`.")
        }
        return backup
    }

    private func stream(_ id: UUID, accountID: UUID) async throws -> Response {
        guard let count = try await storage.backupChunkCount(accountID: accountID, id: id) else {
            throw APIError(
                .notFound, "backup-not-found", "No backup with that id is kept; `coffer backup list --server`.")
        }
        let storage = storage
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                for index in 0..<count {
                    guard let chunk = try await storage.backupChunk(accountID: accountID, id: id, index: index)
                    else { break }
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }
}

/// How many uploads may stream in at once.
actor UploadSlots {
    private let limit: Int
    private var used = 0

    init(limit: Int) { self.limit = limit }

    /// Takes a slot; `false` when all are in use.
    func acquire() -> Bool {
        guard used < limit else { return false }
        used += 1
        return true
    }

    /// Gives a slot back.
    func release() { used -= 1 }
}
