import ArgumentParser
import CSystemSupport
import CofferAgent
import CofferModel
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `coffer copy NAME [FIELD]`: puts a value on the clipboard and clears it after 30 seconds.
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a field (the password by default) to the clipboard; it is cleared after 30 seconds.")

    @Argument(help: "The item's title or id.")
    var name: String

    @Argument(help: "The field to copy; `totp` copies the current code.")
    var field = "password"

    @Option(help: "Seconds before the clipboard is cleared (1 to 3600).")
    var clearAfter = 30

    @OptionGroup var secrets: SecretOptions

    func validate() throws {
        guard (1...3600).contains(clearAfter) else {
            throw ValidationError("--clear-after takes a number of seconds from 1 to 3600, not \(clearAfter).")
        }
    }

    func run() throws {
        let clipboard = try Clipboard.detect()
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.call(ResolveItem(name, scope: .live))
        var value = try FieldLookup.value(of: field, in: item)
        if item.kind(of: field) == .totp { value = try TOTP(parsing: value).code(at: Date()) }
        try clipboard.write(value)
        try clipboard.scheduleClear(after: clearAfter, ifStill: value)
        Terminal.note("Copied \(field) of \"\(item.title)\"; the clipboard is cleared in \(clearAfter) s.")
    }
}

/// `coffer clipboard-clear`: the background helper that empties the clipboard if it still holds the copied value.
struct ClipboardClear: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clipboard-clear", shouldDisplay: false)

    @Option var after: Int

    func run() throws {
        // The digest of the copied value comes on standard input: on the command line it would show in
        // `ps`, and a digest of a password can be attacked offline.
        let digest = readLine(strippingNewline: true) ?? ""
        let clipboard = try Clipboard.detect()
        Thread.sleep(forTimeInterval: TimeInterval(max(0, after)))
        // Only clear what we put there: the user may have copied something else meanwhile.
        if let current = clipboard.read(), Clipboard.digest(current) == digest { try clipboard.write("") }
    }
}

/// The first clipboard tool found: wl-copy (Wayland), xclip or xsel (X11).
struct Clipboard {
    let copyCommand: [String]
    let pasteCommand: [String]

    static func detect() throws -> Clipboard {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [(Bool, [String], [String])] = [
            (environment["WAYLAND_DISPLAY"] != nil, ["wl-copy"], ["wl-paste", "--no-newline"]),
            (
                environment["DISPLAY"] != nil, ["xclip", "-selection", "clipboard"],
                ["xclip", "-selection", "clipboard", "-o"]
            ),
            (environment["DISPLAY"] != nil, ["xsel", "--clipboard", "--input"], ["xsel", "--clipboard", "--output"]),
        ]
        for (isUsable, copy, paste) in candidates where isUsable {
            if let path = which(copy[0]) {
                return Clipboard(copyCommand: [path] + copy.dropFirst(), pasteCommand: paste)
            }
        }
        throw AgentFailure(
            .unavailable,
            "No clipboard is available: install wl-clipboard (Wayland), xclip or xsel (X11) and run inside a desktop session. `coffer get` prints the value instead."
        )
    }

    /// Feeds the value on standard input, never as an argument. The tool runs in its own session:
    /// xclip, xsel and wl-copy leave a process behind that serves the clipboard, and in the terminal's
    /// session that process would be killed by the hang-up when the terminal closes, taking the copied
    /// value with it.
    func write(_ value: String) throws {
        let status = try Subprocess.run(copyCommand, input: Data(value.utf8), session: .own)
        guard status.exitStatus == 0 else {
            throw AgentFailure(.storage, "\(copyCommand[0]) could not set the clipboard (exit \(status.exitStatus)).")
        }
        // Clearing needs no confirmation: an empty clipboard may read back as "nothing there" (an error).
        if !value.isEmpty { try waitUntilHolding(value) }
    }

