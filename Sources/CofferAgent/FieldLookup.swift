public import CofferModel
import CofferSSH
public import Foundation

/// Finds a field's value the way `coffer get` and secret references name it, or explains which
/// fields exist.
public enum FieldLookup {
    /// The value of `field` in `item`; an empty or missing field is an error naming the fields that have values.
    public static func value(of field: String, in item: Item) throws(AgentFailure) -> String {
        if item.type == .sshKey, (item.value(of: field) ?? "").isEmpty, let derived = sshPublicValue(field, of: item) {
            return derived
        }
        guard let value = item.value(of: field) else {
            let names = item.allFields.filter { !$0.value.isEmpty }.map(\.name) + ["title", "url", "notes"]
            throw AgentFailure(
                .notFound,
                "\"\(item.title)\" has no field \"\(field)\". Fields with values: \(names.joined(separator: ", ")).")
        }
        guard !value.isEmpty else {
            throw AgentFailure(.notFound, "The field \"\(field)\" of \"\(item.title)\" is empty.")
        }
        return value
    }

    /// An SSH key's public key or fingerprint, worked out from its private key when the item lacks
    /// them (keys imported from other managers often carry only the private key).
    private static func sshPublicValue(_ field: String, of item: Item) -> String? {
        let name = field.lowercased().filter { $0.isLetter }
        guard name == "publickey" || name == "fingerprint", let text = item.value(of: "private-key"),
            let key = try? OpenSSHKeyFile.read(
                text, passphrase: item.value(of: "passphrase").flatMap { $0.isEmpty ? nil : $0 })
        else { return nil }
        return name == "publickey" ? key.publicKeyLine : key.fingerprint
    }
}

extension VaultSession {
    /// The value a secret reference names, resolved here so only that value leaves the agent.
    /// Trashed items never resolve; an ambiguous name is an error listing the ids.
    public func value(of reference: SecretReference, at now: Date = Date()) throws(AgentFailure) -> String {
        guard reference.vault.lowercased() == "personal" else {
            throw AgentFailure(
                .notFound,
                "\(reference) names the vault \"\(reference.vault)\", which does not exist: every item is in personal (coffer://personal/ITEM/FIELD)."
            )
        }
        let item: Item
        do {
            item = try resolve(reference.item, scope: .live)
        } catch  where error.kind == .ambiguous {
            let ids = error.candidates.map { "\($0.id.uuidString.lowercased()) (\($0.title))" }
            throw AgentFailure(
                .ambiguous,
                "\(reference) matches \(ids.count) items; name one by its id: \(ids.joined(separator: ", ")).")
        }
        let value = try FieldLookup.value(of: reference.field, in: item)
        guard reference.wantsTOTP else { return value }
        do {
            return try TOTP(parsing: value).code(at: now)
        } catch {
            throw AgentFailure(
                .invalidInput, "\(reference) asks for a one-time code, but that field holds no TOTP secret.")
        }
    }
}
