import Foundation

/// Parses lock timeouts such as `15m`, `90s`, `2h` or a bare number of minutes.
public enum LockTimeout {
    /// The timeout `flag` gives, else `COFFER_LOCK_TIMEOUT`, else the agent's default of 15 minutes.
    public static func seconds(flag: String?) throws(AgentFailure) -> Int {
        guard let text = flag ?? ProcessInfo.processInfo.environment["COFFER_LOCK_TIMEOUT"] else {
            return AgentServer.defaultIdleTimeoutSeconds
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        let multiplier = trimmed.last.flatMap { units[$0] } ?? 60
        let number = trimmed.last.map { units[$0] != nil } == true ? String(trimmed.dropLast()) : trimmed
        // A number too large to multiply is as wrong as one past a week, never a crash.
        guard let value = Int(number), value > 0,
            case (let seconds, let overflow) = value.multipliedReportingOverflow(by: multiplier), !overflow,
            seconds <= AgentServer.longestIdleTimeoutSeconds
        else {
            throw AgentFailure(
                .invalidInput, "'\(text)' is not a lock timeout: use e.g. 15m, 90s or 2h (at most a week).")
        }
        return seconds
    }
}
