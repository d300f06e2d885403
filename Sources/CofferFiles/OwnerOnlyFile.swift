public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What writing a file does when its path is taken.
public enum ExistingFile: Sendable {
    /// The new file takes the old one's place (a cache, an automatic backup's fresh name).
    case replace
    /// Nothing is written and ``FileWriteFailure/exists(path:)`` is thrown (what the user named must not be lost).
    case refuse
}

/// Why a file was not written. Nothing is left behind in either case.
public enum FileWriteFailure: Error, Sendable, Equatable {
    /// The path is taken and the caller asked not to replace it.
    case exists(path: String)
    /// The system refused: `reason` is its word for why (a missing or read-only folder, a full disk).
    case cannotWrite(path: String, reason: String)
}

/// Writes the files that hold secrets or sealed data: exports, backups, attachments, recovery kits,
/// the index cache, the server's secret.
///
/// Each is created 0600 (`O_EXCL`, `O_NOFOLLOW`) under a temporary name in the same folder, written,
/// flushed to the disk, and only then given its name, and the folder is flushed too: a reader or a
/// crash sees no file, the old one, or the whole new one, and nobody else can open it at any moment,
/// whatever the process's umask. (Foundation's `createFile(atPath:contents:attributes:)` creates
/// the file with the umask's default mode and applies the requested permissions only after the
/// rename; the `coffer` binaries set a umask of 0077, but a library caller need not.) `.refuse`
/// gives the file its name with link(2), so a file that appeared since the caller looked is never
/// replaced.
public enum OwnerOnlyFile {
    /// Writes `data` to `path` as described above; `existing` says what happens to a file already there.
    public static func write(_ data: some ContiguousBytes, to path: String, existing: ExistingFile)
        throws(FileWriteFailure)
    {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        // A name of its own, not derived from the file's: any name the folder allows stays writable
        // (a long one plus a suffix could pass the system's limit).
        let temporary = (directory as NSString).appendingPathComponent(
            ".coffer-\(UInt64.random(in: .min ... .max)).partial")
        let failure = { (reason: String) in FileWriteFailure.cannotWrite(path: path, reason: reason) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw failure(systemReason()) }
        var kept = false
        defer { if !kept { unlink(temporary) } }
        // A umask can only take bits away; this makes the mode exactly owner read and write.
        guard fchmod(descriptor, 0o600) == 0, writeAll(data, to: descriptor), fsync(descriptor) == 0 else {
            let reason = systemReason()
            close(descriptor)
            throw failure(reason)
        }
        guard close(descriptor) == 0 else { throw failure(systemReason()) }
        switch existing {
        case .replace:
            guard rename(temporary, path) == 0 else { throw failure(systemReason()) }
            kept = true
        case .refuse:
            // link(2), unlike rename(2), never replaces what is there.
            guard link(temporary, path) == 0 else {
                throw errno == EEXIST ? FileWriteFailure.exists(path: path) : failure(systemReason())
            }
        }
        // The new name is on the disk only once the folder is: best effort, as some file systems
        // cannot flush a folder.
        let folderDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    private static func writeAll(_ data: some ContiguousBytes, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }

    private static func systemReason() -> String { String(cString: strerror(errno)) }
}

extension FileWriteFailure {
    /// Why, in the system's words, to follow "Cannot write PATH: ".
    public var reason: String {
        switch self {
        case .exists: "a file of that name exists"
        case .cannotWrite(_, let reason): reason
        }
    }
}