    /// The copy tool returns before the process it leaves behind has told the display server that it owns
    /// the clipboard; until then a paste gets the old contents. Saying "Copied" is only true after that.
    private func waitUntilHolding(_ value: String) throws {
        let deadline = Date().addingTimeInterval(5)
        while read() != value {
            guard Date() < deadline else {
                throw AgentFailure(
                    .unavailable,
                    "\(copyCommand[0]) ran but the clipboard does not hold the value. Check that the display is reachable, or use `coffer get` to print the value instead."
                )
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func read() -> String? {
        guard let path = Self.which(pasteCommand[0]),
            let result = try? Subprocess.run([path] + pasteCommand.dropFirst(), capturingOutput: true),
            result.exitStatus == 0
        else { return nil }
        return String(decoding: result.output, as: UTF8.self)
    }

    /// Starts the helper that clears the clipboard later, in its own session so closing the terminal
    /// does not stop it, with nothing secret on its command line: the value's digest goes through a pipe.
    func scheduleClear(after seconds: Int, ifStill value: String) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        try Subprocess.startDetached(
            [executable, "clipboard-clear", "--after", String(seconds)], input: Data((Self.digest(value) + "\n").utf8))
    }

    static func digest(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func which(_ command: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Runs helper programs with posix_spawn and waitpid. Foundation's `Process` is not used: on Linux its
/// `waitUntilExit` can miss a child that exits at once (xclip's parent does), and the command hangs.
enum Subprocess {
    struct Result {
        let exitStatus: Int32
        let output: Data
    }

    /// Which session a started program belongs to.
    enum Session {
        /// The caller's: it ends with the terminal.
        case inherited
        /// A new one without a terminal: it outlives the terminal the command was typed in.
        case own
    }

    /// Runs `command` to its end with `input` on its stdin, optionally collecting its stdout.
    static func run(
        _ command: [String], input: Data = Data(), capturingOutput: Bool = false, session: Session = .inherited
    ) throws -> Result {
        let stdin = try Pipe()
        let stdout = capturingOutput ? try Pipe() : nil
        let pid = try spawn(command, stdin: stdin.read, stdout: stdout?.write ?? -1, session: session)
        stdin.closeRead()
        stdout?.closeWrite()
        stdin.writeAll(input)
        stdin.closeWrite()
        let output = stdout?.readAll() ?? Data()
        stdout?.closeRead()
        return Result(exitStatus: coffer_wait_for_exit(pid), output: output)
    }

    /// Starts `command` in a new session with `input` on its stdin and does not wait for it.
    /// The input must fit the pipe's buffer (64 KiB), which a digest does.
    static func startDetached(_ command: [String], input: Data) throws {
        let stdin = try Pipe()
        stdin.writeAll(input)
        stdin.closeWrite()
        defer { stdin.closeRead() }
        _ = try spawn(command, stdin: stdin.read, stdout: -1, session: .own)
    }

    private static func spawn(_ command: [String], stdin: Int32, stdout: Int32, session: Session) throws -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let pid = coffer_spawn(command[0], &argv, stdin, stdout, session == .own ? 1 : 0)
        guard pid > 0 else { throw AgentFailure(.storage, "Cannot start \(command[0]).") }
        return pid
    }

    /// Both ends of a pipe, closed at most once each.
    final class Pipe {
        private(set) var read: Int32
        private(set) var write: Int32

        init() throws {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw AgentFailure(.storage, "Cannot create a pipe.") }
            (read, write) = (ends[0], ends[1])
            // Not inherited by anything else this process starts meanwhile.
            _ = fcntl(read, F_SETFD, FD_CLOEXEC)
            _ = fcntl(write, F_SETFD, FD_CLOEXEC)
        }

        deinit {
            closeRead()
            closeWrite()
        }

        func closeRead() {
            if read >= 0 { close(read) }
            read = -1
        }

        func closeWrite() {
            if write >= 0 { close(write) }
            write = -1
        }

        func writeAll(_ data: Data) {
            data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(write, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }

        func readAll() -> Data {
            var data = Data()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = Glibc.read(read, &chunk, chunk.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return data }
                data.append(contentsOf: chunk[0..<count])
            }
        }
    }
}
