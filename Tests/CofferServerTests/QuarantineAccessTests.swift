import CofferAPI
import CofferTestSupport
import Foundation
import GRDB
import Testing

/// A reset needs only the mailbox. Whoever holds the mailbox must get nothing from the quarantine
/// that helps an offline attack on the old password: no old wrapped keys, records or manifest without
/// proof of the old password or recovery code, and only a handful of guesses at that proof.
@Suite("quarantine released only to proof of an old secret", .serialized)
struct QuarantineAccessTests {
    /// An account with one record, reset by someone who has nothing but its mailbox.
    struct ResetAccount {
        let server: ServerProcess
        let old: TestAccount
        let oldRecoveryAuthKey = Data(repeating: 9, count: 32)
        let newAuthKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        var token: String

        init() async throws {
            server = try ServerProcess()
            old = try await TestAccount.register(on: server)
            let push = PushRequest(changes: [
                PushChange(
                    id: UUID(), baseRevision: 0, isDeleted: false, wrappedKey: TestAccount.sealedBox(),
                    content: TestAccount.sealedBox())
            ])
            let pushed = try await HTTP.send(
                "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(push),
                token: old.session.accessToken)
            #expect(pushed.status == 200)

            let code = try await old.mailedResetCode()
            let reset = ResetRequest(
                email: old.email, code: code, epoch: 2,
                passwordKeys: PasswordKeys(
                    kdf: WireKDF(memoryKiB: 19456, iterations: 2, parallelism: 1), salt: Data(repeating: 3, count: 16),
                    authKey: newAuthKey, passwordWrappedKey: TestAccount.sealedBox()),
                recoveryKeys: RecoveryKeys(
                    recoveryAuthKey: Data(repeating: 4, count: 32), recoveryWrappedKey: TestAccount.sealedBox()),
                device: DeviceInfo(id: UUID(), name: "mailbox-only"))
            let answer = try await HTTP.send(
                "POST", server.url + "/api/v1/account/reset", body: try JSONEncoder().encode(reset))
            #expect(answer.status == 201, "\(String(decoding: answer.body, as: UTF8.self))")
            token = try JSONDecoder().decode(SessionResponse.self, from: answer.body).accessToken
        }

        func open(authKey: Data? = nil, recoveryAuthKey: Data? = nil) async throws -> HTTP.Reply {
            var body: [String: Any] = [:]
            if let authKey { body["authKey"] = authKey.base64EncodedString() }
            if let recoveryAuthKey { body["recoveryAuthKey"] = recoveryAuthKey.base64EncodedString() }
            return try await HTTP.send(
                "POST", server.url + "/api/v1/account/quarantine/1/open", body: HTTP.json(body), token: token)
        }

        func events() async throws -> [AccountEvent] {
            let reply = try await HTTP.send("GET", server.url + "/api/v1/account/events", token: token)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode([AccountEvent].self, from: reply.body)
        }
    }

    @Test("the new session sees the quarantine's size and dates, never old keys, manifest or records")
    func summaryHoldsNoKeys() async throws {
        let account = try await ResetAccount()
        let reply = try await HTTP.send("GET", account.server.url + "/api/v1/account/quarantine", token: account.token)
        #expect(reply.status == 200)
        let list = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]])
        let summary = try #require(list.first)
        #expect(summary["recordCount"] as? Int == 1)
        #expect(summary["salt"] != nil && summary["kdf"] != nil, "what a proof is derived with")
        for leaked in ["passwordWrappedKey", "recoveryWrappedKey", "manifest", "records"] {
            #expect(summary[leaked] == nil, "\(leaked) is handed to a session of the new epoch")
        }
        // The new epoch's own password is no proof of the old one.
        let withNewPassword = try await account.open(authKey: account.newAuthKey)
        #expect(withNewPassword.status == 403)
    }

    @Test("wrong proofs are refused, counted and listed; after 10 in an hour even the right one waits; then it opens")
    func guessesAreLimited() async throws {
        let account = try await ResetAccount()
        for attempt in 1...10 {
            let wrong = try await account.open(authKey: Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
            #expect(wrong.status == 403)
            let error = try JSONDecoder().decode(ErrorBody.self, from: wrong.body)
            #expect(error.code == "wrong-old-secret")
            #expect(error.message.contains("\(10 - attempt) more attempts"), "\(error.message)")
        }
        let locked = try await account.open(authKey: account.old.authKey)
        #expect(locked.status == 429)
        let wait = try #require(locked.headers["retry-after"].flatMap(Int.init))
        #expect(wait > 3000 && wait <= 3600, "the oldest guess leaves the hour in about an hour: \(wait)")
        #expect(try await account.events().filter { $0.kind == .quarantineGuessFailed }.count == 10)
        #expect(try await account.events().allSatisfy { $0.kind != .quarantineRecovery })

        // The hour passes (the guesses move back in time, as the clock would move them).
        let database = try DatabaseQueue(path: account.server.databasePath)
        try await database.write { try $0.execute(sql: "UPDATE quarantine_guesses SET at = '2000-01-01 00:00:00.000'") }
        let opened = try await account.open(authKey: account.old.authKey)
        #expect(opened.status == 200, "\(String(decoding: opened.body, as: UTF8.self))")
        let release = try JSONDecoder().decode(QuarantineRelease.self, from: opened.body)
        #expect(release.records.count == 1 && !release.wrappedKey.isEmpty)
        let byRecoveryCode = try await account.open(recoveryAuthKey: account.oldRecoveryAuthKey)
        #expect(byRecoveryCode.status == 200)
        let recoveryRelease = try JSONDecoder().decode(QuarantineRelease.self, from: byRecoveryCode.body)
        #expect(recoveryRelease.wrappedKey != release.wrappedKey, "each secret gets the key it wraps")
        #expect(try await account.events().filter { $0.kind == .quarantineRecovery }.count == 2)
    }

    @Test("a proof carrying both secrets, or neither, is refused as malformed and not counted")
    func malformedProofs() async throws {
        let account = try await ResetAccount()
        let both = try await account.open(authKey: account.old.authKey, recoveryAuthKey: account.oldRecoveryAuthKey)
        #expect(both.status == 400)
        let neither = try await account.open()
        #expect(neither.status == 400)
        #expect(try await account.events().allSatisfy { $0.kind != .quarantineGuessFailed })
    }
}
