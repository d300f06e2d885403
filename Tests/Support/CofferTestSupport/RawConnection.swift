public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a server on 127.0.0.1, for tests that must send exactly what a
/// misbehaving client sends — half a request head, a body that never comes — and see whether the
/// server hangs up. Every read waits at most `timeout` seconds, so a test can never hang.
public final class RawConnection {
    private let descriptor: Int32

    /// Connects to `url` (`http://127.0.0.1:PORT`).
    public init(to url: String, timeout: Int = 20) throws {
        guard let port = UInt16(url.split(separator: ":").last ?? "") else { throw URLError(.badURL) }
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(descriptor)
            throw URLError(.cannotConnectToHost)
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Sends `text` as it is.
    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends a request and reads one whole answer (head and `Content-Length` body); `nil` when the
    /// connection closed or the answer did not come within the timeout.
    public func exchange(_ request: String) -> String? {
        send(request)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = received.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count - end.upperBound >= length { return String(decoding: received, as: UTF8.self) }
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            received.append(contentsOf: buffer[0..<count])
        }
    }

    /// What arrives until the server closes the connection, and how long it took; `nil` when the
    /// connection was still open after the read timeout.
    public func readUntilClosed() -> (received: String, seconds: Double)? {
        let start = Date()
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                continue
            }
            if count == 0 || errno == ECONNRESET {
                return (String(decoding: received, as: UTF8.self), Date().timeIntervalSince(start))
            }
            return nil
        }
    }
}
