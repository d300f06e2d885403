import CofferAgent
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Data the benchmarks share, built once per process.
enum BenchmarkFixtures {
    static func sampleItem(index: Int = 0) -> Item {
        var item = Item(
            type: .login, title: "Service \(index) account", now: Date(timeIntervalSince1970: 1_800_000_000))
        item.setValue("user\(index)@example.org", of: "username")
        item.setValue("pw-\(index)-\(UUID().uuidString)", of: "password")
        item.urls = ["https://example.org/\(index)"]
        item.tags = index % 3 == 0 ? ["work"] : ["personal"]
        item.notes = "Notes for item \(index)."
        return item
    }

    static func records(count: Int, keyring: Keyring) throws -> [SealedItem] {
        try (0..<count).map { try keyring.seal(sampleItem(index: $0), revision: 1) }
    }

    /// A new, empty vault in its own temporary directory, with the cheapest key derivation.
    static func emptyVault() throws -> (path: String, keyring: Keyring, session: VaultSession) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coffer-bench-\(UUID().uuidString)")
        let paths = ProfilePaths(environment: ["COFFER_HOME": directory.path])
        let keyring = try VaultSetup.create(paths: paths, password: "benchmark-password-1", parameters: .minimum)
            .keyring
        let session = try VaultSession(store: VaultStore.open(at: paths.vaultFile), keyring: keyring)
        return (paths.vaultFile, keyring, session)
    }

    /// A 100,000-item vault file in a temporary directory, created once.
    static func largeVault() throws -> (path: String, keyring: Keyring) {
        if let cached = LargeVaultCache.value { return cached }
        let vault = try emptyVault()
        _ = try vault.session.add(contentsOf: (0..<100_000).map { sampleItem(index: $0) })
        LargeVaultCache.value = (vault.path, vault.keyring)
        return (vault.path, vault.keyring)
    }

    static func largeSession() throws -> VaultSession {
        if let cached = SessionCache.value { return cached }
        let fixture = try largeVault()
        let session = try VaultSession(store: VaultStore.open(at: fixture.path), keyring: fixture.keyring)
        SessionCache.value = session
        return session
    }

    /// A profile with one login, unlocked in a real agent started by the real binary.
    ///
    /// With `items`, the vault also holds that many other logins, imported as a Bitwarden CSV through
    /// the real `coffer import`, so whole-process figures can be compared across vault sizes.
    static func unlockedProfile(items: Int = 0) throws -> CofferProcess {
        if let cached = ProfileCache.value[items] { return cached }
        let profile = try CofferProcess()
        _ = try profile.run(["init", "--password-stdin"], stdin: "benchmark-password-1\n")
        if items > 0 {
            var lines = [
                "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp"
            ]
            for index in 0..<items {
                lines.append(
                    "Folder \(index % 20),0,login,Service \(index),,,0,https://example.org/\(index),user\(index)@example.org,pw-\(index),"
                )
            }
            let file = profile.home + "/bench-\(items).csv"
            try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: file))
            _ = try profile.run(["import", file, "--yes"])
        }
        _ = try profile.run(
            ["add", "login", "--title", "Benchmark login", "--password-stdin"], stdin: "bench-password\n")
        ProfileCache.value[items] = profile
        return profile
    }
}

/// Runs the `coffer` binary (COFFER_BINARY, or the release build of the main package).
struct CofferProcess: Sendable {
    let home: String
    let binary: String

    init() throws {
        home =
            FileManager.default.temporaryDirectory.appendingPathComponent("coffer-bench-\(UUID().uuidString.prefix(8))")
            .path
        binary = ProcessInfo.processInfo.environment["COFFER_BINARY"] ?? "../.build/release/coffer"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CocoaError(
                .fileNoSuchFile, userInfo: [NSFilePathErrorKey: binary + " (run `make bench`, which builds it)"])
        }
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["COFFER_HOME": home]) { $1 }
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Process-wide caches for fixtures that take seconds to build; benchmarks run one at a time.
enum LargeVaultCache {
    nonisolated(unsafe) static var value: (path: String, keyring: Keyring)?
}

/// See `LargeVaultCache`.
enum ProfileCache {
    nonisolated(unsafe) static var value: [Int: CofferProcess] = [:]
}

/// See `LargeVaultCache`.
enum SessionCache {
    nonisolated(unsafe) static var value: VaultSession?
}
