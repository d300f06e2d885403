// swift-tools-version: 6.1
import PackageDescription

/// Settings every target shares: Swift 6 strict concurrency plus the upcoming
/// features that make imports and existentials explicit.
let sharedSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The `coffer` executable exports no symbols. Swift's static-stdlib link passes `-export-dynamic`,
/// which put 40,000 symbols in the dynamic table: each start then resolved references to them
/// through the dynamic linker, and the runtime's `dladdr` at start-up scanned them all. Measured on
/// `coffer --version`: 4.6 ms → 3.9 ms. Nothing loads code into `coffer` that would need them.
let hiddenExportsLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/coffer/exports.map"])
]

let package = Package(
    name: "Coffer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "coffer", targets: ["coffer"]),
        .executable(name: "coffer-server", targets: ["coffer-server"]),
        .library(name: "CofferCrypto", targets: ["CofferCrypto"]),
        .library(name: "CofferModel", targets: ["CofferModel"]),
        .library(name: "CofferVault", targets: ["CofferVault"]),
        .library(name: "CofferStore", targets: ["CofferStore"]),
        .library(name: "CofferAgent", targets: ["CofferAgent"]),
        .library(name: "CofferAgentTransport", targets: ["CofferAgentTransport"]),
        .library(name: "CofferFiles", targets: ["CofferFiles"]),
        .library(name: "CofferBackup", targets: ["CofferBackup"]),
        .library(name: "CofferInterchange", targets: ["CofferInterchange"]),
        .library(name: "CofferKDBX", targets: ["CofferKDBX"]),
        .library(name: "CofferClient", targets: ["CofferClient"]),
        .library(name: "CofferRecall", targets: ["CofferRecall"]),
        .library(name: "CofferSSH", targets: ["CofferSSH"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .systemLibrary(
            name: "CCofferZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "CofferInterchange",
            dependencies: [
                "CofferModel", "CofferKDBX", "CofferCrypto", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferSSH",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferKDBX",
            dependencies: [
                "CCofferZlib", "CofferCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferBackup",
            dependencies: [
                "CCofferZlib", "CofferCrypto", "CofferModel", "CofferVault",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferCrypto",
            dependencies: ["CArgon2", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Resources")],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferVault",
            dependencies: ["CofferCrypto", "CofferModel"],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferStore",
            dependencies: ["CofferVault", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferClient",
            dependencies: [
                "CofferAPI", "CofferStore", "CofferVault", "CofferModel", "CofferCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(name: "CSystemSupport"),
        .target(
            name: "CofferRecall",
            dependencies: [
                "CofferBackup", "CofferCrypto", "CofferStore", "CofferVault",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferAgentTransport", dependencies: ["CSystemSupport"], swiftSettings: sharedSwiftSettings),
        .target(name: "CofferFiles", swiftSettings: sharedSwiftSettings),
        .target(
            name: "CofferAgent",
            dependencies: [
                "CofferAgentTransport", "CofferStore", "CofferVault", "CofferModel", "CofferCrypto", "CofferClient",
                "CofferAPI", "CofferBackup", "CofferInterchange", "CofferSSH", "CofferFiles", "CSystemSupport",
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "coffer",
            dependencies: [
                "CofferAgent", "CofferModel", "CofferVault", "CofferCrypto", "CofferStore", "CofferClient", "CofferAPI",
                "CofferSSH",
                "CofferBackup", "CofferInterchange", "CofferKDBX", "CofferRecall", "CofferFiles", "CSystemSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["exports.map"],
            swiftSettings: sharedSwiftSettings,
            linkerSettings: hiddenExportsLinkerSettings
        ),
        .target(name: "CofferAPI", swiftSettings: sharedSwiftSettings),
        .target(
            name: "CofferServer",
            dependencies: [
                "CofferAPI", "CofferFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "coffer-server",
            dependencies: [
                "CofferServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .target(
            name: "CofferTestSupport",
            dependencies: [
                "CSystemSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/Support/CofferTestSupport",
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "CofferServerTests",
            dependencies: [
                "CofferServer", "CofferAPI", "coffer-server", "CofferTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "CofferCryptoTests", dependencies: ["CofferCrypto"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferModelTests", dependencies: ["CofferModel"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferFilesTests", dependencies: ["CofferFiles", "CofferTestSupport"],
            swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferSSHTests", dependencies: ["CofferSSH", "CofferTestSupport"], swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "CofferRecallTests", dependencies: ["CofferRecall"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferVaultTests", dependencies: ["CofferVault"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferInterchangeTests",
            dependencies: [
                "CofferInterchange", "CofferKDBX", "CofferModel",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Fixtures")], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferKDBXTests",
            dependencies: [
                "CofferKDBX", "KeePassXCPeer", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferBackupTests", dependencies: ["CofferBackup", "CofferVault", "CofferModel"],
            swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferStoreTests",
            dependencies: ["CofferStore", "CofferAgent", "CofferAgentTransport", "CofferAPI", "CofferInterchange"],
            swiftSettings: sharedSwiftSettings),
        .target(name: "KeePassXCPeer", path: "Tests/Support/KeePassXCPeer", swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferEndToEndTests",
            dependencies: [
                "coffer", "coffer-server", "KeePassXCPeer", "CofferTestSupport", "CofferAPI", "CofferClient",
                "CofferKDBX",
                "CofferAgent", "CofferStore", "CofferVault",
                "CofferModel", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            resources: [.copy("Fixtures")], swiftSettings: sharedSwiftSettings),
    ]
)
