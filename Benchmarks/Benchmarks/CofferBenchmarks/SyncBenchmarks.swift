import Benchmark
import CofferAgent
import CofferClient
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Sync protocol 2's budgets (issue 11), against the real `coffer-server` (COFFER_SERVER_BINARY):
/// a no-change sync costs the same at 1,000, 100,000 and 1,000,000 items (ratio ≤ 1.2), one change on
/// a 100,000-item vault costs work in proportion to the change, and registering 1,000,000 items works.
/// Plus issue 3's initial sync of 10,000 items to a new device.
func syncBenchmarks() {
    for count in [1_000, 100_000, 1_000_000] {
        Benchmark("No-change sync at \(count) items", configuration: .init(maxIterations: 50)) { benchmark in
            let fixture = try SyncFixture.shared(count: count)
            let engine = SyncEngine(store: fixture.store, keyring: fixture.keyring)
            _ = try AsyncBridge.wait { try await engine.sync() }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let report = try AsyncBridge.wait { try await engine.sync() }
                precondition(report.pulled == 0 && report.pushed == 0)
            }
        }
    }

    Benchmark("One-change sync at 100,000 items", configuration: .init(maxIterations: 20)) { benchmark in
        let fixture = try SyncFixture.shared(count: 100_000)
        let session = try VaultSession(store: fixture.store, keyring: fixture.keyring)
        var item = try session.resolve("Service 4242 account", scope: .live)
        item.notes = "changed \(UUID())"
        _ = try session.update(item)
        let engine = SyncEngine(store: fixture.store, keyring: fixture.keyring)
        benchmark.startMeasurement()
        let report = try AsyncBridge.wait { try await engine.sync() }
        benchmark.stopMeasurement()
        precondition(report.pushed == 1, "pushed \(report.pushed)")
    }

    Benchmark("Register a vault of 1,000,000 items", configuration: .init(maxIterations: 1)) { benchmark in
        benchmark.startMeasurement()
        let fixture = try SyncFixture(count: 1_000_000, name: "register")
        benchmark.stopMeasurement()
        let pending = try fixture.store.pendingChangeCount()
        precondition(pending == 0)
    }

    Benchmark("Initial sync of 10,000 items to a new device", configuration: .init(maxIterations: 3)) { benchmark in
        let fixture = try SyncFixture.shared(count: 10_000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-login-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("vault.sqlite").path
        let (url, email) = (fixture.url, fixture.email)
        benchmark.startMeasurement()
        let result = try AsyncBridge.wait {
            try await AccountFlows.login(
                server: url, email: email, password: SyncFixture.password, deviceName: "bench", vaultFile: file,
                kdf: .acceptWeaker)
        }
        benchmark.stopMeasurement()
        precondition(result.report.pulled == 10_000, "pulled \(result.report.pulled)")
    }
}

/// A server with one registered account holding `count` items, synced; built once per size and process.
final class SyncFixture: Sendable {
    static let password = "benchmark-password-1"
    let url: String
    let email = "bench@example.org"
    let store: VaultStore
    let keyring: Keyring
    private let process: Process

    // Both statics are touched only from the benchmark runner's one thread (benchmarks run one after
    // another) and from the exit handler after it, so unsynchronised access is safe.
    nonisolated(unsafe) private static var cached: [Int: SyncFixture] = [:]
    /// Every server started, stopped when the benchmark process exits: a server left running keeps the
    /// benchmark runner waiting for its output to end.
    nonisolated(unsafe) private static var servers: [Process] = []

    static func shared(count: Int) throws -> SyncFixture {
        if let fixture = cached[count] { return fixture }
        let fixture = try SyncFixture(count: count, name: "\(count)")
        cached[count] = fixture
        return fixture
    }

    /// Starts a server, fills a vault with `count` sealed items (in batches, straight into the store),
    /// and registers it, which uploads them all and publishes the manifest.
    init(count: Int, name: String) throws {
        let binary =
            ProcessInfo.processInfo.environment["COFFER_SERVER_BINARY"] ?? "../.build-release/release/coffer-server"
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-server-\(name)-\(UUID().uuidString)")
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
        if Self.servers.isEmpty {
            atexit { for server in SyncFixture.servers where server.isRunning { server.terminate() } }
        }
        Self.servers.append(process)
        url = "http://127.0.0.1:\(port)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-a-\(UUID().uuidString)")
        let paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        let created = try VaultSetup.create(paths: paths, password: Self.password, parameters: .minimum)
        let filling = try VaultStore.open(at: paths.vaultFile)
        for start in stride(from: 0, to: count, by: 10_000) {
            let batch = try (start..<min(count, start + 10_000)).map {
                try created.keyring.seal(BenchmarkFixtures.sampleItem(index: $0), revision: 1)
            }
            try filling.commit(VaultChange(upserts: batch), keyring: created.keyring)
        }
        let (url, email, file) = (url, email, paths.vaultFile)
        // Wait for the server to accept connections (the registration retries until it does).
        var registered: (keyring: Keyring, recoveryCode: RecoveryCode, report: SyncReport)?
        for _ in 0..<100 where registered == nil {
            do {
                registered = try AsyncBridge.wait {
                    try await AccountFlows.register(
                        server: url, email: email, password: SyncFixture.password, deviceName: "bench-a",
                        vaultFile: file, createIfMissing: false)
                }
            } catch CofferClientError.unreachable {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        guard let registered else { throw CofferClientError.unreachable(server: url) }
        precondition(registered.report.pushed == count, "pushed \(registered.report.pushed) of \(count)")
        store = try VaultStore.open(at: file)
        keyring = registered.keyring
    }
}
