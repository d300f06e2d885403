import CofferVault
import Foundation

/// The manifest of sync protocol 1 — a MACed list of every live item's (id, revision, content hash).
/// Read only to upgrade an account to protocol 2 and to check quarantines made before it.
enum LegacyManifest {
    /// Compares what the server served, item id → (revision, content hash), with a signed manifest:
    /// anything missing, injected, replaced or rolled back is an error, never applied.
    static func check(_ manifest: Manifest, served: [UUID: (Int64, [UInt8])]) throws(CofferClientError) {
        var expected: [UUID: (Int64, [UInt8])] = [:]
        for entry in manifest.entries { expected[entry.itemID] = (entry.revision, entry.contentHash) }
        let missing = expected.keys.filter { served[$0] == nil }
        let injected = served.keys.filter { expected[$0] == nil }
        let changed = expected.keys.filter { id in
            guard let served = served[id], let listed = expected[id] else { return false }
            return served.0 != listed.0 || served.1 != listed.1
        }
        guard missing.isEmpty, injected.isEmpty, changed.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) item(s) missing") }
            if !injected.isEmpty { parts.append("\(injected.count) item(s) not in the manifest") }
            if !changed.isEmpty { parts.append("\(changed.count) item(s) replaced or rolled back") }
            throw .manifestMismatch(parts.joined(separator: ", "))
        }
    }
}
