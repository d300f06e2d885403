import Benchmark
import CofferAgent
import CofferCrypto
import CofferRecall
import CofferStore
import Foundation

/// Issue 16: guesses per second of `coffer recover --guess` against a vault at the default Argon2id
/// parameters, next to libargon2 alone doing the same number of derivations on every core. The
/// assistant's budget is a ratio of at least 0.9 (its search and bookkeeping cost nothing that shows).
func recallBenchmarks() {
    let guesses = 16
    let workers = GuessRun.workers()

    Benchmark("libargon2 alone: \(guesses) derivations at 64 MiB, t=3, p=4", configuration: .init(maxIterations: 3)) {
        benchmark in
        let salt = [UInt8](repeating: 7, count: 16)
        benchmark.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: guesses, by: workers) {
                blackHole(try? Argon2id.deriveMasterKey(password: "guess-\(index)", salt: salt, parameters: .default))
            }
        }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "recover --guess: \(guesses) variants against a vault at 64 MiB, t=3, p=4",
        configuration: .init(maxIterations: 3)
    ) {
        benchmark in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-bench-guess-\(UUID())")
        let paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        _ = try VaultSetup.create(paths: paths, password: "the-real-one", parameters: .default)
        let target = try GuessTarget.open(path: paths.vaultFile)
        var rules = VariantRules()
        rules.maximumSteps = 0
        let remembered = (0..<guesses).map { "guess-\($0)" }
        benchmark.startMeasurement()
        let outcome = GuessRun.run(target: target, remembered: remembered, rules: rules, workers: workers)
        benchmark.stopMeasurement()
        guard case .exhausted(guesses) = outcome else { fatalError("expected \(guesses) wrong guesses") }
    }
}
