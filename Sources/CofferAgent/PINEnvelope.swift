import CofferCrypto
import CofferVault
import Crypto
import Foundation

/// A copy of the account key wrapped by a quick-unlock PIN, held only in the agent's memory.
///
/// A PIN is easy to guess offline, so this copy never touches the disk, and after
/// `maximumAttempts` wrong PINs it is erased: the master password is then needed, nothing more.
struct PINEnvelope {
    static let maximumAttempts = 5
    static let minimumLength = 4
    /// Argon2id costs for the PIN: the floor, because the envelope is only in memory.
    static let parameters = KDFParameters.minimum

    private let salt: [UInt8]
    private let wrappedKey: SealedBox
    private let context: SealContext
    private(set) var attemptsLeft = maximumAttempts

    init(pin: String, keyring: Keyring) throws {
        guard pin.count >= Self.minimumLength else {
            throw AgentFailure(.invalidInput, "A PIN needs at least \(Self.minimumLength) characters.")
        }
        salt = secureRandomBytes(count: 16)
        context = SealContext(purpose: .accountKeyByPIN, accountID: keyring.accountID, epoch: keyring.epoch)
        wrappedKey = keyring.accountKey.wrapped(by: try Self.wrapKey(pin: pin, salt: salt), context: context)
    }

    /// Opens the account key; a wrong PIN uses up an attempt.
    mutating func open(pin: String) throws -> AccountKey {
        do {
            let key = try AccountKey.unwrap(wrappedKey, with: try Self.wrapKey(pin: pin, salt: salt), context: context)
            attemptsLeft = Self.maximumAttempts
            return key
        } catch CofferCryptoError.wrongKey {
            attemptsLeft -= 1
            throw CofferCryptoError.wrongKey
        }
    }

    private static func wrapKey(pin: String, salt: [UInt8]) throws -> PINWrapKey {
        let bytes = try Argon2id.hash(password: Array(pin.utf8), salt: salt, parameters: parameters, outputLength: 32)
        return PINWrapKey(SymmetricKey(data: bytes))
    }
}
