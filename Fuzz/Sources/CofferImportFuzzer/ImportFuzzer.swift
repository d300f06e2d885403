import CofferInterchange
import CofferKDBX
import CofferSSH
import Foundation

/// Feeds arbitrary bytes to every import reader: each must return items or an `ImportError`, never
/// crash, hang or run out of memory. Format detection is exercised too, and each explicit CSV
/// format is forced once so a mapper sees headers it did not choose.
///
/// KDBX is fuzzed in its two parsers that see untrusted bytes before and after decryption: the
/// outer header (signatures, fields, key-derivation parameters) and the decrypted payload (inner
/// header, XML, protected values, attachment references), then the mapping to items. The
/// key derivation itself is skipped: it would make every run cost what the header asks for.
///
/// SSH private keys (`coffer add ssh-key --private-key-file`) are fuzzed as text and, so mutations
/// reach the binary layout directly, as raw bytes wrapped in the PEM armour; the ssh-agent socket's
/// message parser gets the raw bytes too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    _ = try? Importer.read(data: data, name: "fuzz")
    _ = try? KDBXFile.settings(of: data)
    if let database = try? KDBXFile.readInner(Array(data)) { _ = KeePassInterchange.items(from: database) }
    let formats = ImportFormat.allCases.filter { $0 != .genericCSV && $0 != .cofferExport }
    _ = try? OpenSSHKeyFile.read(String(decoding: data, as: UTF8.self), passphrase: nil)
    let armoured =
        "-----BEGIN OPENSSH PRIVATE KEY-----\n\(data.base64EncodedString())\n-----END OPENSSH PRIVATE KEY-----\n"
    _ = try? OpenSSHKeyFile.read(armoured, passphrase: nil)
    _ = SSHAgentProtocol.parse(Array(data))
    if let first = data.first {
        _ = try? Importer.read(data: data.dropFirst(), name: "fuzz", format: formats[Int(first) % formats.count])
    }
    return 0
}

/// libFuzzer's driver, for when the executable's `main` is SwiftPM's (which calls this module's
/// `CofferImportFuzzer_main`): hand the command line to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("CofferImportFuzzer_main")
public func fuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, { fuzz($0, $1) })
}
