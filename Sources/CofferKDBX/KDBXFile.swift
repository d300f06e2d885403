import Crypto
import CryptoExtras
public import Foundation

/// Reads and writes KeePass KDBX 4 files.
///
/// Layout (see docs/formats/import.md for the sources): outer header; its SHA-256; its HMAC-SHA-256;
/// the payload as HMAC'd blocks; inside, once decrypted and decompressed, the inner header
/// (inner stream key, attachments) and the XML document.
public enum KDBXFile {
    /// Whether `prefix` (the first 8 bytes or more) is a KeePass database of any version.
    public static func hasSignature(_ prefix: some Collection<UInt8>) -> Bool {
        OuterHeader.hasSignature(Array(prefix.prefix(8)))
    }

    /// The settings a file's header declares, without opening it (fast: no key derivation).
    public static func settings(of file: Data) throws(KDBXError) -> KDBXSettings {
        try OuterHeader(parsing: Array(file)).settings
    }

    /// Opens a KDBX 4 or 3.1 file with its credentials.
    public static func read(_ file: Data, credentials: KDBXCredentials) throws(KDBXError) -> KDBXDatabase {
        let bytes = Array(file)
        if OuterHeader.hasSignature(Array(bytes.prefix(8))), bytes.count >= 12, bytes[10] == 3, bytes[11] == 0 {
            return try KDBX3File.read(bytes, credentials: credentials)
        }
        let header = try OuterHeader(parsing: bytes)
        var reader = ByteReader(bytes, offset: header.bytes.count)
        let storedHash = try reader.take(32, "the header's checksum")
        guard Array(SHA256.hash(data: header.bytes)) == storedHash else {
            throw .damaged("its header checksum does not match (the file is corrupted or truncated)")
        }
        let storedHMAC = try reader.take(32, "the header's HMAC")
        let keys = try KDBXKeys(header: header, credentials: credentials)
        guard
            HMAC<SHA256>.isValidAuthenticationCode(storedHMAC, authenticating: header.bytes, using: keys.blockKey(.max))
        else { throw .wrongKey }
        let ciphertext = try readBlocks(&reader, keys: keys)
        var payload = try crypt(ciphertext, header: header, keys: keys, encrypting: false)
        if header.isCompressed { payload = try Gzip.decompress(payload) }
        return try readInner(payload)
    }

    /// Reads KeePass's (and KeePassXC's) unencrypted XML export, with the attachments it refers to
    /// but does not hold ("Title: name").
    public static func readXML(_ xml: Data) throws(KDBXError) -> (database: KDBXDatabase, absentAttachments: [String]) {
        try KDBXXML.database(fromPlainXML: xml)
    }

    /// Whether `prefix` starts like a KeePass XML export (after an optional BOM and XML declaration).
    public static func looksLikeXML(_ text: some StringProtocol) -> Bool {
        text.prefix(4096).contains("<KeePassFile")
    }

    /// Parses the decrypted, decompressed payload: inner header, then XML. Exposed to the fuzzer.
    public static func readInner(_ payload: [UInt8]) throws(KDBXError) -> KDBXDatabase {
        var reader = ByteReader(payload)
        var streamID: UInt32?
        var streamKey: [UInt8]?
        var binaries: [[UInt8]] = []
        fieldLoop: while true {
            let (id, value) = try reader.field("the inner header")
            switch id {
            case 0: break fieldLoop
            case 1:
                var field = ByteReader(value)
                streamID = try field.integer(UInt32.self, "the inner stream id")
            case 2: streamKey = value
            case 3:
                guard !value.isEmpty else { throw .damaged("an attachment in the inner header has no flag byte") }
                binaries.append(Array(value.dropFirst()))
            default: continue
            }
        }
        guard let streamID, let streamKey else { throw .damaged("its inner header has no stream cipher") }
        guard streamID == InnerStream.chaCha20ID else { throw .unsupportedInnerStream(streamID) }
        var stream = try InnerStream(key: streamKey)
        return try KDBXXML.database(
            from: Array(payload[reader.offset...]), stream: &stream, binaries: binaries)
    }

