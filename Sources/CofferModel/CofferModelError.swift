/// Problems with item data, generator settings or TOTP secrets, phrased for the person who must fix them.
public enum CofferModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A TOTP secret or otpauth:// URI that cannot be used.
    case invalidTOTP(String)
    /// Generator settings that cannot produce a password.
    case invalidGeneratorSettings(String)
    /// An item type name that Coffer does not know.
    case unknownItemType(String)
    /// A bundled data file is missing from the installation.
    case missingResource(String)
    /// An attachment that cannot join an item, and why.
    case invalidAttachment(String)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .invalidTOTP(let reason):
            return
                "That TOTP secret cannot be used: \(reason). Paste the otpauth:// link or the base32 secret the site showed."
        case .invalidGeneratorSettings(let reason):
            return "Those generator settings cannot make a password: \(reason)."
        case .unknownItemType(let name):
            return
                "'\(name)' is not an item type. Use one of: \(ItemType.allCases.map(\.rawValue).joined(separator: ", "))."
        case .missingResource(let name):
            return "The data file \(name) is missing from this installation: reinstall Coffer."
        case .invalidAttachment(let reason):
            return "That file cannot be attached: \(reason). Nothing was changed."
        }
    }
}
