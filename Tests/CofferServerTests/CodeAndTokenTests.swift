import CofferAPI
import CofferTestSupport
import Crypto
import Foundation
import GRDB
import Testing

/// One-time codes and sign-ins at rest and in use: a stolen database gives no live code away, a code
/// authorises one change only, and a sign-in left unused for months ends.
@Suite("codes and sign-ins at rest and in use", .serialized)
struct CodeAndTokenTests {
    static func resetRequest(_ account: TestAccount, code: String) throws -> Data {
        try JSONEncoder().encode(
            ResetRequest(
                email: account.email, code: code, epoch: 2,
                passwordKeys: PasswordKeys(
                    kdf: WireKDF(memoryKiB: 19456, iterations: 2, parallelism: 1), salt: Data(repeating: 3, count: 16),
                    authKey: Data((0..<32).map { _ in UInt8.random(in: 0...255) }),
                    passwordWrappedKey: TestAccount.sealedBox()),
                recoveryKeys: RecoveryKeys(
                    recoveryAuthKey: Data(repeating: 4, count: 32), recoveryWrappedKey: TestAccount.sealedBox()),
                device: DeviceInfo(id: UUID(), name: "racer")))
    }

    @Test("an e-mailed code is stored keyed by the server's secret: neither it nor its plain hash is in the database")
    func codesAtRest() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let code = try await account.mailedResetCode()
        let normalized = code.uppercased().filter { $0.isLetter || $0.isNumber }
        let plainHash = Data(SHA256.hash(data: Data(normalized.utf8)))
        let database = try DatabaseQueue(path: server.databasePath)
        let stored = try await database.read { try Data.fetchAll($0, sql: "SELECT code_hash FROM email_codes") }
        #expect(!stored.isEmpty && !stored.contains(plainHash), "a 40-bit code hashed plainly is found by brute force")
        var databaseBytes = Data()
        for suffix in ["", "-wal"] {
            databaseBytes.append(FileManager.default.contents(atPath: server.databasePath + suffix) ?? Data())
        }
        for form in [code, normalized] {
            #expect(databaseBytes.range(of: Data(form.utf8)) == nil, "the code \(form) is in the database in clear")
        }
    }

    @Test("two resets racing with one code: exactly one succeeds, the other changes nothing")
    func oneCodeOneChange() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let code = try await account.mailedResetCode()
        let bodies = try (0..<4).map { _ in try Self.resetRequest(account, code: code) }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for body in bodies {
                group.addTask { try await HTTP.send("POST", server.url + "/api/v1/account/reset", body: body).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
        #expect(statuses.allSatisfy { $0 == 201 || $0 == 401 || $0 == 409 }, "\(statuses)")
    }

    @Test("a device that has not used its sign-in for 90 days is signed out, with the reason")
    func unusedSignInEnds() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let database = try DatabaseQueue(path: server.databasePath)
        try await database.write {
            try $0.execute(sql: "UPDATE devices SET last_seen_at = datetime('now', '-91 days')")
        }
        let refresh = { () async throws -> HTTP.Reply in
            try await HTTP.send(
                "POST", server.url + "/api/v1/token/refresh",
                body: HTTP.json(["refreshToken": account.session.refreshToken]))
        }
        let first = try await refresh()
        #expect(first.status == 401)
        #expect(String(decoding: first.body, as: UTF8.self).contains("90 days without use"))
        #expect(try await refresh().status == 401, "the device stays signed out")

        // One used within the period keeps working.
        let active = try await TestAccount.register(on: server)
        try await database.write {
            try $0.execute(
                sql: "UPDATE devices SET last_seen_at = datetime('now', '-89 days') WHERE account_id = ?",
                arguments: [active.session.accountID.uuidString.lowercased()])
        }
        let kept = try await HTTP.send(
            "POST", server.url + "/api/v1/token/refresh", body: HTTP.json(["refreshToken": active.session.refreshToken])
        )
        #expect(kept.status == 200)
    }
}