    /// Writes `database` as a KDBX 4 file with `settings`, fresh seeds and a fresh inner stream key.
    public static func write(
        _ database: KDBXDatabase, credentials: KDBXCredentials, settings: KDBXSettings = .coffer
    ) throws(KDBXError) -> Data {
        let header = OuterHeader(writing: settings)
        let keys = try KDBXKeys(header: header, credentials: credentials)
        let streamKey = randomBytes(64)
        var stream = try InnerStream(key: streamKey)
        var binaries: [[UInt8]] = []
        let xml = try KDBXXML.document(for: database, stream: &stream, binaries: &binaries)

        var inner = ByteWriter()
        inner.field(1, InnerStream.chaCha20ID.littleEndianBytes)
        inner.field(2, streamKey)
        for binary in binaries { inner.field(3, [0] + binary) }
        inner.field(0, [])
        inner.append(xml)

        let ciphertext = try crypt(try Gzip.compress(inner.bytes), header: header, keys: keys, encrypting: true)
        var output = ByteWriter()
        output.append(header.bytes)
        output.append(SHA256.hash(data: header.bytes))
        output.append(HMAC<SHA256>.authenticationCode(for: header.bytes, using: keys.blockKey(.max)))
        writeBlocks(ciphertext, keys: keys, into: &output)
        return Data(output.bytes)
    }

    // MARK: Blocks

    private static let blockSize = 1 << 20

    private static func readBlocks(_ reader: inout ByteReader, keys: KDBXKeys) throws(KDBXError) -> [UInt8] {
        var ciphertext: [UInt8] = []
        var index: UInt64 = 0
        while true {
            let storedHMAC = try reader.take(32, "block \(index)'s HMAC")
            let size = try reader.length("block \(index)")
            let data = try reader.take(size, "block \(index)")
            let authenticated = index.littleEndianBytes + UInt32(size).littleEndianBytes + data
            guard
                HMAC<SHA256>.isValidAuthenticationCode(
                    storedHMAC, authenticating: authenticated, using: keys.blockKey(index))
            else { throw .damaged("block \(index) fails its HMAC (the file was modified or truncated)") }
            if size == 0 { return ciphertext }
            ciphertext += data
            index += 1
        }
    }

    private static func writeBlocks(_ ciphertext: [UInt8], keys: KDBXKeys, into output: inout ByteWriter) {
        var index: UInt64 = 0
        var start = 0
        while true {
            let end = min(start + blockSize, ciphertext.count)
            let data = ciphertext[start..<end]
            let authenticated = index.littleEndianBytes + UInt32(data.count).littleEndianBytes + data
            output.append(HMAC<SHA256>.authenticationCode(for: authenticated, using: keys.blockKey(index)))
            output.integer(UInt32(data.count))
            output.append(data)
            if data.isEmpty { return }
            start = end
            index += 1
        }
    }

    // MARK: Cipher

    /// Runs the payload cipher; ChaCha20 is its own inverse, AES-CBC adds or strips PKCS#7 padding.
    private static func crypt(_ input: [UInt8], header: OuterHeader, keys: KDBXKeys, encrypting: Bool)
        throws(KDBXError) -> [UInt8]
    {
        do {
            switch header.settings.cipher {
            case .aes256:
                let iv = try AES._CBC.IV(ivBytes: header.iv)
                return Array(
                    encrypting
                        ? try AES._CBC.encrypt(input, using: keys.cipherKey, iv: iv)
                        : try AES._CBC.decrypt(input, using: keys.cipherKey, iv: iv))
            case .chaCha20:
                return Array(
                    try Insecure.ChaCha20CTR.encrypt(
                        input, using: keys.cipherKey, nonce: Insecure.ChaCha20CTR.Nonce(data: header.iv)))
            }
        } catch {
            throw .damaged(
                encrypting ? "the payload could not be encrypted (\(error))" : "its payload does not decrypt (\(error))"
            )
        }
    }
}
