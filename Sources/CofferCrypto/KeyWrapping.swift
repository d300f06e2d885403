import Foundation

extension CofferKey {
    /// Seals this key under a wrapping key, for storage or upload.
    public func wrapped<WrapRole: SealingKeyRole>(
        by wrappingKey: CofferKey<WrapRole>, context: SealContext
    ) -> SealedBox {
        withUnsafeBytes { SealedBox.seal($0, with: wrappingKey, context: context) }
    }

    /// Opens a key that `wrapped(by:context:)` sealed.
    public static func unwrap<WrapRole: SealingKeyRole>(
        _ box: SealedBox, with wrappingKey: CofferKey<WrapRole>, context: SealContext
    ) throws(CofferCryptoError) -> Self {
        var bytes = try box.open(with: wrappingKey, context: context)
        defer { bytes.resetBytes(in: bytes.startIndex..<bytes.endIndex) }
        return try Self(bytes: bytes)
    }
}
