import CSystemSupport
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A connected or listening Unix stream socket carrying length-prefixed messages.
public struct UnixSocket: Sendable {
    /// The file descriptor, for polling beside others.
    public let descriptor: Int32

    /// Binds a listening socket at `path`, replacing a stale one, readable and writable by the owner only.
    public static func listen(at path: String) throws(TransportFailure) -> UnixSocket {
        let socket = try make()
        unlink(path)
        let status = withAddress(path) { address, length in bind(socket.descriptor, address, length) }
        guard status == 0, chmod(path, 0o600) == 0, Glibc.listen(socket.descriptor, 16) == 0 else {
            socket.close()
            throw .cannotListen(path: path, reason: String(cString: strerror(errno)))
        }
        return socket
    }

    /// Connects to the agent at `path`; `nil` when no agent is listening there. An answer that takes
    /// longer than `answerTimeout` seconds counts as a broken connection.
    public static func connect(to path: String, answerTimeout: Int = 60) throws(TransportFailure) -> UnixSocket? {
        let socket = try make()
        let status = withAddress(path) { address, length in Glibc.connect(socket.descriptor, address, length) }
        guard status == 0 else {
            socket.close()
            return nil
        }
        var timeout = timeval(tv_sec: answerTimeout, tv_usec: 0)
        setsockopt(socket.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return socket
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) until some of `descriptors` are readable
    /// (or closed by the peer); returns those, empty on timeout.
    public static func readable(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> [Int32] {
        var pollers = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&pollers, nfds_t(pollers.count), timeoutMilliseconds) > 0 else { return [] }
        return pollers.filter { $0.revents != 0 }.map(\.fd)
    }

    /// Accepts a waiting connection; its reads time out after 5 seconds, so a client that stops
    /// half-way through a message cannot hold the agent.
    public func acceptConnection() -> UnixSocket? {
        let client = Glibc.accept(descriptor, nil, nil)
        guard client >= 0 else { return nil }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return UnixSocket(descriptor: client)
    }

    /// The uid of the connected peer, from the kernel.
    public var peerUID: UInt32? {
        var uid: uid_t = 0
        return coffer_peer_uid(descriptor, &uid) == 0 ? uid : nil
    }

    /// The process id of the connected peer, from the kernel.
    public var peerProcessID: Int32? {
        var pid: pid_t = 0
        return coffer_peer_pid(descriptor, &pid) == 0 ? pid : nil
    }

    /// Writes a 4-byte big-endian length, then `data` (without copying it: frames can be hundreds of MB).
    public func writeMessage(_ data: Data) throws(TransportFailure) {
        try writeRaw(withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init))
        try writeRaw(data)
    }

    /// Writes `bytes` whole.
    public func writeRaw(_ bytes: some ContiguousBytes) throws(TransportFailure) {
        var offset = 0
        let count = bytes.withUnsafeBytes(\.count)
        while offset < count {
            let written = bytes.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw .brokenConnection }
            offset += written
        }
    }

    /// Reads one message: a 4-byte big-endian length, then that many bytes. A length above
    /// `maximumLength` is refused before anything is allocated for it.
    public func readMessage(maximumLength: Int = Frame.maximumLength) throws(TransportFailure) -> Data {
        let header = try read(count: 4)
        let length = header.withUnsafeBytes { Int(UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self))) }
        guard length <= maximumLength else { throw .tooLarge }
        return try read(count: length)
    }

    private func read(count: Int) throws(TransportFailure) -> Data {
        var data = Data(count: count)
        var offset = 0
        while offset < count {
            let received = data.withUnsafeMutableBytes { buffer in
                recv(descriptor, buffer.baseAddress! + offset, count - offset, 0)
            }
            guard received > 0 else { throw .brokenConnection }
            offset += received
        }
        return data
    }

    /// Closes the descriptor.
    public func close() { _ = Glibc.close(descriptor) }

    private static func make() throws(TransportFailure) -> UnixSocket {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw .cannotCreateSocket(reason: String(cString: strerror(errno)))
        }
        return UnixSocket(descriptor: descriptor)
    }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
