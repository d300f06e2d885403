import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Opens every file created in (or moved or linked into) a folder as soon as the kernel reports it,
/// and records its permission bits at that moment: what another user's process watching the folder
/// would be allowed to open. A file written with a default mode and narrowed afterwards shows here.
///
/// `@unchecked Sendable` is sound: `observed` and `stopping` are only touched under `lock`, and the
/// inotify descriptor is read by the watching thread alone until ``stop()`` has waited for it.
public final class CreationWatcher: @unchecked Sendable {
    private let folder: String
    private let descriptor: Int32
    private let lock = NSLock()
    private var observed: [(name: String, mode: UInt32)] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// Starts watching `folder`.
    public init(folder: String) throws {
        self.folder = folder
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0,
            inotify_add_watch(descriptor, folder, UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) >= 0
        else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: folder]) }
        let thread = Thread { [self] in watch() }
        thread.start()
    }

    /// Reads every event already reported, stops, and returns each file seen with its mode bits
    /// (`st_mode & 0o7777`) when it was opened.
    public func stop() -> [(name: String, mode: UInt32)] {
        lock.withLock { stopping = true }
        finished.wait()
        close(descriptor)
        return lock.withLock { observed }
    }

    private func watch() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // Until told to stop, wait for events; once told, only drain what is queued.
            let ready = poll(&poller, 1, lock.withLock { stopping } ? 0 : 20)
            if ready <= 0 {
                if lock.withLock({ stopping }) { break }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (length, name) = buffer.withUnsafeBytes { bytes -> (Int, String) in
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let start = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = bytes[start..<(start + Int(event.len))].prefix { $0 != 0 }
                    return (Int(event.len), String(decoding: nameBytes, as: UTF8.self))
                }
                offset += MemoryLayout<inotify_event>.size + length
                record(name)
            }
        }
        finished.signal()
    }

    private func record(_ name: String) {
        let file = open((folder as NSString).appendingPathComponent(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        guard file >= 0 else { return }
        defer { close(file) }
        var status = stat()
        guard fstat(file, &status) == 0 else { return }
        lock.withLock { observed.append((name, UInt32(status.st_mode) & 0o7777)) }
    }
}
