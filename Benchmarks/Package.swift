// swift-tools-version: 6.1
import PackageDescription

/// Coffer's speed budgets, measured with package-benchmark. Kept out of the main package so
/// `make test` does not build the benchmark tooling; run them with `make bench`.
let package = Package(
    name: "CofferBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Coffer", path: ".."),
        .package(
            url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CofferBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CofferCrypto", package: "Coffer"),
                .product(name: "CofferModel", package: "Coffer"),
                .product(name: "CofferVault", package: "Coffer"),
                .product(name: "CofferStore", package: "Coffer"),
                .product(name: "CofferAgent", package: "Coffer"),
                .product(name: "CofferClient", package: "Coffer"),
                .product(name: "CofferBackup", package: "Coffer"),
                .product(name: "CofferInterchange", package: "Coffer"),
                .product(name: "CofferKDBX", package: "Coffer"),
                .product(name: "CofferRecall", package: "Coffer"),
                .product(name: "CofferSSH", package: "Coffer"),
            ],
            path: "Benchmarks/CofferBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ]
)
