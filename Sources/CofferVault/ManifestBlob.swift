public import CofferCrypto
public import Foundation

extension Keyring {
    /// Encodes a manifest with its MAC, as the server stores it (opaque to the server).
    public func encodeManifest(_ manifest: Manifest) -> Data {
        let blob = ManifestBlob(
            counter: manifest.counter,
            entries: manifest.entries.map { .init(id: $0.itemID, revision: $0.revision, hash: Data($0.contentHash)) },
            mac: Data(authenticate(manifest)))
        return (try? JSONEncoder().encode(blob)) ?? Data()
    }

    /// Decodes a manifest from the server, refusing it unless its MAC verifies under this account key.
    public func decodeManifest(_ data: Data) throws(CofferVaultError) -> Manifest {
        guard let blob = try? JSONDecoder().decode(ManifestBlob.self, from: data) else {
            throw .integrity("the server's manifest is unreadable")
        }
        let manifest = Manifest(
            counter: blob.counter,
            entries: blob.entries.map {
                ManifestEntry(itemID: $0.id, revision: $0.revision, contentHash: Array($0.hash))
            })
        guard constantTimeEquals(authenticate(manifest), Array(blob.mac)) else {
            throw .integrity("the server's manifest is not signed by this account")
        }
        return manifest
    }

    /// Seals a short secret (the device's refresh token) under the account key.
    public func sealToken(_ token: String) -> SealedBox {
        SealedBox.seal(
            Data(token.utf8), with: accountKey,
            context: SealContext(purpose: .sessionToken, accountID: accountID, epoch: epoch))
    }

    /// Opens what `sealToken` sealed.
    public func openToken(_ box: SealedBox) throws(CofferVaultError) -> String {
        do {
            let data = try box.open(
                with: accountKey, context: SealContext(purpose: .sessionToken, accountID: accountID, epoch: epoch))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .integrity("the stored sign-in token does not open")
        }
    }
}

/// The manifest's wire form.
struct ManifestBlob: Codable {
    struct Entry: Codable {
        var id: UUID
        var revision: Int64
        var hash: Data
    }

    var counter: UInt64
    var entries: [Entry]
    var mac: Data
}
