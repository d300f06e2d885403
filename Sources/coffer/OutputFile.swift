import CofferAgent
import CofferFiles
import Foundation

/// Files a command writes for the user at a path they named (exports, saved attachments): owner-only
/// from the first byte, whole or not at all, and never over an existing file.
enum OutputFile {
    /// Writes `data` to `path`, which must not exist.
    static func writeNew(_ data: Data, to path: String) throws {
        do {
            try OwnerOnlyFile.write(data, to: path, existing: .refuse)
        } catch .exists {
            throw AgentFailure(.invalidInput, "\(path) already exists; choose a new file name. Nothing was written.")
        } catch {
            throw AgentFailure(.invalidInput, "Cannot write \(path): \(error.reason). Nothing was written.")
        }
    }
}
