import Benchmark
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Budget (issue 15, start-up): `coffer --version` as a whole process costs at most twice what a
/// static Swift hello world costs. The two are started the same way and alternately within each
/// iteration, so a busy moment of the machine touches both; their ratio is reported in percent.
func startupBenchmarks() {
    let hello = BenchmarkMetric.custom("static hello world (µs)", useScalingFactor: false)
    let version = BenchmarkMetric.custom("coffer --version (µs)", useScalingFactor: false)
    let ratio = BenchmarkMetric.custom("--version / hello world (%)", useScalingFactor: false)
    Benchmark(
        "Start-up: coffer --version against a static Swift hello world, whole processes",
        configuration: .init(metrics: [hello, version, ratio], maxDuration: .seconds(20), maxIterations: 300)
    ) { benchmark in
        let helloBinary = try StaticHello.binary()
        let coffer = try CofferProcess()
        let helloTime = try WholeProcess.microseconds(helloBinary, [])
        let versionTime = try WholeProcess.microseconds(coffer.binary, ["--version"])
        benchmark.measurement(hello, helloTime)
        benchmark.measurement(version, versionTime)
        benchmark.measurement(ratio, versionTime * 100 / max(1, helloTime))
    }
}

/// A Swift program that prints one line, built once with the standard library linked statically
/// (as `coffer` is), the peer the start-up budget names.
enum StaticHello {
    nonisolated(unsafe) static var built: String?

    static func binary() throws -> String {
        if let built { return built }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-bench-hello-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = folder.appendingPathComponent("main.swift")
        try Data(#"print("hello, world")"#.utf8).write(to: source)
        let output = folder.appendingPathComponent("hello").path
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["swiftc", "-O", "-static-stdlib", source.path, "-o", output]
        try compile.run()
        compile.waitUntilExit()
        guard compile.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: output + " (swiftc failed)"])
        }
        built = output
        return output
    }
}

/// Starts a program with `posix_spawn`, waits for it, and says how long that took: Foundation's
/// `Process` adds about a millisecond and a half of its own to both sides, which would flatter the
/// ratio.
enum WholeProcess {
    static func microseconds(_ binary: String, _ arguments: [String]) throws -> Int {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: binary + " (posix_spawn: \(spawned))"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let elapsed = clock.now - start
        return Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
    }
}
