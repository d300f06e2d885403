import CofferAPI
import CofferTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Prometheus
import Testing
import Yams

@testable import CofferServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A registered account on a running server, with helpers to call the API as a client would.
struct TestAccount {
    let server: ServerProcess
    let email: String
    let authKey: Data
    let device: DeviceInfo
    var session: SessionResponse

    static func sealedBox(_ marker: String = "") -> Data {
        Data([1]) + Data((0..<60).map { _ in UInt8.random(in: 0...255) }) + Data(marker.utf8)
    }

    static func register(
        on server: ServerProcess, email: String = "user-\(UUID().uuidString.prefix(6))@example.org",
        kdf: WireKDF = WireKDF(memoryKiB: 19456, iterations: 2, parallelism: 1), forwardedFor: String? = nil
    ) async throws -> TestAccount {
        let authKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        let device = DeviceInfo(id: UUID(), name: "test-device")
        let request = RegisterRequest(
            email: email, accountID: UUID(), kdf: kdf,
            salt: Data(repeating: 7, count: 16), authKey: authKey, recoveryAuthKey: Data(repeating: 9, count: 32),
            passwordWrappedKey: sealedBox(), recoveryWrappedKey: sealedBox(), device: device)
        let reply = try await HTTP.send(
            "POST", server.url + "/api/v1/register", body: try JSONEncoder().encode(request),
            headers: forwardedFor.map { ["X-Forwarded-For": $0] } ?? [:])
        #expect(reply.status == 201, "\(String(decoding: reply.body, as: UTF8.self))")
        let session = try JSONDecoder().decode(SessionResponse.self, from: reply.body)
        return TestAccount(server: server, email: email, authKey: authKey, device: device, session: session)
    }

    /// Confirms the address, asks for a reset code and reads it from the mail, as the owner would.
    func mailedResetCode() async throws -> String {
        try server.confirmAddress(email)
        let asked = try await HTTP.send(
            "POST", server.url + "/api/v1/account/email-code",
            body: try JSONEncoder().encode(EmailCodeRequest(email: email, purpose: .reset)))
        #expect(asked.status == 202)
        return try server.emailCode(to: email)
    }
}

