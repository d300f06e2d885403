import Foundation

extension CofferKey {
    /// Seals this key under a wrapping key, for storage or upload.
    public func wrapped<WrapRole: SealingKeyRole>(
        by wrappingKey: CofferKey<WrapRole>, context: SealContext
    ) -> SealedBox {
        withUnsafeBytes { SealedBox.seal($0, with: wrappingKey, context: context) }
    }

    /// Seals this key under a wrapping key whose commitment was computed once.
    public func wrapped<WrapRole: SealingKeyRole>(
        by wrappingKey: CommittedKey<WrapRole>, context: SealContext
    ) -> SealedBox {
        withUnsafeBytes { SealedBox.seal($0, with: wrappingKey, context: context) }
    }

    /// Opens a key that `wrapped(by:context:)` sealed.
    public static func unwrap<WrapRole: SealingKeyRole>(
        _ box: SealedBox, with wrappingKey: CofferKey<WrapRole>, context: SealContext
    ) throws(CofferCryptoError) -> Self {
        try unwrap(box, with: CommittedKey(wrappingKey), context: context)
    }

    /// Opens a key that `wrapped(by:context:)` sealed, with a wrapping key whose commitment was
    /// computed once.
    public static func unwrap<WrapRole: SealingKeyRole>(
        _ box: SealedBox, with wrappingKey: CommittedKey<WrapRole>, context: SealContext
    ) throws(CofferCryptoError) -> Self {
        var bytes = try box.open(with: wrappingKey, context: context)
        defer { bytes.resetBytes(in: bytes.startIndex..<bytes.endIndex) }
        return try Self(bytes: bytes)
    }
}
