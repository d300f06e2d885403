import Foundation
import KeePassXCPeer
import Testing

@testable import CofferKDBX

/// The format's edges on Coffer's side: versions and ciphers it refuses with a reason, damage it
/// detects, key files in every KeePass layout, and limits a hostile header cannot pass.
@Suite("KDBX 4 format edges")
struct KDBXFormatTests {
    static let fast = KDBXSettings(
        cipher: .aes256, keyDerivation: .argon2id(memoryKiB: 1024, iterations: 1, parallelism: 1))

    static func sample() throws -> (Data, KDBXCredentials) {
        let credentials = try KDBXCredentials(password: "pw")
        let database = KDBXDatabase(
            name: "x", root: KDBXGroup(name: "Root", entries: [KDBXEntry(strings: [.init(key: "Title", value: "t")])]))
        return (try KDBXFile.write(database, credentials: credentials, settings: fast), credentials)
    }

    @Test(
        "a KDBX 3.1 database from keepassxc-cli db-create opens: Salsa20-protected values, groups, an attachment; a wrong password and every truncation are refused"
    )
    func kdbx31() throws {
        let folder = try ScratchFolder()
        let path = folder.path("old.kdbx")
        let keepassxc = try KeePassXC()
        try keepassxc.run(["db-create", "-q", "-p", "-t", "100", path], input: ["pw", "pw"])
        try keepassxc.run(["mkdir", "-q", path, "Servers"], input: ["pw"])
        try keepassxc.run(
            ["add", "-q", "-u", "carol", "-p", path, "Servers/Build box"], input: ["pw", "kdbx3-sécret"])
        let attachment = folder.path("notes.txt")
        try Data("kept in Meta/Binaries".utf8).write(to: URL(fileURLWithPath: attachment))
        try keepassxc.run(
            ["attachment-import", "-q", path, "Servers/Build box", "notes.txt", attachment], input: ["pw"])
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data[8..<12]) == [1, 0, 3, 0], "keepassxc-cli still writes KDBX 3.1")

        let database = try KDBXFile.read(data, credentials: KDBXCredentials(password: "pw"))
        let group = try #require(database.root.groups.first { $0.name == "Servers" })
        let entry = try #require(group.entries.first)
        #expect(entry.value("Title") == "Build box" && entry.value("UserName") == "carol")
        #expect(entry.value("Password") == "kdbx3-sécret")
        #expect(entry.attachments.map(\.name) == ["notes.txt"])
        #expect(entry.attachments.first?.data == Data("kept in Meta/Binaries".utf8))

        #expect(throws: KDBXError.wrongKey) { try KDBXFile.read(data, credentials: KDBXCredentials(password: "nope")) }
        for length in stride(from: 0, to: data.count, by: 97) {
            #expect(throws: KDBXError.self) {
                try KDBXFile.read(data.prefix(length), credentials: KDBXCredentials(password: "pw"))
            }
        }
        var flipped = data
        flipped[flipped.count - 40] ^= 0x01
        #expect(throws: KDBXError.self) { try KDBXFile.read(flipped, credentials: KDBXCredentials(password: "pw")) }
    }

    @Test("Twofish and unknown ciphers are named in the error")
    func twofish() throws {
        var (data, credentials) = try Self.sample()
        // The cipher UUID is the first header field's value, at offset 12 + 5.
        data.replaceSubrange(17..<33, with: KDBXSettings.Cipher.twofishUUID)
        #expect(throws: KDBXError.unsupportedCipher("Twofish")) { try KDBXFile.read(data, credentials: credentials) }
    }

    @Test("truncation, a flipped bit and a wrong password are told apart")
    func damage() throws {
        let (data, credentials) = try Self.sample()
        #expect(throws: KDBXError.wrongKey) { try KDBXFile.read(data, credentials: KDBXCredentials(password: "nope")) }
        var flipped = data
        flipped[flipped.count - 40] ^= 0x01
        #expect(throws: KDBXError.damaged("block 0 fails its HMAC (the file was modified or truncated)")) {
            try KDBXFile.read(flipped, credentials: credentials)
        }
        for length in [0, 4, 11, 40, 200, data.count - 1] {
            #expect(throws: KDBXError.self) { try KDBXFile.read(data.prefix(length), credentials: credentials) }
        }
        #expect(throws: KDBXError.notKeePass) {
            try KDBXFile.read(Data("hello world, no".utf8), credentials: credentials)
        }
    }

    @Test("every truncation of a database is refused with a reason, never read and never a crash")
    func everyTruncation() throws {
        let (data, credentials) = try Self.sample()
        for length in 0..<data.count {
            #expect(throws: KDBXError.self, "\(length) bytes") {
                try KDBXFile.read(data.prefix(length), credentials: credentials)
            }
        }
    }

    @Test("key files: XML 1.0 and 2.0, 32 raw bytes, 64 hex characters, any other file hashed")
    func keyFiles() throws {
        let key = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let hexKey = key.map { String(format: "%02X", $0) }.joined()
        let xml1 =
            "<?xml version=\"1.0\"?><KeyFile><Meta><Version>1.00</Version></Meta><Key><Data>\(Data(key).base64EncodedString())</Data></Key></KeyFile>"
        let xml2 =
            "<?xml version=\"1.0\"?><KeyFile><Meta><Version>2.0</Version></Meta><Key><Data Hash=\"\(hexString(Array(sha256(key).prefix(4))))\">\(hexKey.prefix(32)) \(hexKey.dropFirst(32))</Data></Key></KeyFile>"
        let same = [Data(xml1.utf8), Data(xml2.utf8), Data(key), Data(hexKey.utf8)]
        let composites = try same.map { try KDBXCredentials(password: nil, keyFile: $0).compositeKey }
        #expect(Set(composites).count == 1)
        let hashed = try KDBXCredentials(password: nil, keyFile: Data("any file at all".utf8)).compositeKey
        #expect(hashed != composites[0])
        let badChecksum = xml2.replacingOccurrences(of: "Hash=\"", with: "Hash=\"00")
        #expect(throws: KDBXError.self) { try KDBXCredentials(password: nil, keyFile: Data(badChecksum.utf8)) }
    }

    @Test("a header asking for absurd Argon2 memory is refused before any work")
    func hostileHeader() throws {
        let settings = KDBXSettings(
            cipher: .aes256, keyDerivation: .argon2d(memoryKiB: 64 * 1024 * 1024, iterations: 1, parallelism: 1))
        let header = OuterHeader(writing: settings)
        #expect(throws: KDBXError.unreasonableSettings("Argon2 memory of \(UInt64(64 * 1024 * 1024) * 1024) bytes")) {
            try OuterHeader(parsing: header.bytes)
        }
    }

    @Test("a header whose Argon2 lanes are a 64-bit number near its maximum is refused, not a crash")
    func hugeLanes() throws {
        let settings = KDBXSettings(
            cipher: .aes256, keyDerivation: .argon2id(memoryKiB: 64 * 1024, iterations: 3, parallelism: 4))
        var bytes = OuterHeader(writing: settings).bytes
        // The KDF parameters (outer header field 11) hold "P" as a UInt32; rewrite it as a UInt64 of all ones.
        var offset = 12
        while offset + 5 <= bytes.count {
            let id = bytes[offset]
            let length =
                Int(bytes[offset + 1]) | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]) << 16
                | Int(bytes[offset + 4]) << 24
            if id == 11 {
                let data = Array(bytes[(offset + 5)..<(offset + 5 + length)])
                let uint32P: [UInt8] = [0x04, 0x01, 0, 0, 0, 0x50, 0x04, 0, 0, 0]
                let at = try #require(
                    (0...(data.count - uint32P.count)).first { Array(data[$0..<($0 + uint32P.count)]) == uint32P })
                let patched =
                    Array(data[..<at]) + [0x05, 0x01, 0, 0, 0, 0x50, 0x08, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)
                    + Array(data[(at + uint32P.count + 4)...])
                let newLength = UInt32(patched.count)
                bytes =
                    Array(bytes[..<(offset + 1)])
                    + [UInt8(newLength & 0xFF), UInt8(newLength >> 8 & 0xFF), UInt8(newLength >> 16 & 0xFF), 0]
                    + patched + Array(bytes[(offset + 5 + length)...])
                break
            }
            offset += 5 + length
        }
        #expect(throws: KDBXError.unreasonableSettings("\(UInt64.max) Argon2 lanes")) {
            try OuterHeader(parsing: bytes)
        }
    }

    @Test("times at the ends of the 64-bit range read as no date and write clamped, never a crash")
    func extremeTimes() throws {
        let smallest = Data(Int64.min.littleEndianBytes).base64EncodedString()
        #expect(KDBXXML.date(smallest) == nil)
        let largest = Data(Int64.max.littleEndianBytes).base64EncodedString()
        #expect(KDBXXML.date(largest) != nil)
        for extreme in [Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -1e300), .distantFuture] {
            let written = KDBXXML.text(extreme)
            let read = try #require(KDBXXML.date(written))
            #expect(read.timeIntervalSince1970 <= KDBXXML.latestWritable)
        }
        let ordinary = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(KDBXXML.date(KDBXXML.text(ordinary)) == ordinary)
    }

    @Test("AES-KDF matches the definition: each half encrypted R times with AES-256-ECB, then SHA-256")
    func aesKDF() throws {
        let key = (0..<32).map { UInt8($0) }
        let seed = (0..<32).map { UInt8(255 - $0) }
        // Three rounds done block by block with the single-block permutation.
        var expected: [UInt8] = []
        for half in [Array(key[0..<16]), Array(key[16..<32])] {
            var block = half
            for _ in 0..<3 { block = try aesBlock(block, key: seed) }
            expected += block
        }
        #expect(try KDBXKeys.aesKDF(key, seed: seed, rounds: 3) == sha256(expected))
    }

    @Test("a database round-trips through Coffer's writer and reader", arguments: KDBXPeerTests.variants)
    func roundTrip(settings: KDBXSettings) throws {
        let credentials = try KDBXCredentials(password: "pw", keyFile: Data("key".utf8))
        let database = KDBXPeerTests.cofferDatabase()
        let data = try KDBXFile.write(database, credentials: credentials, settings: settings)
        #expect(try KDBXFile.settings(of: data) == settings)
        var read = try KDBXFile.read(data, credentials: credentials)
        read.root.uuid = database.root.uuid
        read.root.groups[0].uuid = database.root.groups[0].uuid
        #expect(read == database)
    }
}

