import Benchmark
import CofferSSH
import Foundation

/// Issue 17: what one SSH signature costs the agent per key type (a login signs once), and what
/// adding a passphrase-protected key file costs (bcrypt-pbkdf at ssh-keygen's default 16 rounds).
func sshBenchmarks() {
    let data = [UInt8](repeating: 0x5A, count: 128)
    let ed25519 = SSHPrivateKey.generateEd25519(comment: "bench")
    Benchmark("SSH agent: sign with Ed25519", configuration: .init(maxIterations: 1000)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try ed25519.sign(data, flags: 0)) }
    }
    for (type, bits) in [("rsa", "3072"), ("ecdsa", "256")] {
        guard let key = try? OpenSSHKeyFile.read(sshKeygen(type: type, bits: bits, passphrase: ""), passphrase: nil)
        else { fatalError("ssh-keygen (openssh-client) is needed for the \(type) benchmark") }
        Benchmark("SSH agent: sign with \(type.uppercased())-\(bits)", configuration: .init(maxIterations: 200)) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try key.sign(data, flags: SSHPrivateKey.rsaSHA512Flag))
            }
        }
    }
    let protected = sshKeygen(type: "ed25519", bits: "256", passphrase: "bench phrase")
    Benchmark(
        "Open an ssh-keygen key file behind a passphrase (bcrypt-pbkdf, 16 rounds)",
        configuration: .init(maxIterations: 10)
    ) {
        benchmark in
        blackHole(try OpenSSHKeyFile.read(protected, passphrase: "bench phrase"))
    }
}

/// A key file made by Debian's ssh-keygen, as users bring them.
private func sshKeygen(type: String, bits: String, passphrase: String) -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ssh-\(UUID())").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
    process.arguments = ["-q", "-t", type, "-b", bits, "-N", passphrase, "-f", file]
    try? process.run()
    process.waitUntilExit()
    defer {
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: file + ".pub")
    }
    return (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
}
