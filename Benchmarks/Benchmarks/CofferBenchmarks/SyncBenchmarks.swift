import Benchmark
import CofferAgent
import CofferClient
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Issue 3's figures: the initial sync of 10,000 items to a new device, end to end, and a
/// no-change sync round trip, against the real `coffer-server` (COFFER_SERVER_BINARY).
func syncBenchmarks() {
    Benchmark("Initial sync of 10,000 items to a new device", configuration: .init(maxIterations: 3)) { benchmark in
        let server = try SyncFixture.shared()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-login-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("vault.sqlite").path
        benchmark.startMeasurement()
        let result = try AsyncBridge.wait {
            try await AccountFlows.login(
                server: server.url, email: server.email, password: SyncFixture.password, deviceName: "bench",
                vaultFile: file)
        }
        benchmark.stopMeasurement()
        precondition(result.report.pulled == 10_000, "pulled \(result.report.pulled)")
    }

    Benchmark("No-change sync round trip", configuration: .init(maxIterations: 100)) { benchmark in
        let server = try SyncFixture.shared()
        let engine = SyncEngine(store: server.store, keyring: server.keyring)
        benchmark.startMeasurement()
        let report = try AsyncBridge.wait { try await engine.sync() }
        benchmark.stopMeasurement()
        precondition(report.pushed == 0)
    }
}

/// A server with one registered account holding 10,000 items, built once per process.
final class SyncFixture: Sendable {
    static let password = "benchmark-password-1"
    let url: String
    let email = "bench@example.org"
    let store: VaultStore
    let keyring: Keyring
    private let process: Process

    nonisolated(unsafe) private static var cached: SyncFixture?

    static func shared() throws -> SyncFixture {
        if let cached { return cached }
        let fixture = try SyncFixture()
        cached = fixture
        return fixture
    }

    private init() throws {
        let binary =
            ProcessInfo.processInfo.environment["COFFER_SERVER_BINARY"] ?? "../.build-release/release/coffer-server"
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-server-\(UUID().uuidString)")
        let port = Int.random(in: 20_000...40_000)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--host", "127.0.0.1", "--port", String(port), "--data-dir", data.path, "--log-level", "warning",
        ]
        // Detached from the benchmark's pipes, or the benchmark runner waits for the server to exit.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        url = "http://127.0.0.1:\(port)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-a-\(UUID().uuidString)")
        let paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        let created = try VaultSetup.create(paths: paths, password: Self.password, parameters: .minimum)
        let session = try VaultSession(store: VaultStore.open(at: paths.vaultFile), keyring: created.keyring)
        _ = try session.add(contentsOf: (0..<10_000).map { BenchmarkFixtures.sampleItem(index: $0) })
        let (url, email, file) = (url, email, paths.vaultFile)
        // Wait for the server to accept connections (the registration retries until it does).
        var registered: (keyring: Keyring, recoveryCode: RecoveryCode, report: SyncReport)?
        for _ in 0..<100 where registered == nil {
            registered = try? AsyncBridge.wait {
                try await AccountFlows.register(
                    server: url, email: email, password: SyncFixture.password, deviceName: "bench-a", vaultFile: file,
                    createIfMissing: false)
            }
            if registered == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard let registered else { throw CofferClientError.unreachable(server: url) }
        store = try VaultStore.open(at: file)
        keyring = registered.keyring
    }
}
