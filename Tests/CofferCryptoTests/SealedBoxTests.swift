import Foundation
import Testing

@testable import CofferCrypto

@Suite("Sealed boxes")
struct SealedBoxTests {
    let key = ItemKey.random()
    let account = UUID()
    var context: SealContext { SealContext(purpose: .itemContent, accountID: account, epoch: 1, itemID: itemA) }
    let itemA = UUID()
    let itemB = UUID()

    @Test("what is sealed opens with the same key and context")
    func roundTrip() throws {
        let box = SealedBox.seal(Data("secret".utf8), with: key, context: context)
        #expect(try box.open(with: key, context: context) == Data("secret".utf8))
    }

    @Test("a flipped bit anywhere after the header fails to open")
    func flippedBit() throws {
        let box = SealedBox.seal(Data("secret content".utf8), with: key, context: context)
        for index in 1..<box.bytes.count {
            var bytes = box.bytes
            bytes[index] ^= 0x01
            let tampered = try SealedBox(bytes: bytes)
            #expect(throws: CofferCryptoError.self) { try tampered.open(with: key, context: context) }
        }
    }

    @Test("a ciphertext moved to another item fails as tampered")
    func movedCiphertext() {
        let box = SealedBox.seal(Data("secret".utf8), with: key, context: context)
        var moved = context
        moved.itemID = itemB
        #expect(throws: CofferCryptoError.tampered) { try box.open(with: key, context: moved) }
    }

    @Test("a changed associated datum (purpose, account, epoch, extra) fails as tampered")
    func changedAssociatedData() {
        let box = SealedBox.seal(Data("secret".utf8), with: key, context: context)
        var purpose = context
        purpose.purpose = .itemKey
        var otherAccount = context
        otherAccount.accountID = UUID()
        var epoch = context
        epoch.epoch = 2
        var extra = context
        extra.extra = [1]
        for changed in [purpose, otherAccount, epoch, extra] {
            #expect(throws: CofferCryptoError.tampered) { try box.open(with: key, context: changed) }
        }
    }

    @Test("the wrong key is reported as a wrong key, not as tampering")
    func wrongKey() {
        let box = SealedBox.seal(Data("secret".utf8), with: key, context: context)
        #expect(throws: CofferCryptoError.wrongKey) { try box.open(with: ItemKey.random(), context: context) }
    }

    @Test("truncated boxes and unknown versions are refused")
    func malformed() {
        let box = SealedBox.seal(Data("secret".utf8), with: key, context: context)
        #expect(throws: CofferCryptoError.self) { try SealedBox(bytes: box.bytes.prefix(20)) }
        var future = box.bytes
        future[0] = 2
        #expect(throws: CofferCryptoError.unsupportedVersion(2)) { try SealedBox(bytes: future) }
    }

    @Test("a wrapped key unwraps to the same key")
    func keyWrap() throws {
        let accountKey = AccountKey.random()
        let wrapKey = PasswordWrapKey.random()
        let ctx = SealContext(purpose: .accountKeyByPassword, accountID: account, epoch: 1)
        let box = accountKey.wrapped(by: wrapKey, context: ctx)
        let back = try AccountKey.unwrap(box, with: wrapKey, context: ctx)
        #expect(back.withUnsafeBytes(Array.init) == accountKey.withUnsafeBytes(Array.init))
    }
}