@Suite("The HTTP API against the real server", .serialized)
struct APITests {
    @Test("every route the server serves is in docs/openapi.yaml, and every documented route is served")
    func openAPIMatchesRoutes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        let router = try CofferServerApplication.makeRouter(
            configuration: configuration, storage: try RelationalServerStorage.sqlite(directory: directory),
            registry: .init())
        let served = Set(
            router.routes.map { route in
                let path = "\(route.path)".split(separator: "/").map {
                    $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
                }
                return "\(route.method.rawValue.uppercased()) /" + path.joined(separator: "/")
            })
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(
            paths.flatMap { path, operations in
                operations.keys.filter { ["get", "post", "put", "delete", "patch"].contains($0) }.map {
                    "\($0.uppercased()) \(path)"
                }
            })
        #expect(
            served == documented,
            "served but undocumented: \(served.subtracting(documented)); documented but not served: \(documented.subtracting(served))"
        )
    }

    @Test("bad requests get a 4xx JSON {code, message}, never a 5xx")
    func badRequests() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let token = account.session.accessToken
        let key32 = Data(count: 32).base64EncodedString()
        let cases: [(String, String, Data?, String?, Int)] = [
            ("POST", "/api/v1/login", Data("{not json".utf8), nil, 400),
            ("POST", "/api/v1/login", HTTP.json(["email": 42, "authKey": "x"]), nil, 400),
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "not-an-address"]), nil, 400),
            // Addresses that would look like another one, or rewrite what an operator reads, are refused.
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "alice\u{0}@example.org"]), nil, 400),
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "alice\u{202E}gro.elpmaxe@example.org"]), nil, 400),
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "al\u{200B}ice@example.org"]), nil, 400),
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "alice@example..org"]), nil, 400),
            ("POST", "/api/v1/prelogin", HTTP.json(["email": "alice@-example.org"]), nil, 400),
            (
                "POST", "/api/v1/prelogin", HTTP.json(["email": String(repeating: "a", count: 65) + "@example.org"]),
                nil, 400
            ),
            ("POST", "/api/v1/register", Data(repeating: 0x61, count: 20 * 1024 * 1024), nil, 413),
            ("GET", "/api/v1/account", nil, "bogus-token", 401),
            ("GET", "/api/v1/account", nil, nil, 401),
            ("GET", "/api/v2/sync?after=-5", nil, token, 400),
            ("GET", "/api/v2/sync?after=abc", nil, token, 400),
            ("GET", "/api/v2/sync?after=99999999999999999999999", nil, token, 400),
            (
                "POST", "/api/v2/sync",
                HTTP.json([
                    "changes": [["id": UUID().uuidString, "baseRevision": 0, "revision": 5, "isDeleted": false]]
                ]), token, 400
            ),
            // The largest numbers a client can send are refused, never computed with (baseRevision + 1 would trap).
            (
                "POST", "/api/v2/sync",
                HTTP.json([
                    "changes": [
                        [
                            "id": UUID().uuidString, "baseRevision": Int64.max, "revision": Int64.min,
                            "isDeleted": false, "wrappedKey": TestAccount.sealedBox().base64EncodedString(),
                            "content": TestAccount.sealedBox().base64EncodedString(),
                        ]
                    ]
                ]), token, 400
            ),
            (
                "POST", "/api/v2/sync",
                HTTP.json([
                    "changes": [
                        [
                            "id": UUID().uuidString, "baseRevision": -1, "revision": 0, "isDeleted": true,
                            "content": TestAccount.sealedBox().base64EncodedString(),
                        ]
                    ]
                ]), token, 400
            ),
            ("POST", "/api/v2/sync", HTTP.json(["changes": "nope"]), token, 400),
            (
                "PUT", "/api/v2/manifest",
                HTTP.json([
                    "expectedCounter": Int64.max,
                    "manifest": ["counter": Int64.min, "sequence": Int64.max, "blob": "AAAA"],
                ]), token, 400
            ),
            (
                "PUT", "/api/v2/manifest",
                HTTP.json(["expectedCounter": 0, "manifest": ["counter": 1, "sequence": 1_000_000, "blob": "AAAA"]]),
                token, 409
            ),
            // Protocol 1 clients are told to update, not handed something that looks like tampering.
            ("GET", "/api/v1/sync?after=0", nil, token, 410),
            ("PUT", "/api/v1/manifest", HTTP.json([:]), nil, 410),
            ("DELETE", "/api/v1/devices/not-a-uuid", nil, token, 400),
            ("DELETE", "/api/v1/devices/\(UUID().uuidString)", nil, token, 404),
            ("POST", "/api/v1/token/refresh", HTTP.json(["refreshToken": "never-issued"]), nil, 401),
            ("GET", "/no/such/route", nil, nil, 404),
            // Account lifecycle: malformed keys and codes are refused before anything is looked up.
            ("POST", "/api/v1/account/password", HTTP.json(["currentAuthKey": "AA==", "epoch": 1]), token, 400),
            (
                "POST", "/api/v1/account/password",
                HTTP.json([
                    "currentAuthKey": Data(count: 32).base64EncodedString(), "epoch": 1,
                    "keys": [
                        "kdf": ["memoryKiB": 1, "iterations": 1, "parallelism": 1], "salt": "AA==", "authKey": "AA==",
                        "passwordWrappedKey": "AA==",
                    ],
                ]), token, 400
            ),
            ("POST", "/api/v1/account/email-code", HTTP.json(["email": account.email, "purpose": "steal"]), nil, 400),
            (
                "POST", "/api/v1/recover/prelogin",
                HTTP.json(["email": account.email, "emailCode": "NOPE-NOPE", "recoveryAuthKey": "AA=="]), nil, 401
            ),
            ("POST", "/api/v1/account/reset/check", HTTP.json(["email": "x@example.org", "code": "A"]), nil, 401),
            ("POST", "/api/v1/account/reset", Data("[]".utf8), nil, 400),
            ("POST", "/api/v1/account/quarantine/abc/open", HTTP.json(["authKey": key32]), token, 400),
            ("POST", "/api/v1/account/quarantine/7/open", HTTP.json(["authKey": key32]), token, 404),
            ("POST", "/api/v1/account/quarantine/7/open", HTTP.json(["authKey": "AA=="]), token, 400),
            (
                "POST", "/api/v1/account/quarantine/7/open",
                HTTP.json(["authKey": key32, "recoveryAuthKey": key32]), token, 400
            ),
            ("POST", "/api/v1/account/quarantine/7/open", HTTP.json([:]), token, 400),
            // Old material is never handed out by a bare GET any more.
            ("GET", "/api/v1/account/quarantine/7", nil, token, 404),
        ]
        for (method, path, body, bearer, status) in cases {
            let reply = try await HTTP.send(method, server.url + path, body: body, token: bearer)
            #expect(
                reply.status == status,
                "\(method) \(path): \(reply.status) \(String(decoding: reply.body.prefix(200), as: UTF8.self))")
            let error = try? JSONDecoder().decode(ErrorBody.self, from: reply.body)
            #expect(error != nil && error?.message.isEmpty == false, "\(method) \(path) body is not {code, message}")
        }
        #expect(server.exitStatus == nil)
    }

    @Test("a refresh token stays valid until its successor is used; a retired one used again signs the device out")
    func replayedRefreshToken() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let original = account.session.refreshToken
        func refresh(_ token: String) async throws -> HTTP.Reply {
            try await HTTP.send("POST", server.url + "/api/v1/token/refresh", body: HTTP.json(["refreshToken": token]))
        }
        // The answer to a refresh is lost (the device was killed before saving it): the same token works again.
        let lost = try await refresh(original)
        #expect(lost.status == 200)
        let retried = try await refresh(original)
        #expect(retried.status == 200)
        let successor = try JSONDecoder().decode(SessionResponse.self, from: retried.body)
        // The successor is used: the original is retired, and so is the successor that never arrived.
        let next = try await refresh(successor.refreshToken)
        #expect(next.status == 200)
        let current = try JSONDecoder().decode(SessionResponse.self, from: next.body)
        #expect(try await refresh(current.refreshToken).status == 200)

        // Someone holding a retired token uses it: the device is signed out, whoever that was.
        let other = try await TestAccount.register(on: server)
        let first = try await refresh(other.session.refreshToken)
        let second = try await refresh(try JSONDecoder().decode(SessionResponse.self, from: first.body).refreshToken)
        let live = try JSONDecoder().decode(SessionResponse.self, from: second.body)
        let replay = try await refresh(other.session.refreshToken)
        #expect(replay.status == 401)
        #expect(try JSONDecoder().decode(ErrorBody.self, from: replay.body).code == "refresh-token-reused")
        #expect(try await HTTP.send("GET", server.url + "/api/v1/account", token: live.accessToken).status == 401)
        #expect(try await refresh(live.refreshToken).status == 401)
    }

    @Test("token refresh is not rate limited by client address: many devices behind one proxy keep syncing")
    func refreshIsNotRateLimited() async throws {
        let server = try ServerProcess()
        var token = try await TestAccount.register(on: server).session.refreshToken
        for _ in 0..<150 {
            let reply = try await HTTP.send(
                "POST", server.url + "/api/v1/token/refresh", body: HTTP.json(["refreshToken": token]))
            #expect(reply.status == 200)
            token = try JSONDecoder().decode(SessionResponse.self, from: reply.body).refreshToken
        }
    }

    /// `count` logins with a wrong key; the last answer.
    static func wrongLogins(_ server: ServerProcess, email: String, count: Int) async throws -> HTTP.Reply? {
        var last: HTTP.Reply?
        for _ in 0..<count {
            last = try await HTTP.send(
                "POST", server.url + "/api/v1/login",
                body: try JSONEncoder().encode(
                    LoginRequest(email: email, authKey: Data(count: 32), device: DeviceInfo(id: UUID(), name: "x"))))
        }
        return last
    }

    @Test("login and register are rate limited per address with 429 and Retry-After")
    func rateLimits() async throws {
        let server = try ServerProcess()
        let last = try await Self.wrongLogins(server, email: "victim@example.org", count: 12)
        #expect(last?.status == 429)
        #expect(Int(last?.headers["retry-after"] ?? "") ?? 0 > 0)
    }

    @Test(
        "a stranger's wrong logins fill only the login bucket: the owner still gets a code and the device syncs; a second registration of the address mails its owner"
    )
    func separateBuckets() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        try server.confirmAddress(account.email)
        let last = try await Self.wrongLogins(server, email: account.email, count: 12)
        #expect(last?.status == 429)
        let asked = try await HTTP.send(
            "POST", server.url + "/api/v1/account/email-code",
            body: try JSONEncoder().encode(EmailCodeRequest(email: account.email, purpose: .recover)))
        #expect(asked.status == 202)
        #expect(try server.mail(to: account.email, containing: "one-time code").isEmpty == false)
        let pulled = try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: account.session.accessToken)
        #expect(pulled.status == 200)
        let refreshed = try await HTTP.send(
            "POST", server.url + "/api/v1/token/refresh",
            body: HTTP.json(["refreshToken": account.session.refreshToken]))
        #expect(refreshed.status == 200)

        let again = try await HTTP.send(
            "POST", server.url + "/api/v1/register",
            body: try JSONEncoder().encode(
                RegisterRequest(
                    email: account.email, accountID: UUID(),
                    kdf: WireKDF(memoryKiB: 19456, iterations: 2, parallelism: 1),
                    salt: Data(repeating: 1, count: 16), authKey: Data(count: 32), recoveryAuthKey: Data(count: 32),
                    passwordWrappedKey: TestAccount.sealedBox(), recoveryWrappedKey: TestAccount.sealedBox(),
                    device: DeviceInfo(id: UUID(), name: "y"))))
        #expect(again.status == 409)
        #expect(try server.mail(to: account.email, containing: "tried to create a new Coffer account").isEmpty == false)
    }

    @Test("addresses are normalised: case and Unicode composition do not make a second account")
    func emailNormalisation() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server, email: "Ren\u{0065}\u{0301}e@Example.ORG")
        #expect(account.email.isEmpty == false)
        let again = try await HTTP.send(
            "POST", server.url + "/api/v1/prelogin", body: HTTP.json(["email": "ren\u{00E9}e@example.org"]))
        #expect(try JSONDecoder().decode(PreloginResponse.self, from: again.body).salt == Data(repeating: 7, count: 16))
    }

    @Test("pre-login answers unknown addresses with stable fake parameters")
    func fakePrelogin() async throws {
        let server = try ServerProcess()
        let body = HTTP.json(["email": "nobody@example.org"])
        let first = try await HTTP.send("POST", server.url + "/api/v1/prelogin", body: body)
        let second = try await HTTP.send("POST", server.url + "/api/v1/prelogin", body: body)
        #expect(first.status == 200)
        #expect(
            try JSONDecoder().decode(PreloginResponse.self, from: first.body)
                == JSONDecoder().decode(PreloginResponse.self, from: second.body))
        let account = try await TestAccount.register(on: server)
        let real = try await HTTP.send(
            "POST", server.url + "/api/v1/prelogin", body: HTTP.json(["email": account.email]))
        #expect(try JSONDecoder().decode(PreloginResponse.self, from: real.body).salt == Data(repeating: 7, count: 16))
    }

    @Test("push, conflicts and pull; data survives a SIGKILL; canaries never reach the database, log or mail")
    func syncAndDurability() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server, email: "canary-mail-5d1e@example.org")
        let token = account.session.accessToken
        let id = UUID()
        let push = PushRequest(changes: [
            PushChange(
                id: id, baseRevision: 0, isDeleted: false,
                wrappedKey: TestAccount.sealedBox(), content: TestAccount.sealedBox())
        ])
        let pushed = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(push), token: token)
        #expect(pushed.status == 200)
        #expect(try JSONDecoder().decode(PushResult.self, from: pushed.body).accepted.count == 1)
        let stale = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(push), token: token)
        let conflict = try JSONDecoder().decode(PushResult.self, from: stale.body)
        #expect(conflict.accepted.isEmpty && conflict.conflicts == [id])

        server.kill()
        try server.start()
        let pulled = try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token)
        let records = try JSONDecoder().decode(SyncPage.self, from: pulled.body)
        #expect(records.records.map(\.id) == [id])
        // The only secret this API sees is the auth key; it must not be stored or logged.
        let bytes = try server.allBytes()
        #expect(bytes.range(of: account.authKey) == nil)
        #expect(bytes.range(of: Data(account.authKey.base64EncodedString().utf8)) == nil)
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        #expect(bytes.range(of: Data(account.session.refreshToken.utf8)) == nil)
    }

    @Test("pulls page at about 32 MiB of ciphertext, and an item over 4 MiB is refused with its size")
    func largeItemsPage() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let token = account.session.accessToken
        let megabytes = 3_500_000
        var ids: [UUID] = []
        for batch in 0..<4 {
            let changes = (0..<3).map { index in
                let id = UUID()
                ids.append(id)
                return PushChange(
                    id: id, baseRevision: 0, isDeleted: false, wrappedKey: TestAccount.sealedBox(),
                    content: Data([1]) + Data(repeating: UInt8(batch * 3 + index), count: megabytes))
            }
            let pushed = try await HTTP.send(
                "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(PushRequest(changes: changes)),
                token: token)
            #expect(pushed.status == 200, "\(String(decoding: pushed.body, as: UTF8.self))")
        }
        let first = try JSONDecoder().decode(
            SyncPage.self, from: try await HTTP.send("GET", server.url + "/api/v2/sync?after=0", token: token).body)
        #expect(first.hasMore && first.records.count == 9, "\(first.records.count) records")
        let second = try JSONDecoder().decode(
            SyncPage.self,
            from: try await HTTP.send("GET", server.url + "/api/v2/sync?after=\(first.cursor)", token: token).body)
        #expect(!second.hasMore && (first.records + second.records).map(\.id) == ids)

        let huge = PushChange(
            id: UUID(), baseRevision: 0, isDeleted: false, wrappedKey: TestAccount.sealedBox(),
            content: Data([1]) + Data(repeating: 0, count: 4 * 1024 * 1024))
        let refused = try await HTTP.send(
            "POST", server.url + "/api/v2/sync", body: try JSONEncoder().encode(PushRequest(changes: [huge])),
            token: token)
        #expect(refused.status == 400)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("at most 4 MiB"))
    }

    @Test("registration mails a verification link: opening it confirms nothing, its button confirms once")
    func verificationMail() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        let message = try server.mail(to: account.email, containing: "/verify-email?token=")
        let link = try #require(message.split(separator: "\r\n").first { $0.contains("/verify-email?token=") })
        let path = String(link[link.range(of: "/verify-email")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
        let token = try #require(path.split(separator: "=", maxSplits: 1).last)
        func confirmed() async throws -> Bool {
            let reply = try await HTTP.send("GET", server.url + "/api/v1/account", token: account.session.accessToken)
            return reply.json?["emailVerified"] as? Bool == true
        }
        // A link scanner opening the link twice changes nothing.
        for _ in 0..<2 {
            let page = try await HTTP.send("GET", server.url + path)
            #expect(page.status == 200 && String(decoding: page.body, as: UTF8.self).contains("method=\"post\""))
        }
        #expect(try await confirmed() == false)
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let first = try await HTTP.send(
            "POST", server.url + "/verify-email", body: Data("token=\(token)".utf8), headers: form)
        #expect(first.status == 200)
        #expect(try await confirmed() == true)
        let again = try await HTTP.send(
            "POST", server.url + "/verify-email", body: Data("token=\(token)".utf8), headers: form)
        #expect(again.status == 410)
        #expect(try await HTTP.send("GET", server.url + path).status == 410)
    }
}

