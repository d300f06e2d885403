// swift-tools-version: 6.1
import PackageDescription

/// A libFuzzer target for the import readers (CSV, JSON, ZIP, KDBX, OpenSSH keys): `make fuzz` builds it with
/// `-sanitize=fuzzer` and runs it on the seed corpus in Tests/CofferInterchangeTests/Fixtures.
/// Kept out of the main package so `make test` does not build an instrumented copy.
let package = Package(
    name: "CofferFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Coffer", path: "..")],
    targets: [
        .executableTarget(
            name: "CofferImportFuzzer",
            dependencies: [
                .product(name: "CofferInterchange", package: "Coffer"), .product(name: "CofferKDBX", package: "Coffer"),
                .product(name: "CofferSSH", package: "Coffer"),
            ],
            path: "Sources/CofferImportFuzzer"
        )
    ]
)
