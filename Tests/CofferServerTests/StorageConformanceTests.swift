import CofferAPI
import CofferTestSupport
import Foundation
import Logging
import Testing

@testable import CofferServer

/// The databases the server runs on. Every behaviour in ``StorageConformanceTests`` runs on both,
/// so the SQL they share means the same on each.
enum StorageKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    /// A fresh, migrated database of this kind; `body` runs while its connections are up.
    func withStorage(_ body: @Sendable (RelationalServerStorage) async throws -> Void) async throws {
        let storage = try makeStorage()
        try await Self.offThePool {
            try await storage.withConnections {
                try await storage.migrate()
                try await body(storage)
            }
        }
    }

    /// Threads of their own for the storage's tasks (PostgreSQL's connection pool among them): the
    /// end-to-end tests running beside these block the cooperative pool's two threads while they wait
    /// for the `coffer` binary, and a pool that cannot run does not connect.
    static let executor = DedicatedExecutor(threads: 2, name: "storage-tests")

    /// Runs `body` on ``executor``.
    static func offThePool<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor) { try await body() }
    }

    /// A new, empty database; PostgreSQL's is a new database in the test cluster.
    func makeStorage() throws -> RelationalServerStorage {
        switch self {
        case .sqlite:
            return try RelationalServerStorage.sqlite(
                directory: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "coffer-conformance-\(UUID().uuidString.prefix(8))"))
        case .postgresql:
            return try Self.postgres(url: try PostgreSQLCluster.shared().createDatabase())
        }
    }

    /// Storage on the PostgreSQL database at `url` — a second one on the same URL is what a second
    /// server process would have.
    static func postgres(url: String) throws -> RelationalServerStorage {
        let address = try PostgreSQLAddress(url)
        return RelationalServerStorage(driver: PostgreSQLDriver(address: address, logger: Logger(label: "test")))
    }
}

/// A fixed moment, whole seconds, so both databases store it exactly.
private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func account(_ email: String = "a-\(UUID().uuidString.prefix(6).lowercased())@example.org") -> StoredAccount {
    StoredAccount(
        id: UUID(), email: email, emailVerified: false, epoch: 1,
        kdf: WireKDF(memoryKiB: 65536, iterations: 3, parallelism: 4), salt: Data(repeating: 1, count: 16),
        authVerifier: Data(repeating: 2, count: 32), recoveryVerifier: Data(repeating: 3, count: 32),
        passwordWrappedKey: Data(repeating: 4, count: 60), recoveryWrappedKey: Data(repeating: 5, count: 60),
        createdAt: t0)
}

private func change(_ id: UUID = UUID(), base: Int64 = 0, bytes: Int = 40) -> PushChange {
    PushChange(
        id: id, baseRevision: base, isDeleted: false, wrappedKey: Data(repeating: 9, count: 40),
        content: Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0) }))
}

/// A page of at most `count` records and any number of bytes.
private func records(_ count: Int) -> PageLimit { PageLimit(records: count, bytes: .max) }

/// A sealed message for the outbox, posted at `t0`.
private func letter(discardAfter: Date, deliver: Bool = true, createdAt: Date = t0) -> OutboxMail {
    OutboxMail(
        id: UUID(), sealed: Data("sealed \(UUID())".utf8), createdAt: createdAt, discardAfter: discardAfter,
        deliver: deliver)
}

private let event = AccountEvent(kind: .passwordChanged, at: t0, deviceName: "laptop", clientAddress: "192.0.2.1")

