import CSystemSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a process that outlives its parent (a new session, standard streams on `/dev/null`) and
/// waits until it says it is ready.
public enum DetachedProcess {
    /// The line a started process writes on the descriptor it is given once it serves.
    public static let readyLine = "ready\n"

    /// Runs `executable` with `arguments` detached and returns once it wrote ``readyLine`` on the
    /// descriptor it receives; throws when it could not start or exited first.
    public static func startAndWaitUntilReady(executable: String, arguments: [String]) throws(TransportFailure) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw .cannotSpawn(reason: "no pipe: \(String(cString: strerror(errno)))") }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let pid = coffer_spawn_detached(executable, &argv, pipeEnds[1])
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard pid > 0 else { throw .cannotSpawn(reason: "\(executable) could not be run") }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(pipeEnds[0], &buffer, buffer.count)
        guard count > 0, String(decoding: buffer.prefix(count), as: UTF8.self).hasPrefix(readyLine.dropLast()) else {
            throw .cannotSpawn(reason: "it stopped before it was ready")
        }
    }

    /// Tells the process that started this one that it is ready, and closes `descriptor`.
    public static func signalReady(on descriptor: Int32) {
        _ = readyLine.withCString { write(descriptor, $0, readyLine.utf8.count) }
        close(descriptor)
    }
}
