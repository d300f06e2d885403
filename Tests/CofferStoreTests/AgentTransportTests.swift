import CofferAgentTransport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The transport under the agent: a real Unix socket in a temporary directory, a peer that
/// misbehaves in each way the agent's loop can meet.
@Suite("agent transport: socket messages, limits, broken peers")
struct AgentTransportTests {
    /// A listening socket in a fresh directory, a connected client and the accepted server end.
    struct Pair {
        let directory: URL
        let listener: UnixSocket
        let client: UnixSocket
        let server: UnixSocket

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("transport-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            listener = try UnixSocket.listen(at: directory.appendingPathComponent("s").path)
            guard let client = try UnixSocket.connect(to: directory.appendingPathComponent("s").path) else {
                throw TransportFailure.brokenConnection
            }
            self.client = client
            guard let server = listener.acceptConnection() else { throw TransportFailure.brokenConnection }
            self.server = server
        }

        func close() {
            client.close()
            server.close()
            listener.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test("a message goes across whole; the socket is the owner's only and knows its peer's uid")
    func roundTrip() throws {
        let pair = try Pair()
        defer { pair.close() }
        let message = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
        // Larger than a socket buffer: the reader drains while the writer writes.
        let writer = Thread { try? pair.client.writeMessage(message) }
        writer.start()
        #expect(try pair.server.readMessage() == message)
        let mode =
            try FileManager.default.attributesOfItem(atPath: pair.directory.appendingPathComponent("s").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(pair.server.peerUID == getuid())
    }

    @Test("a length above the limit is refused before anything is read or allocated for it")
    func oversized() throws {
        let pair = try Pair()
        defer { pair.close() }
        try pair.client.writeRaw([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: TransportFailure.tooLarge) { try pair.server.readMessage() }
        try pair.client.writeRaw([0, 0, 1, 0])
        #expect(throws: TransportFailure.tooLarge) { try pair.server.readMessage(maximumLength: 255) }
    }

    @Test("a peer that stops half-way through a message or its length is a broken connection")
    func brokenPeers() throws {
        for sent in [[0, 0, 0] as [UInt8], [0, 0, 0, 9, 1, 2, 3]] {
            let pair = try Pair()
            defer { pair.close() }
            try pair.client.writeRaw(sent)
            pair.client.close()
            #expect(throws: TransportFailure.brokenConnection) { try pair.server.readMessage() }
        }
    }

    @Test("no agent listening is nil, not an error; a path too long for a socket cannot be listened on")
    func absentAndImpossible() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID())").path
        #expect(try UnixSocket.connect(to: missing) == nil)
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(throws: TransportFailure.self) { try UnixSocket.listen(at: long) }
    }

    @Test("a frame's parts refuse every length that runs past the frame")
    func frameParts() throws {
        let frame = try Frame.encode(["a": 1])
        #expect(Frame.Parts(frame) != nil)
        for length in 0..<4 { #expect(Frame.Parts(frame.prefix(length)) == nil) }
        var lying = frame
        lying[3] = UInt8(frame.count)
        #expect(Frame.Parts(lying) == nil)
        #expect(try Frame.Parts(frame)?.decode([String: Int].self) == ["a": 1])
    }
}
