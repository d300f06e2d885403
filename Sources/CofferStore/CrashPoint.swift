import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Named steps of multi-step changes (password change, reset) where a test can kill the process.
///
/// With `COFFER_CRASH_AT=<name>` in the environment the process sends itself SIGKILL on reaching
/// that step: the same effect as a power cut there, without timing games. Tests use it to show
/// that every step leaves a vault that still opens. Unset, it costs one dictionary lookup.
public enum CrashPoint {
    /// Kills the process if the environment asks for a crash at `name`.
    public static func reached(_ name: String) {
        guard ProcessInfo.processInfo.environment["COFFER_CRASH_AT"] == name else { return }
        kill(getpid(), SIGKILL)
    }

    /// Kills the process once `count` reaches N when the environment asks for `<name>.<N>`: for
    /// steps that repeat, such as the forgotten-password assistant's tries.
    public static func reached(_ name: String, count: Int) {
        guard let wanted = ProcessInfo.processInfo.environment["COFFER_CRASH_AT"], wanted.hasPrefix(name + "."),
            let limit = Int(wanted.dropFirst(name.count + 1)), count >= limit
        else { return }
        kill(getpid(), SIGKILL)
    }
}