@Suite("Stored timestamps")
struct StoredTimestampTests {
    @Test(
        "the server's own timestamp text is exactly GRDB's, so comparisons in SQL stay right",
        arguments: [
            0, 1_800_000_000.123, 1_800_000_000.999, 951_782_400.5, 4_102_444_799.001, 1_700_000_000.0004,
            1_700_000_000.9996, 1_764_480_000.0005, 1_764_480_000.4995,
        ])
    func matchesGRDB(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(StoredTimestamp.text(date) == String.fromDatabaseValue(date.databaseValue))
    }
}

@Suite("Operations")
struct OperationsTests {
    @Test("health, readiness and metrics answer; metrics count requests by route and failed logins")
    func healthAndMetrics() async throws {
        let server = try ServerProcess()
        // Coffer's own metrics exist from the start, at 0, not only after their first event.
        let fresh = String(decoding: try await HTTP.send("GET", server.url + "/metrics").body, as: UTF8.self)
        #expect(fresh.contains("coffer_login_failures_total 0") && fresh.contains("coffer_sync_push_batch_size"))
        for counter in [
            "coffer_change_streams", "coffer_database_conflict_retries_total", "coffer_mail_delivered_total",
            "coffer_mail_delivery_failures_total", "coffer_mail_dropped_total",
        ] {
            #expect(fresh.contains("\(counter) 0"), "\(counter) is not at 0 from the start")
        }
        #expect(try await HTTP.send("GET", server.url + "/health").status == 200)
        #expect(try await HTTP.send("GET", server.url + "/health/ready").status == 200)
        _ = try await HTTP.send(
            "POST", server.url + "/api/v1/login",
            body: try JSONEncoder().encode(
                LoginRequest(
                    email: "nobody@example.org", authKey: Data(count: 32), device: DeviceInfo(id: UUID(), name: "x"))))
        let metrics = String(decoding: try await HTTP.send("GET", server.url + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("coffer_login_failures_total"))
        #expect(metrics.contains("http_route=\"/api/v1/login\""))
        #expect(metrics.contains("http_response_status_code=\"401\""))
    }

    @Test("every page the server renders forbids framing, referrers, caching and scripts")
    func pageHeaders() async throws {
        let server = try ServerProcess()
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let pages: [(String, String, Data?)] = [
            ("GET", "/portal", nil), ("GET", "/portal/forgot", nil), ("GET", "/portal/activity", nil),
            ("POST", "/portal/forgot", Data("email=someone%40example.org".utf8)),
            ("GET", "/portal/reset?account=\(UUID().uuidString)&token=x", nil),
            ("GET", "/portal/deletion?id=\(UUID().uuidString)&token=x", nil), ("GET", "/verify-email?token=x", nil),
        ]
        for (method, path, body) in pages {
            let reply = try await HTTP.send(method, server.url + path, body: body, headers: body == nil ? [:] : form)
            let policy = reply.headers["content-security-policy"] ?? ""
            #expect(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "\(path)")
            #expect(reply.headers["x-frame-options"] == "DENY", "\(path)")
            #expect(reply.headers["referrer-policy"] == "no-referrer", "\(path)")
            #expect(reply.headers["cache-control"] == "no-store", "\(path)")
        }
    }

    @Test("with a sendmail command that does not exist, the server refuses to start and names the command")
    func missingMailCommand() throws {
        #expect {
            _ = try ServerProcess(
                environment: [
                    "COFFER_SERVER_MAIL": "sendmail", "COFFER_SERVER_SENDMAIL_COMMAND": "/nonexistent/sendmail -t",
                ])
        } throws: { error in
            "\(error)".contains("/nonexistent/sendmail") && "\(error)".contains("does not exist")
        }
    }

