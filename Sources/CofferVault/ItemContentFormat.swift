/// How a vault writes the plaintext inside its item records. Every build since format 2 reads both
/// formats, told apart by their first byte; what a vault *writes* is chosen once, when it is made.
///
/// Decision: a vault made by `coffer init` writes ``compact`` (its account is new, so every device
/// that will read it runs this build or a later one). A vault made by signing in to an account that
/// existed before writes ``json``, because the account's other devices may run a Coffer from before
/// format 2, which cannot read compact records. Moving such an account over needs a switch every
/// device has acknowledged (docs/architecture.md); until then, JSON is the safe default for any
/// keyring that does not belong to a vault session.
public enum ItemContentFormat: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// `{"revision":N,"item":{…}}` (`ItemJSONWriter`): what every Coffer reads.
    case json = 1
    /// `ItemCompactEncoding`: about a third of the bytes, read without parsing text.
    case compact = 2

    /// The name used in `coffer status` and messages.
    public var description: String {
        switch self {
        case .json: "1 (JSON)"
        case .compact: "2 (compact)"
        }
    }
}
