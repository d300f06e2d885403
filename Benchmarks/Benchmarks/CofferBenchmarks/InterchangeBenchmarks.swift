import Benchmark
import CofferAgent
import CofferInterchange
import CofferStore
import CofferVault
import Foundation

/// Budgets (issue 6): reading a 100,000-row CSV export, and importing it into a vault in one step.
func interchangeBenchmarks() {
    let csv: Data = {
        var lines = ["folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp"]
        for index in 0..<100_000 {
            lines.append(
                "Folder \(index % 20),0,login,Service \(index),\"Notes for \(index)\",,0,https://example.org/\(index),user\(index)@example.org,pw-\(index)-x7Qz,"
            )
        }
        return Data(lines.joined(separator: "\n").utf8)
    }()

    Benchmark("Read a 100,000-row Bitwarden CSV", configuration: .init(maxIterations: 5)) { benchmark in
        benchmark.startMeasurement()
        blackHole(try Importer.read(data: csv, name: "bench.csv"))
    }

    Benchmark("Import a 100,000-row CSV into an empty vault", configuration: .init(maxIterations: 3)) { benchmark in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-bench-import-\(UUID())")
        let paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        let keyring = try VaultSetup.create(paths: paths, password: "benchmark-password-1", parameters: .minimum).keyring
        let session = try VaultSession(store: VaultStore.open(at: paths.vaultFile), keyring: keyring)
        benchmark.startMeasurement()
        let items = try Importer.read(data: csv, name: "bench.csv").items
        blackHole(try session.apply(adding: items, updating: []))
    }
}