    @Test("the sendmail transport pipes an RFC 5322 message to the configured command")
    func sendmail() async throws {
        // As coffer-server does: a command that exits early gives EPIPE, not a SIGPIPE that ends the process.
        signal(SIGPIPE, SIG_IGN)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sendmail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("message.eml")
        let transport = SendmailTransport(
            command: ["/bin/sh", "-c", "cat > '\(output.path)'"], sender: "Coffer <no-reply@example.org>")
        try await transport.send(MailMessage(to: "alice@example.org", subject: "Hello", body: "Line one\nLine two"))
        let message = try String(contentsOf: output, encoding: .utf8)
        #expect(message.contains("To: alice@example.org\r\n"))
        #expect(message.contains("From: Coffer <no-reply@example.org>\r\n"))
        #expect(message.contains("\r\n\r\nLine one\r\nLine two"))
        let failing = SendmailTransport(command: ["/bin/false"], sender: "x")
        await #expect(throws: MailError.self) {
            try await failing.send(MailMessage(to: "a@b.c", subject: "s", body: "b"))
        }
        // A mail system that hangs is ended, and the delivery fails (to be retried), in bounded time.
        let hanging = SendmailTransport(command: ["/bin/sleep", "600"], sender: "x", timeout: 1)
        let started = ContinuousClock.now
        await #expect {
            try await hanging.send(MailMessage(to: "a@b.c", subject: "s", body: "b"))
        } throws: { error in
            if case MailError.timedOut = error { return true }
            return false
        }
        // The command sleeps 600 s, so an answer well before that proves it was ended; the slack is
        // for starting a process inside a test runner busy with every other suite (seen: 38 s).
        #expect(ContinuousClock.now - started < .seconds(180))
    }
}
