import ArgumentParser
import CofferAgent
import CofferModel
import Crypto
import Foundation

/// `coffer copy NAME [FIELD]`: puts a value on the clipboard and clears it after 30 seconds.
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a field (the password by default) to the clipboard; it is cleared after 30 seconds.")

    @Argument(help: "The item's title or id.")
    var name: String

    @Argument(help: "The field to copy; `totp` copies the current code.")
    var field = "password"

    @Option(help: "Seconds before the clipboard is cleared.")
    var clearAfter = 30

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        let clipboard = try Clipboard.detect()
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let item = try vault.item(.resolve(name: name, scope: .live))
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
    @Option var digest: String

    func run() throws {
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
            .invalidInput,
            "No clipboard is available: install wl-clipboard (Wayland), xclip or xsel (X11) and run inside a desktop session. `coffer get` prints the value instead."
        )
    }

    /// Feeds the value on standard input, never as an argument.
    func write(_ value: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: copyCommand[0])
        process.arguments = Array(copyCommand.dropFirst())
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(value.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    func read() -> String? {
        guard let path = Self.which(pasteCommand[0]) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = Array(pasteCommand.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func scheduleClear(after seconds: Int, ifStill value: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        // The digest, not the value, goes on the command line.
        process.arguments = ["clipboard-clear", "--after", String(seconds), "--digest", Self.digest(value)]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    static func digest(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func which(_ command: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