/// The decrypted payload is untrusted too: a file made with the right password by a hostile tool.
@Suite("KDBX 4 payload edges")
struct KDBXPayloadTests {
    static func payload(_ xml: String, binaries: Int = 0) -> [UInt8] {
        func field(_ id: UInt8, _ value: [UInt8]) -> [UInt8] {
            [id] + withUnsafeBytes(of: UInt32(value.count).littleEndian) { Array($0) } + value
        }
        var bytes = field(1, [3, 0, 0, 0]) + field(2, Array(repeating: 7, count: 64))
        for _ in 0..<binaries { bytes += field(3, [0] + Array("data".utf8)) }
        return bytes + field(0, []) + Array(xml.utf8)
    }

    static let entry = "<KeePassFile><Root><Group><Name>R</Name><Entry>%@</Entry></Group></Root></KeePassFile>"

    @Test(
        "broken XML, entity bombs, bad references and bad protected values are damage, not crashes",
        arguments: [
            "<KeePassFile><Root><Group>",
            "not xml at all \u{0}\u{1}",
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><KeePassFile>&lol2;</KeePassFile>",
            entry.replacingOccurrences(of: "%@", with: "<Binary><Key>f</Key><Value Ref=\"5\"/></Binary>"),
            entry.replacingOccurrences(
                of: "%@", with: "<String><Key>P</Key><Value Protected=\"True\">!!!</Value></String>"),
            "<Other/>",
            "<KeePassFile><Meta/></KeePassFile>",
        ])
    func hostilePayload(xml: String) {
        #expect(throws: KDBXError.self) { try KDBXFile.readInner(Self.payload(xml)) }
    }

    @Test("a cut-short inner header or a missing stream cipher is damage")
    func innerHeader() {
        let whole = Self.payload(Self.entry.replacingOccurrences(of: "%@", with: ""))
        for length in [0, 1, 5, 30, 70] {
            #expect(throws: KDBXError.self) { try KDBXFile.readInner(Array(whole.prefix(length))) }
        }
        #expect(throws: KDBXError.unsupportedInnerStream(2)) {
            try KDBXFile.readInner([1, 4, 0, 0, 0, 2, 0, 0, 0, 2, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0])
        }
    }

    @Test("text that is not UTF-8 inside the XML is refused with the line")
    func misEncoded() {
        var bytes = Self.payload(
            Self.entry.replacingOccurrences(of: "%@", with: "<String><Key>T</Key><Value>x</Value></String>"))
        if let index = bytes.lastIndex(of: UInt8(ascii: "x")) { bytes[index] = 0xFF }
        #expect(throws: KDBXError.self) { try KDBXFile.readInner(bytes) }
    }
}