@Suite("Storage: one behaviour on SQLite and on PostgreSQL")
struct StorageConformanceTests {
    @Test("accounts round-trip every field; a taken address is refused", arguments: StorageKind.allCases)
    func accounts(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let stored = account()
            #expect(try await storage.createAccount(stored))
            #expect(try await storage.createAccount(account(stored.email)) == false)
            #expect(try await storage.account(id: stored.id) == stored)
            #expect(try await storage.account(email: stored.email) == stored)
            #expect(try await storage.account(email: "nobody@example.org") == nil)
            let token = Data(repeating: 0xAA, count: 32)
            try await storage.addVerificationToken(
                hash: token, accountID: stored.id, expiresAt: t0 + 60, mail: letter(discardAfter: t0 + 60))
            #expect(try await storage.verificationToken(hash: token, now: t0 + 61, consume: true) == nil)
            #expect(try await storage.verificationToken(hash: token, now: t0, consume: true) == stored.id)
            #expect(try await storage.verificationToken(hash: token, now: t0, consume: true) == nil)
            #expect(try await storage.account(id: stored.id)?.emailVerified == true)
        }
    }

    @Test("sign-in, access tokens, refresh rotation, replay and sign-out", arguments: StorageKind.allCases)
    func sessions(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let device = DeviceInfo(id: UUID(), name: "laptop")
            let first = Data(repeating: 1, count: 32)
            #expect(try await storage.signIn(accountID: owner.id, device: device, refreshHash: first, now: t0))
            let access = Data(repeating: 2, count: 32)
            try await storage.addAccessToken(
                hash: access, accountID: owner.id, deviceID: device.id, expiresAt: t0 + 900)
            let session = try #require(try await storage.session(accessHash: access, now: t0))
            #expect(session.accountID == owner.id && session.deviceID == device.id && session.deviceName == "laptop")
            #expect(try await storage.session(accessHash: access, now: t0 + 901) == nil)

            let second = Data(repeating: 3, count: 32)
            let rotated = try await storage.refresh(
                presentedHash: first, successorHash: second,
                access: NewAccessToken(hash: Data(repeating: 4, count: 32), expiresAt: t0 + 900),
                now: t0 + 10, unusedSince: t0 - 86_400)
            #expect(rotated == .rotated(accountID: owner.id, deviceID: device.id))
            // The successor is used: the first token is retired, and coming back it is a replay.
            let third = Data(repeating: 5, count: 32)
            #expect(
                try await storage.refresh(
                    presentedHash: second, successorHash: third,
                    access: NewAccessToken(hash: Data(repeating: 6, count: 32), expiresAt: t0 + 900), now: t0 + 20,
                    unusedSince: t0 - 86_400) == .rotated(accountID: owner.id, deviceID: device.id))
            #expect(
                try await storage.refresh(
                    presentedHash: first, successorHash: Data(repeating: 7, count: 32),
                    access: NewAccessToken(hash: Data(repeating: 8, count: 32), expiresAt: t0 + 900), now: t0 + 30,
                    unusedSince: t0 - 86_400) == .replayed(accountID: owner.id, deviceID: device.id))
            #expect(try await storage.devices(accountID: owner.id).isEmpty)
            #expect(try await storage.session(accessHash: access, now: t0) == nil)
            #expect(try await storage.deleteExpiredAccessTokens(before: t0 + 10_000) >= 0)
        }
    }

    @Test(
        "pushes get increasing sequences; conflicts are reported; pulls page by sequence",
        arguments: StorageKind.allCases)
    func pushAndPull(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let device = DeviceInfo(id: UUID(), name: "d")
            _ = try await storage.signIn(accountID: owner.id, device: device, refreshHash: Data([1]), now: t0)
            let access = Data(repeating: 7, count: 32)
            try await storage.addAccessToken(
                hash: access, accountID: owner.id, deviceID: device.id, expiresAt: t0 + 900)
            let changes = (0..<5).map { _ in change() }
            let pushed = try await storage.push(accountID: owner.id, changes: changes, rule: .onTopOfBase, now: t0)
            #expect(pushed.accepted.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(pushed.conflicts.isEmpty)
            // The same base again is a conflict; on top of revision 1 it is accepted.
            let again = try await storage.push(
                accountID: owner.id, changes: [change(changes[0].id), change(changes[1].id, base: 1)],
                rule: .onTopOfBase,
                now: t0)
            #expect(again.conflicts == [changes[0].id])
            #expect(again.accepted.map(\.sequence) == [6])
            let page = try #require(try await storage.pull(accessHash: access, now: t0, after: 0, within: records(3)))
            // The change pushed again moved to the end of the order.
            #expect(page.records.map(\.sequence) == [1, 3, 4])
            #expect(page.hasMore)
            let rest = try #require(
                try await storage.pull(
                    accessHash: access, now: t0, after: page.nextCursor(after: 0), within: records(100)))
            #expect(Set((page.records + rest.records).map(\.id)) == Set(changes.map(\.id)))
            #expect(rest.records.last?.sequence == 6 && !rest.hasMore)
            let stored = try #require(rest.records.first { $0.id == changes[1].id })
            #expect(
                stored.revision == 2 && stored.content == changes[1].content
                    && stored.wrappedKey == changes[1].wrappedKey)
            let upToDate = try #require(
                try await storage.pull(accessHash: access, now: t0, after: 6, within: records(100)))
            #expect(upToDate.records.isEmpty && upToDate.nextCursor(after: 6) == 6 && upToDate.head.lastSequence == 6)
            // About a byte budget a page: the second 40-byte record would pass 60 bytes, so it waits.
            let budgeted = try #require(
                try await storage.pull(
                    accessHash: access, now: t0, after: 0, within: PageLimit(records: 100, bytes: 60)))
            #expect(budgeted.records.count == 1 && budgeted.hasMore)
            #expect(
                try await storage.pull(
                    accessHash: Data(repeating: 0, count: 32), now: t0, after: 0, within: records(10)) == nil)
            // A tombstone keeps no wrapped key.
            let deletion = PushChange(
                id: changes[2].id, baseRevision: 1, isDeleted: true, wrappedKey: Data([1]), content: Data([2]))
            #expect(
                try await storage.push(accountID: owner.id, changes: [deletion], rule: .onTopOfBase, now: t0).accepted
                    .count == 1)
            let tombstone = try #require(
                try await storage.pull(accessHash: access, now: t0, after: 6, within: records(10))?.records.first)
            #expect(tombstone.isDeleted && tombstone.wrappedKey == nil)
        }
    }

    @Test("the manifest is compare-and-set, within the writes the server made", arguments: StorageKind.allCases)
    func manifest(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            _ = try await storage.push(accountID: owner.id, changes: [change(), change()], rule: .onTopOfBase, now: t0)
            let first = WireManifest(counter: 1, sequence: 2, blob: Data([1, 2, 3]))
            #expect(
                try await storage.updateManifest(accountID: owner.id, expectedCounter: 0, manifest: first) == .updated)
            #expect(
                try await storage.updateManifest(accountID: owner.id, expectedCounter: 0, manifest: first)
                    == .counterMoved(current: 1))
            #expect(
                try await storage.updateManifest(
                    accountID: owner.id, expectedCounter: 1,
                    manifest: WireManifest(counter: 2, sequence: 3, blob: Data()))
                    == .sequenceOutOfRange(lastSequence: 2, publishedSequence: 3))
        }
    }

    @Test(
        "a reset quarantines the epoch; only a proof of the old secret opens it, within a guess budget",
        arguments: StorageKind.allCases)
    func resetAndQuarantine(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let authKey = Data(repeating: 0x42, count: 32)
            let keys = StoredPasswordKeys(
                kdf: owner.kdf, salt: owner.salt, authVerifier: Tokens.verifier(of: authKey),
                passwordWrappedKey: Data(repeating: 0x77, count: 60))
            #expect(
                try await storage.replacePasswordKeys(
                    accountID: owner.id, epoch: 1, keys: keys, keepDevice: nil, reason: .passwordChanged, using: nil,
                    event: event))
            _ = try await storage.push(accountID: owner.id, changes: [change(), change()], rule: .onTopOfBase, now: t0)
            let epoch = try await storage.resetAccount(
                accountID: owner.id, now: t0, from: "192.0.2.9", quarantineUntil: t0 + 86_400, using: nil, event: event)
            #expect(epoch == 2)
            #expect(try await storage.account(id: owner.id)?.awaitingKeys == true)
            let summary = try #require(try await storage.quarantines(accountID: owner.id).first)
            #expect(summary.epoch == 1 && summary.recordCount == 2 && summary.resetFrom == "192.0.2.9")
            let budget = GuessBudget(limit: 2, window: 3600)
            let wrong = try await storage.openQuarantine(
                accountID: owner.id, epoch: 1, proof: .password(authKey: Data(repeating: 1, count: 32)), budget: budget,
                now: t0 + 1, released: event, refused: event)
            guard case .wrongSecret(remaining: 1) = wrong else {
                Issue.record("\(wrong)")
                return
            }
            let opened = try await storage.openQuarantine(
                accountID: owner.id, epoch: 1, proof: .password(authKey: authKey), budget: budget, now: t0 + 2,
                released: event, refused: event)
            guard case .released(let release) = opened else {
                Issue.record("\(opened)")
                return
            }
            #expect(release.records.count == 2 && release.wrappedKey == keys.passwordWrappedKey)
            _ = try await storage.openQuarantine(
                accountID: owner.id, epoch: 1, proof: .password(authKey: Data(repeating: 2, count: 32)), budget: budget,
                now: t0 + 3, released: event, refused: event)
            let blocked = try await storage.openQuarantine(
                accountID: owner.id, epoch: 1, proof: .password(authKey: authKey), budget: budget, now: t0 + 4,
                released: event, refused: event)
            guard case .tooManyGuesses(let wait) = blocked else {
                Issue.record("\(blocked)")
                return
            }
            #expect(wait > 3000)
            #expect(
                try await storage.installKeysAfterReset(
                    accountID: owner.id, epoch: 2, password: keys,
                    recovery: StoredRecoveryKeys(recoveryVerifier: Data([1]), recoveryWrappedKey: Data([2])),
                    using: nil,
                    event: event))
            #expect(try await storage.purgeExpiredQuarantines(now: t0 + 86_401) == 1)
            #expect(try await storage.quarantines(accountID: owner.id).first?.purgedAt == t0 + 86_401)
            #expect(
                try await storage.events(accountID: owner.id, limit: 100).contains { $0.kind == .quarantineExpired })
        }
    }

    @Test(
        "one-time codes: used once, cancelled after too many wrong ones, taken with their change",
        arguments: StorageKind.allCases)
    func emailCodes(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let code = Data(repeating: 0x33, count: 32)
            try await storage.addEmailCode(
                hash: code, accountID: owner.id, purpose: "reset", expiresAt: t0 + 3600, mail: nil)
            #expect(
                try await storage.checkEmailCode(
                    hash: code, accountID: owner.id, purpose: "reset", now: t0, consume: false, allowedFailures: 5)
                    == .valid)
            for _ in 0..<4 {
                #expect(
                    try await storage.checkEmailCode(
                        hash: Data([0]), accountID: owner.id, purpose: "reset", now: t0, consume: false,
                        allowedFailures: 5) == .invalid)
            }
            #expect(
                try await storage.checkEmailCode(
                    hash: Data([0]), accountID: owner.id, purpose: "reset", now: t0, consume: false, allowedFailures: 5)
                    == .exhausted)
            #expect(
                try await storage.checkEmailCode(
                    hash: code, accountID: owner.id, purpose: "reset", now: t0, consume: true, allowedFailures: 5)
                    == .invalid)
            // A change that takes a dead code does not happen.
            await #expect(throws: CodeNoLongerValid.self) {
                _ = try await storage.resetAccount(
                    accountID: owner.id, now: t0, from: nil, quarantineUntil: t0 + 60,
                    using: CodeUse(hash: code, purpose: "reset", now: t0, allowedFailures: 5), event: event)
            }
            #expect(try await storage.account(id: owner.id)?.epoch == 1)
            #expect(try await storage.deleteExpiredEmailCodes(before: t0 + 7200) == 1)
        }
    }

    @Test("backups: chunks in order, a quota, an id stored once", arguments: StorageKind.allCases)
    func backups(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let chunks = [Data(repeating: 1, count: 1000), Data(repeating: 2, count: 10), Data(repeating: 3, count: 5)]
            func upload(_ id: UUID) async throws -> BackupStoreOutcome {
                try await storage.storeBackup(
                    accountID: owner.id, id: id, epoch: 1, now: t0, quota: 2,
                    chunks: AsyncThrowingStream { continuation in
                        for chunk in chunks { continuation.yield(chunk) }
                        continuation.finish()
                    })
            }
            let first = UUID()
            #expect(try await upload(first) == .stored)
            #expect(try await upload(first) == .alreadyStored)
            #expect(try await upload(UUID()) == .stored)
            #expect(try await upload(UUID()) == .overQuota(quota: 2))
            let listed = try await storage.backups(accountID: owner.id)
            #expect(listed.count == 2 && listed.allSatisfy { $0.size == 1015 && $0.epoch == 1 })
            #expect(try await storage.backupChunkCount(accountID: owner.id, id: first) == 3)
            for (index, chunk) in chunks.enumerated() {
                #expect(try await storage.backupChunk(accountID: owner.id, id: first, index: index) == chunk)
            }
            #expect(try await storage.backupChunk(accountID: owner.id, id: first, index: 3) == nil)
        }
    }

    @Test(
        "delayed deletions: a link confirms, the wait runs out, the janitor carries it out",
        arguments: StorageKind.allCases)
    func deletions(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let deletion = PendingDeletion(
                id: UUID(), what: .quarantine, backupID: nil, requestedAt: t0, requestedFrom: "192.0.2.1",
                confirmBy: t0 + 3600, confirmedAt: nil, executesAt: nil)
            let link = Data(repeating: 0x55, count: 32)
            try await storage.requestDeletion(
                deletion, accountID: owner.id, tokenHash: link, event: event, mail: letter(discardAfter: t0 + 3600))
            #expect(try await storage.pendingDeletions(accountID: owner.id, now: t0).map(\.id) == [deletion.id])
            #expect(try await storage.deletion(id: deletion.id, tokenHash: Data([1]), now: t0) == nil)
            let confirmed = try await storage.confirmDeletion(
                id: deletion.id, tokenHash: link, now: t0 + 10, executesAt: t0 + 100, event: event)
            #expect(confirmed?.executesAt == t0 + 100)
            #expect(try await storage.executeDueDeletions(now: t0 + 50) == 0)
            #expect(try await storage.executeDueDeletions(now: t0 + 100) == 1)
            #expect(try await storage.pendingDeletions(accountID: owner.id, now: t0 + 100).isEmpty)
            let other = PendingDeletion(
                id: UUID(), what: .backup, backupID: UUID(), requestedAt: t0, requestedFrom: nil, confirmBy: t0 + 3600,
                confirmedAt: nil, executesAt: nil)
            try await storage.requestDeletion(
                other, accountID: owner.id, tokenHash: link, event: event, mail: letter(discardAfter: t0 + 3600))
            #expect(try await storage.cancelDeletion(accountID: owner.id, id: other.id, now: t0, event: event))
            #expect(try await storage.cancelDeletion(accountID: owner.id, id: other.id, now: t0, event: event) == false)
        }
    }

    @Test("the support console's queries, with LIKE's wildcards matched as themselves", arguments: StorageKind.allCases)
    func support(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let plain = account("plain@example.org")
            let odd = account("odd_100%\\x@example.org")
            _ = try await storage.createAccount(plain)
            _ = try await storage.createAccount(odd)
            #expect(try await storage.accounts(containing: "_100%\\", offset: 0, limit: 10).map(\.email) == [odd.email])
            #expect(try await storage.accounts(containing: "example", offset: 0, limit: 10).count == 2)
            _ = try await storage.push(accountID: plain.id, changes: [change(bytes: 100)], rule: .onTopOfBase, now: t0)
            let items = try await storage.storedItems(accountID: plain.id)
            #expect(items.epochs.first?.items == 1 && items.epochs.first?.ciphertextBytes == 140)
            #expect(items.lastChangeAt == t0)
            let statistics = try await storage.statistics(since: t0 - 1)
            #expect(statistics.accounts == 2 && statistics.registrations == 2 && statistics.storedBytes == 140)
            #expect(try await storage.recordRestore(at: t0) == 2)
            #expect(try await storage.lastRestore() == t0)
        }
    }

    @Test(
        "what server processes share: the secret's fingerprint, attempt windows, the janitor's lease",
        arguments: StorageKind.allCases)
    func sharedState(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            #expect(try await storage.adoptSecretFingerprint(Data(repeating: 1, count: 32)))
            #expect(try await storage.adoptSecretFingerprint(Data(repeating: 1, count: 32)))
            #expect(try await storage.adoptSecretFingerprint(Data(repeating: 2, count: 32)) == false)

            let key = Data(repeating: 7, count: 32)
            for expected in 1...3 {
                let counted = try await storage.countAttempt(key: key, window: 300, now: t0 + Double(expected))
                #expect(counted.count == expected && counted.windowStart == t0 + 1)
            }
            let fresh = try await storage.countAttempt(key: key, window: 300, now: t0 + 302)
            #expect(fresh.count == 1 && fresh.windowStart == t0 + 302)
            #expect(try await storage.deleteAttemptWindows(before: t0 + 1000) == 1)

            #expect(try await storage.takeJanitorLease(holder: "a", now: t0, until: t0 + 100))
            #expect(try await storage.takeJanitorLease(holder: "b", now: t0 + 50, until: t0 + 150) == false)
            #expect(try await storage.takeJanitorLease(holder: "a", now: t0 + 60, until: t0 + 160))
            #expect(try await storage.takeJanitorLease(holder: "b", now: t0 + 160, until: t0 + 260))
        }
    }

    @Test("migrations have the same names in both dialects, and run again changing nothing")
    func migrationNames() async throws {
        #expect(SQLiteDriver.migrationNames == PostgreSQLSchema.migrations.map(\.name))
        for kind in StorageKind.allCases {
            try await kind.withStorage { storage in
                try await storage.migrate()
                try await storage.checkReadiness()
            }
        }
    }

    @Test("PostgreSQL refuses a database a newer server migrated further")
    func newerSchemaRefused() async throws {
        let cluster = try PostgreSQLCluster.shared()
        let url = try cluster.createDatabase()
        let storage = try StorageKind.postgres(url: url)
        try await StorageKind.offThePool { try await storage.withConnections { try await storage.migrate() } }
        try cluster.psql(
            "INSERT INTO schema_migrations (identifier, applied_at) VALUES ('v99: from the future', now())",
            database: String(url.split(separator: "/").last ?? ""))
        await #expect(throws: SchemaTooNew.self) {
            try await StorageKind.offThePool { try await storage.withConnections { try await storage.migrate() } }
        }
    }

    @Test(
        "concurrent pushes from two server processes' connections never share a sequence number",
        arguments: StorageKind.allCases)
    func concurrentPushes(kind: StorageKind) async throws {
        let (first, second) = try Self.twoProcesses(kind)
        try await StorageKind.offThePool {
            try await Self.concurrentPushes(first, second)
        }
    }

    private static func concurrentPushes(_ first: RelationalServerStorage, _ second: RelationalServerStorage)
        async throws
    {
        try await first.withConnections {
            try await second.withConnections {
                try await first.migrate()
                let owner = account()
                _ = try await first.createAccount(owner)
                let sequences = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for writer in 0..<8 {
                        let storage = writer % 2 == 0 ? first : second
                        group.addTask {
                            var mine: [Int64] = []
                            for _ in 0..<15 {
                                let result = try await storage.push(
                                    accountID: owner.id, changes: [change(), change()], rule: .onTopOfBase, now: t0)
                                mine += result.accepted.map(\.sequence)
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: [Int64]()) { $0 += $1 }
                }
                #expect(sequences.count == 240)
                #expect(Set(sequences).count == 240, "a sequence number was handed out twice")
                #expect(sequences.max() == 240)
            }
        }
    }

    @Test(
        "the mail outbox: stand-ins never go, a claim leases a message until it is sent, failed or lapsed",
        arguments: StorageKind.allCases)
    func mailOutbox(kind: StorageKind) async throws {
        try await kind.withStorage { storage in
            let owner = account()
            _ = try await storage.createAccount(owner)
            let code = letter(discardAfter: t0 + 3600)
            try await storage.addEmailCode(
                hash: Data(repeating: 1, count: 32), accountID: owner.id, purpose: "reset", expiresAt: t0 + 3600,
                mail: code)
            try await storage.addEmailCode(
                hash: Data(repeating: 2, count: 32), accountID: UUID(), purpose: "reset", expiresAt: t0 + 3600,
                mail: letter(discardAfter: t0 + 3600, deliver: false))
            let notice = letter(discardAfter: t0 + 60, createdAt: t0 + 1)
            try await storage.postMail(notice)

            let claim = try await storage.claimMail(now: t0 + 2, lease: 120, limit: 10)
            #expect(claim.due.map(\.id) == [code.id, notice.id], "oldest first, and the stand-in never")
            #expect(claim.due.map(\.sealed) == [code.sealed, notice.sealed])
            #expect(claim.due.map(\.attempts) == [1, 1])
            #expect(try await storage.claimMail(now: t0 + 3, lease: 120, limit: 10).due.isEmpty, "leased")

            try await storage.finishMail(id: code.id)
            try await storage.retryMail(id: notice.id, at: t0 + 10)
            #expect(try await storage.claimMail(now: t0 + 9, lease: 120, limit: 10).due.isEmpty)
            let retried = try await storage.claimMail(now: t0 + 10, lease: 120, limit: 10)
            #expect(retried.due.map(\.id) == [notice.id])
            #expect(retried.due.map(\.attempts) == [2])
            let lapsed = try await storage.claimMail(now: t0 + 60, lease: 120, limit: 10)
            #expect(lapsed.dropped == 1 && lapsed.due.isEmpty, "a message whose code lapsed is dropped")

            // A process that died while sending leaves the message to the next claim after the lease.
            let orphan = letter(discardAfter: t0 + 3600, createdAt: t0 + 100)
            try await storage.postMail(orphan)
            #expect(try await storage.claimMail(now: t0 + 100, lease: 120, limit: 10).due.map(\.id) == [orphan.id])
            #expect(try await storage.claimMail(now: t0 + 219, lease: 120, limit: 10).due.isEmpty)
            let reclaimed = try await storage.claimMail(now: t0 + 220, lease: 120, limit: 10)
            #expect(reclaimed.due.map(\.id) == [orphan.id] && reclaimed.due.map(\.attempts) == [2])
        }
    }

    @Test(
        "two server processes claiming the outbox at once never both get one message",
        arguments: StorageKind.allCases)
    func concurrentMailClaims(kind: StorageKind) async throws {
        let (first, second) = try Self.twoProcesses(kind)
        try await StorageKind.offThePool {
            try await first.withConnections {
                try await second.withConnections {
                    try await first.migrate()
                    let posted = (0..<40).map { letter(discardAfter: t0 + 3600, createdAt: t0 + Double($0)) }
                    for mail in posted { try await first.postMail(mail) }
                    let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                        for claimer in 0..<4 {
                            let storage = claimer % 2 == 0 ? first : second
                            group.addTask {
                                var mine: [UUID] = []
                                while true {
                                    let claim = try await storage.claimMail(now: t0 + 100, lease: 120, limit: 3)
                                    if claim.due.isEmpty { return mine }
                                    mine += claim.due.map(\.id)
                                }
                            }
                        }
                        return try await group.reduce(into: [UUID]()) { $0 += $1 }
                    }
                    #expect(claimed.count == posted.count, "a message was claimed twice, or not at all")
                    #expect(Set(claimed) == Set(posted.map(\.id)))
                }
            }
        }
    }

    /// A new database as two server processes see it: on PostgreSQL a second driver on the same
    /// database (its own connections), on SQLite the one storage (a single writer either way).
    private static func twoProcesses(_ kind: StorageKind) throws -> (RelationalServerStorage, RelationalServerStorage) {
        let first = try kind.makeStorage()
        switch kind {
        case .sqlite: return (first, first)
        case .postgresql:
            return (
                first,
                try StorageKind.postgres(url: try PostgreSQLCluster.shared().url(database: Self.database(of: first)))
            )
        }
    }

    /// The PostgreSQL database name behind a storage made by ``StorageKind/makeStorage()``.
    private static func database(of storage: RelationalServerStorage) -> String {
        (storage.driver as? PostgreSQLDriver)?.databaseName ?? ""
    }
}
