import CofferAPI
import CofferVault
import Foundation

/// Everything the server holds after a cursor: its records in sequence order and its manifest.
struct PulledState: Sendable {
    /// Parsed records, strictly increasing in sequence, each after the cursor asked for.
    var records: [ServerRecord]
    /// The manifest the last page carried, with its encoded bytes.
    var manifest: WireManifest?
    /// The highest sequence seen: the cursor after the last record, or the one asked for.
    var lastSequence: Int64
    /// When the server says its operator last restored it from a backup.
    var restoredAt: Date?
}

/// Reads pages until the server says there are no more — but never trusts it to stop: every page
/// must move the cursor forward and stay within bounds, so a server that answers `hasMore` forever,
/// repeats a page or goes backwards is caught instead of looping.
struct PageReader: Sendable {
    let api: APIClient
    let token: String

    /// The most pages one pull may take: a million-item vault fits many times over.
    static let maximumPages = 20_000

    func pull(after cursor: Int64) async throws -> PulledState {
        var state = PulledState(records: [], manifest: nil, lastSequence: cursor)
        for _ in 0..<Self.maximumPages {
            let page = try await api.pull(after: state.lastSequence, token: token)
            guard page.records.count <= SyncPage.maximumRecords else {
                throw CofferClientError.manifestMismatch("a page held more records than the protocol allows")
            }
            var previous = state.lastSequence
            for wire in page.records {
                guard wire.sequence > previous else {
                    throw CofferClientError.manifestMismatch("the server sent writes out of order or twice")
                }
                previous = wire.sequence
                state.records.append(try ServerRecord(wire))
            }
            guard page.cursor == previous else {
                throw CofferClientError.manifestMismatch("the server's cursor does not follow its records")
            }
            state.lastSequence = previous
            state.manifest = page.manifest
            state.restoredAt = page.restoredAt
            guard page.hasMore else { return state }
            guard !page.records.isEmpty else {
                throw CofferClientError.manifestMismatch("the server said more records wait but sent none")
            }
        }
        throw CofferClientError.manifestMismatch(
            "the server kept sending pages (more than \(Self.maximumPages)) and never finished")
    }
}
