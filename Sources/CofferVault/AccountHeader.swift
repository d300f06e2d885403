public import CofferCrypto
public import Foundation

/// Everything needed to turn a password or recovery code into the account key: stored on the device
/// (and later the server) in the clear except for the wrapped keys.
public struct AccountHeader: Sendable, Equatable {
    /// The account this vault belongs to.
    public var accountID: UUID
    /// The key epoch; an account reset starts a new one.
    public var epoch: UInt32
    /// Argon2id costs in force.
    public var kdfParameters: KDFParameters
    /// 16 random bytes, replaced on every password change.
    public var salt: [UInt8]
    /// The account key wrapped by the password-derived key, bound to parameters and salt.
    public var passwordWrappedKey: SealedBox
    /// The account key wrapped by the recovery-code-derived key.
    public var recoveryWrappedKey: SealedBox

    /// Creates a header from stored parts.
    public init(
        accountID: UUID, epoch: UInt32, kdfParameters: KDFParameters, salt: [UInt8],
        passwordWrappedKey: SealedBox, recoveryWrappedKey: SealedBox
    ) {
        self.accountID = accountID
        self.epoch = epoch
        self.kdfParameters = kdfParameters
        self.salt = salt
        self.passwordWrappedKey = passwordWrappedKey
        self.recoveryWrappedKey = recoveryWrappedKey
    }

    /// A brand-new account: a random account key wrapped by the password and by a fresh recovery code.
    ///
    /// Returns the recovery code so it can be shown once in the recovery kit.
    ///
    /// An account reset calls this with the account's id and its next `epoch`: a new account key that
    /// nothing sealed under the old epoch can be confused with.
    public static func create(
        password: String, parameters: KDFParameters = .default, accountID: UUID = UUID(), epoch: UInt32 = 1
    ) throws(CofferCryptoError) -> (header: AccountHeader, accountKey: AccountKey, recoveryCode: RecoveryCode) {
        let created = try createWithMasterKey(
            password: password, parameters: parameters, accountID: accountID, epoch: epoch)
        return (created.header, created.accountKey, created.recoveryCode)
    }

    /// ``create(password:parameters:accountID:epoch:)`` that also returns the master key it derived,
    /// for callers that must prove the new password to a server (one Argon2id run, not two).
    public static func createWithMasterKey(
        password: String, parameters: KDFParameters = .default, accountID: UUID = UUID(), epoch: UInt32 = 1
    ) throws(CofferCryptoError) -> (
        header: AccountHeader, accountKey: AccountKey, recoveryCode: RecoveryCode, masterKey: MasterKey
    ) {
        let accountKey = AccountKey.random()
        let recoveryCode = RecoveryCode.random()
        let recoveryWrapped = accountKey.wrapped(
            by: recoveryCode.wrapKey(), context: recoveryContext(accountID, epoch))
        let unfinished = AccountHeader(
            accountID: accountID, epoch: epoch, kdfParameters: parameters, salt: [],
            passwordWrappedKey: recoveryWrapped, recoveryWrappedKey: recoveryWrapped)
        let (header, masterKey) = try unfinished.rewrapped(
            password: password, accountKey: accountKey, parameters: parameters)
        return (header, accountKey, recoveryCode, masterKey)
    }

    /// The same account key under a new password, with a fresh salt: a password change or a recovery.
    /// Returns the new master key too, whose auth key the server must learn.
    public func rewrapped(password: String, accountKey: AccountKey, parameters: KDFParameters)
        throws(CofferCryptoError) -> (header: AccountHeader, masterKey: MasterKey)
    {
        var header = self
        header.salt = secureRandomBytes(count: 16)
        header.kdfParameters = parameters
        let masterKey = try Argon2id.deriveMasterKey(password: password, salt: header.salt, parameters: parameters)
        // The password wrap binds the header's own parameters and salt, so it is made from the header.
        header.passwordWrappedKey = accountKey.wrapped(by: masterKey.passwordWrapKey(), context: header.passwordContext)
        return (header, masterKey)
    }

    /// Derives the master key for `password` with this header's salt and parameters.
    public func masterKey(password: String) throws(CofferCryptoError) -> MasterKey {
        try Argon2id.deriveMasterKey(password: password, salt: salt, parameters: kdfParameters)
    }

    /// The same account key under a fresh recovery code; the old code stops opening this header.
    public func rotatingRecoveryCode(accountKey: AccountKey) -> (header: AccountHeader, recoveryCode: RecoveryCode) {
        let code = RecoveryCode.random()
        var header = self
        header.recoveryWrappedKey = accountKey.wrapped(
            by: code.wrapKey(), context: Self.recoveryContext(accountID, epoch))
        return (header, code)
    }

    /// Opens the account key with the master password.
    public func unlock(password: String) throws -> AccountKey {
        let masterKey = try Argon2id.deriveMasterKey(password: password, salt: salt, parameters: kdfParameters)
        return try unlock(masterKey: masterKey)
    }

    /// Opens the account key with an already derived master key.
    public func unlock(masterKey: MasterKey) throws(CofferVaultError) -> AccountKey {
        do {
            return try AccountKey.unwrap(
                passwordWrappedKey, with: masterKey.passwordWrapKey(), context: passwordContext)
        } catch .wrongKey {
            throw .wrongPassword
        } catch {
            throw .integrity("the password-wrapped account key (\(error.shortReason))")
        }
    }

    /// Opens the account key with the recovery code.
    public func unlock(recoveryCode: RecoveryCode) throws(CofferVaultError) -> AccountKey {
        do {
            return try AccountKey.unwrap(
                recoveryWrappedKey, with: recoveryCode.wrapKey(), context: Self.recoveryContext(accountID, epoch))
        } catch .wrongKey {
            throw .wrongRecoveryCode
        } catch {
            throw .integrity("the recovery-wrapped account key (\(error.shortReason))")
        }
    }

    /// The associated data of the password wrap: parameters and salt are bound in, so neither can be swapped.
    var passwordContext: SealContext {
        SealContext(
            purpose: .accountKeyByPassword, accountID: accountID, epoch: epoch,
            extra: kdfParameters.canonicalBytes + salt)
    }

    static func recoveryContext(_ accountID: UUID, _ epoch: UInt32) -> SealContext {
        SealContext(purpose: .accountKeyByRecoveryCode, accountID: accountID, epoch: epoch)
    }
}
