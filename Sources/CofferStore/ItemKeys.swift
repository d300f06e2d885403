import Foundation

extension UUID {
    /// How the vault file keys an item (schema v10): its 16 bytes, which sort as its lowercase text
    /// does, in less than half the room (an id is stored in its row, the id index and `itemSync`).
    var storeKey: Data { withUnsafeBytes(of: uuid) { Data($0) } }

    /// The item a stored key names; `nil` for anything but 16 bytes.
    init?(storeKey: Data) {
        guard storeKey.count == 16 else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyBytes(from: storeKey) }
        self.init(uuid: uuid)
    }
}
