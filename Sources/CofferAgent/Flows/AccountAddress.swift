import CofferStore
import Foundation

/// Which account a flow talks to: the server, the address and this device's name.
public struct AccountAddress: Sendable, Equatable {
    /// The server's URL.
    public var server: String
    /// The account's e-mail address.
    public var email: String
    /// This device's name in device lists and account events.
    public var deviceName: String

    /// The account given, completed from the profile's vault: a flag the user passed wins, then
    /// what the vault's sync state says, then (for the device name) ``DeviceName/default``.
    public static func resolve(_ paths: ProfilePaths, server: String?, email: String?, deviceName: String?)
        throws(AgentFailure) -> AccountAddress
    {
        let state = ProfileVault.syncState(paths)
        guard let server = server ?? state?.serverURL, let email = email ?? state?.email else {
            throw AgentFailure(
                .invalidInput,
                "Which account? Pass --server URL --email ADDRESS (this profile is not connected to one).")
        }
        return AccountAddress(
            server: server, email: email, deviceName: deviceName ?? state?.deviceName ?? DeviceName.default)
    }
}

/// The name a device gets when none is given: who, where and what (`alice@laptop (Debian GNU/Linux
/// 12)`), so a device list tells two machines apart even when they share a host name.
public enum DeviceName {
    /// This device's name: the user, the host and the system.
    public static var `default`: String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "user"
        let name = "\(user)@\(ProcessInfo.processInfo.hostName) (\(system))"
        return String(
            name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(100).map(Character.init))
    }

    /// The distribution's name from /etc/os-release, else the kernel's.
    private static var system: String {
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in release.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }
}
