import CSystemSupport
import CofferAgent
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process whose output passes through a ``Masker`` on its way to the terminal, with this
/// process's signals forwarded to it.
enum Supervised {
    /// How the child ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Signals a user or a supervisor sends to stop or poke a command; each is passed to the child.
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    /// Runs `path` with `arguments` and the environment `environment` (`NAME=value` strings), copying
    /// its standard output and error here with every value of `masking` replaced.
    static func run(_ path: String, _ arguments: [String], _ environment: [String], masking: [[UInt8]]) throws
        -> Ending
    {
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard pipe(&output) == 0, pipe(&errors) == 0 else {
            throw AgentFailure(.storage, "Cannot create pipes for the command's output.")
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        // Signals arrive as events from here on, so none is lost between the spawn and the forwarding.
        let sources = forwarded.map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: number, queue: .global())
        }
        let pid = coffer_spawn_with_environment(path, argv, envp, output[1], errors[1])
        close(output[1])
        close(errors[1])
        guard pid > 0 else {
            close(output[0])
            close(errors[0])
            throw AgentFailure(.invalidInput, "Cannot start \(path).")
        }
        for (source, number) in zip(sources, forwarded) {
            source.setEventHandler { kill(pid, number) }
            source.resume()
        }
        let copies = DispatchGroup()
        for (from, to) in [(output[0], Int32(1)), (errors[0], Int32(2))] {
            copies.enter()
            Thread.detachNewThread {
                copy(from: from, to: to, masker: Masker(secrets: masking))
                close(from)
                copies.leave()
            }
        }
        var code: Int32 = -1
        var number: Int32 = 0
        let waited = coffer_wait_for_status(pid, &code, &number)
        copies.wait()
        for source in sources { source.cancel() }
        guard waited == 0 else { return .exited(127) }
        return number != 0 ? .signalled(number) : .exited(code)
    }

    private static func copy(from source: Int32, to destination: Int32, masker: Masker) {
        var masker = masker
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            writeAll(masker.feed(buffer[0..<count]), to: destination)
        }
        writeAll(masker.finish(), to: destination)
    }

    private static func writeAll(_ bytes: [UInt8], to destination: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// Replaces secrets in a stream of bytes, including a secret split across two reads: the end of a
/// read that could be the start of a secret is held back until the next read (or the end) decides.
struct Masker {
    private let secrets: [[UInt8]]
    private var pending: [UInt8] = []

    /// A masker for `secrets` (longest first, so a secret containing another is replaced whole).
    init(secrets: [[UInt8]]) {
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    /// The bytes of `chunk` (after what was held back) that are safe to pass on now, secrets masked.
    mutating func feed(_ chunk: ArraySlice<UInt8>) -> [UInt8] {
        pending += chunk
        return drain(final: false)
    }

    /// Everything still held back, masked: the stream has ended.
    mutating func finish() -> [UInt8] { drain(final: true) }

    private mutating func drain(final: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var position = 0
        scanning: while position < pending.count {
            let rest = pending[position...]
            for secret in secrets {
                if rest.starts(with: secret) {
                    out += Run.mask
                    position += secret.count
                    continue scanning
                }
                // The rest so far is the start of this secret: wait for more before deciding.
                if !final, rest.count < secret.count, secret.starts(with: rest) { break scanning }
            }
            out.append(pending[position])
            position += 1
        }
        pending.removeFirst(position)
        return out
    }
}
