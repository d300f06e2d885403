import CofferCrypto
public import CofferVault
public import Foundation

/// A secret that opens a backup, as a listing names it.
public enum OpeningSecret: Sendable, Equatable, CustomStringConvertible {
    /// The vault's current password (the account key is unchanged since the backup).
    case currentPassword
    /// The password in force when the backup was made, which has changed since.
    case passwordInForce(Date)
    /// The vault's current recovery code.
    case currentRecoveryCode
    /// The recovery code in force when the backup was made, replaced since.
    case recoveryCodeInForce(Date)

    /// The words of `coffer backup list` and of wrong-secret errors.
    public var description: String {
        switch self {
        case .currentPassword: "your current password"
        case .passwordInForce(let date): "the password in force on \(Self.day(date))"
        case .currentRecoveryCode: "your current recovery code"
        case .recoveryCodeInForce(let date): "the recovery code in force on \(Self.day(date))"
        }
    }

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}

extension BackupHeader {
    /// Which secrets open this backup, given the vault's header now (`nil` when unknown).
    ///
    /// The current password opens it while the account key is unchanged (same account and epoch),
    /// through the vault's own wrap; the password and recovery code in force when it was made open
    /// it through the wraps the backup carries.
    public func opensWith(current: AccountHeader?) -> [OpeningSecret] {
        let sameKey = current.map { $0.accountID == accountID && $0.epoch == epoch } ?? false
        var secrets: [OpeningSecret] = []
        if sameKey { secrets.append(.currentPassword) }
        if !sameKey || current.map({ Data($0.salt) != salt }) ?? true { secrets.append(.passwordInForce(createdAt)) }
        if sameKey, current?.recoveryWrappedKey.bytes == recoveryWrappedKey {
            secrets.append(.currentRecoveryCode)
        } else {
            secrets.append(.recoveryCodeInForce(createdAt))
        }
        return secrets
    }
}
