import CofferAPI
import CofferTestSupport
import Foundation
import Testing

/// Nobody may learn from the server whether an address has an account: pre-login, login, code
/// requests, reset and recovery answer an existing (confirmed) address and an unknown one with the
/// same status and the same bytes, in the same time.
@Suite("no account enumeration", .serialized)
struct EnumerationTests {
    /// Requests are sent as if from many clients behind a trusted proxy, so the per-client limits
    /// measure nothing here; every address is used only a few times, under its own limit.
    static func send(_ server: ServerProcess, _ path: String, _ body: Data, form: Bool = false) async throws -> (
        reply: HTTP.Reply, seconds: Double
    ) {
        let client = "203.0.\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
        let start = Date()
        let reply = try await HTTP.send(
            "POST", server.url + path, body: body,
            headers: [
                "X-Forwarded-For": client,
                "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json",
            ])
        return (reply, Date().timeIntervalSince(start))
    }

    static func median(_ values: [Double]) -> Double { quantile(values, 0.5) }

    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }

    @Test("existing and unknown addresses get byte-identical answers, with medians within noise")
    func sameAnswers() async throws {
        let server = try ServerProcess(arguments: ["--trusted-proxy", "127.0.0.1"])
        let samples = 24
        var existing: [String] = []
        for index in 0..<samples {
            let account = try await TestAccount.register(
                on: server, email: "known-\(index)-\(UUID().uuidString.prefix(4).lowercased())@example.org",
                kdf: WireKDF(memoryKiB: 64 * 1024, iterations: 3, parallelism: 4), forwardedFor: "198.51.100.\(index)")
            try server.confirmAddress(account.email)
            existing.append(account.email)
        }
        let missing = (0..<samples).map { "nobody-\($0)-\(UUID().uuidString.prefix(4).lowercased())@example.org" }
        let device = ["id": UUID().uuidString, "name": "probe"]
        let key = Data(count: 32).base64EncodedString()
        let requests: [(name: String, path: String, body: (String) -> Data, form: Bool)] = [
            ("login", "/api/v1/login", { HTTP.json(["email": $0, "authKey": key, "device": device]) }, false),
            ("email code", "/api/v1/account/email-code", { HTTP.json(["email": $0, "purpose": "reset"]) }, false),
            ("reset check", "/api/v1/account/reset/check", { HTTP.json(["email": $0, "code": "ABCD-EFGH"]) }, false),
            (
                "recovery", "/api/v1/recover/prelogin",
                { HTTP.json(["email": $0, "emailCode": "ABCD-EFGH", "recoveryAuthKey": key]) }, false
            ),
            ("portal forgot", "/portal/forgot", { Data("email=\($0)".utf8) }, true),
            ("portal activity", "/portal/activity", { Data("email=\($0)".utf8) }, true),
        ]
        for request in requests {
            var timings: (existing: [Double], missing: [Double]) = ([], [])
            var answers: Set<String> = []
            for index in 0..<samples {
                // Interleaved, in random order, so drift in the machine's load hits both sides alike.
                for (email, isExisting) in [(existing[index], true), (missing[index], false)].shuffled() {
                    let (reply, seconds) = try await Self.send(
                        server, request.path, request.body(email), form: request.form)
                    // The address itself may appear in a page ("if an account exists for …"); nothing else may differ.
                    let text = String(decoding: reply.body, as: UTF8.self).replacingOccurrences(
                        of: email, with: "EMAIL")
                    answers.insert("\(reply.status) \(text)")
                    if isExisting { timings.existing.append(seconds) } else { timings.missing.append(seconds) }
                }
            }
            #expect(answers.count == 1, "\(request.name): \(answers.count) different answers: \(answers)")
            // "Within noise": the medians differ by less than the spread of the samples themselves
            // (their interquartile range), and never by more than 3 ms on a quiet machine. Other suites
            // run at the same time, so the spread, not a fixed number, says what noise is.
            let (known, unknown) = (Self.median(timings.existing), Self.median(timings.missing))
            let pooled = timings.existing + timings.missing
            let noise = max(0.003, Self.quantile(pooled, 0.75) - Self.quantile(pooled, 0.25))
            #expect(
                abs(known - unknown) <= noise,
                "\(request.name): median \(known * 1000) ms for existing, \(unknown * 1000) ms for unknown addresses, noise \(noise * 1000) ms"
            )
        }
        // Pre-login: the same shape and parameters; the unknown address's salt is stable.
        let real = try await Self.send(server, "/api/v1/prelogin", HTTP.json(["email": existing[0]])).reply
        let fake = try await Self.send(server, "/api/v1/prelogin", HTTP.json(["email": missing[0]])).reply
        let again = try await Self.send(server, "/api/v1/prelogin", HTTP.json(["email": missing[0]])).reply
        #expect(real.status == fake.status && fake.body == again.body)
        let realAnswer = try JSONDecoder().decode(PreloginResponse.self, from: real.body)
        let fakeAnswer = try JSONDecoder().decode(PreloginResponse.self, from: fake.body)
        #expect(realAnswer.kdf == fakeAnswer.kdf && realAnswer.salt.count == fakeAnswer.salt.count)
        #expect(Set(real.json?.keys ?? [:].keys) == Set(fake.json?.keys ?? [:].keys))
        // And only the existing, confirmed addresses were mailed a code.
        for email in missing {
            #expect(throws: (any Error).self) { try server.mail(to: email, containing: "code", timeout: 0) }
        }
        #expect(try server.mail(to: existing[0], containing: "asked to RESET").contains("one-time code"))
    }
}
