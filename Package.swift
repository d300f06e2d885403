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

let package = Package(
    name: "Coffer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "coffer", targets: ["coffer"]),
        .library(name: "CofferCrypto", targets: ["CofferCrypto"]),
        .library(name: "CofferModel", targets: ["CofferModel"]),
        .library(name: "CofferVault", targets: ["CofferVault"]),
        .library(name: "CofferStore", targets: ["CofferStore"]),
        .library(name: "CofferAgent", targets: ["CofferAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
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
        .target(name: "CSystemSupport"),
        .target(
            name: "CofferAgent",
            dependencies: ["CofferStore", "CofferVault", "CofferModel", "CofferCrypto", "CSystemSupport"],
            swiftSettings: sharedSwiftSettings
        ),
        .executableTarget(
            name: "coffer",
            dependencies: [
                "CofferAgent", "CofferModel", "CofferVault", "CofferCrypto", "CofferStore", "CSystemSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: sharedSwiftSettings
        ),
        .testTarget(
            name: "CofferCryptoTests", dependencies: ["CofferCrypto"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferModelTests", dependencies: ["CofferModel"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferVaultTests", dependencies: ["CofferVault"], swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferStoreTests", dependencies: ["CofferStore", "CofferAgent"],
            swiftSettings: sharedSwiftSettings),
        .testTarget(
            name: "CofferEndToEndTests",
            dependencies: ["coffer", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: sharedSwiftSettings),
    ]
)
