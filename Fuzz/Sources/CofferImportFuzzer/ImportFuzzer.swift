import CofferInterchange
import Foundation

/// Feeds arbitrary bytes to every import reader: each must return items or an `ImportError`, never
/// crash, hang or run out of memory. Format detection is exercised too, and each explicit CSV
/// format is forced once so a mapper sees headers it did not choose.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    _ = try? Importer.read(data: data, name: "fuzz")
    let formats = ImportFormat.allCases.filter { $0 != .genericCSV && $0 != .cofferExport }
    if let first = data.first {
        _ = try? Importer.read(data: data.dropFirst(), name: "fuzz", format: formats[Int(first) % formats.count])
    }
    return 0
}
