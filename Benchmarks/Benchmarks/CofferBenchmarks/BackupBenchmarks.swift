import Benchmark
import CofferAgent
import CofferBackup
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Budgets (issue 5): create, verify and restore a backup of 100,000 items, and its size on disk.
func backupBenchmarks() {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-bench-backups-\(UUID())").path
    let settings = try? BackupSettings(
        paths: ProfilePaths(environment: ["COFFER_HOME": folder]), environment: ["COFFER_BACKUP_DIR": folder])

    Benchmark("Create a backup of 100,000 items", configuration: .init(maxIterations: 5)) { benchmark in
        let session = try BenchmarkFixtures.largeSession()
        guard let settings else { return }
        benchmark.startMeasurement()
        let path = try BackupService(session: session, settings: settings).create()
        benchmark.stopMeasurement()
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        FileHandle.standardError.write(Data("100,000-item backup: \(size) bytes on disk\n".utf8))
    }

    Benchmark("Verify a backup of 100,000 items", configuration: .init(maxIterations: 5)) { benchmark in
        let session = try BenchmarkFixtures.largeSession()
        guard let settings else { return }
        let path = try BackupService(session: session, settings: settings).create()
        benchmark.startMeasurement()
        blackHole(try BackupService(session: session, settings: settings).verify(path, secret: nil))
    }

    Benchmark("Restore a backup of 100,000 items into an empty vault", configuration: .init(maxIterations: 3)) {
        benchmark in
        let session = try BenchmarkFixtures.largeSession()
        guard let settings else { return }
        let path = try BackupService(session: session, settings: settings).create()
        let file = try BackupFile.read(at: path)
        let empty = try VaultSession(
            store: VaultStore.create(
                at: folder + "/restore-\(UUID()).sqlite", header: try session.store.header(), keyring: session.keyring,
                writing: try session.store.contentFormat()),
            keyring: session.keyring)
        benchmark.startMeasurement()
        let items = try file.open(with: session.keyring.accountKey).items
        blackHole(try empty.restore(items, mode: .merge, dryRun: false))
    }
}
