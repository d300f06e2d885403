import Foundation

extension Item {
    /// The most one item may hold, measured as the JSON that gets sealed: 4 MiB less 16 KiB. The
    /// server keeps at most 4 MiB per sealed record; the rest is room for the revision wrapped around
    /// the item and the box's nonce and tag. An item over it could be saved here but never synced, so
    /// it is refused where it is made (add, edit, import) with `sizeLimitMessage`.
    public static let sizeLimit = 4 * 1_048_576 - 16 * 1024

    /// Whether the item fits `sizeLimit`. Cheap for the usual item: the exact JSON is only measured
    /// when even the worst escaping (six bytes per character) of its text could reach the limit.
    public var fitsSizeLimit: Bool {
        if roughSize * 6 + 64 * 1024 < Self.sizeLimit { return true }
        return encodedSize <= Self.sizeLimit
    }

    /// The size of the item's JSON, as it is sealed (dates as milliseconds, like the vault stores them).
    public var encodedSize: Int {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        // Every member encodes (strings, data, dates); a failure here would be a Foundation bug.
        return (try? encoder.encode(self).count) ?? Int.max
    }

    /// Why an item was refused, and what to do: for a user who pasted a book into the notes, or
    /// imported a file whose fields are that large.
    public var sizeLimitMessage: String {
        let bytes = encodedSize
        let size = bytes == Int.max ? "too large" : "\(ByteCount(bytes))"
        return
            "\"\(title)\" is \(size); an item may hold at most \(ByteCount(Self.sizeLimit)) (the most the server keeps per item). Shorten its notes or fields, or keep large files out of it."
    }

    /// Adds a file, keeping names unique (they are how `coffer attachment save` picks one) and the
    /// total within `attachmentLimit`, so the item still syncs.
    public mutating func attach(_ attachment: Attachment) throws(CofferModelError) {
        let name = attachment.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, !name.contains("/") else {
            throw .invalidAttachment("an attachment needs a file name without \"/\"; pass --name")
        }
        guard !attachments.contains(where: { $0.name == name }) else {
            throw .invalidAttachment(
                "\"\(title)\" already has an attachment called \"\(name)\"; remove it first or pass another --name")
        }
        let total = attachments.reduce(attachment.data.count) { $0 + $1.data.count }
        guard total <= Self.attachmentLimit else {
            throw .invalidAttachment(
                "\"\(title)\" would hold \(ByteCount(total)) of attachments; an item keeps at most \(ByteCount(Self.attachmentLimit)) so it still syncs"
            )
        }
        attachments.append(Attachment(name: name, data: attachment.data))
    }

    /// The bytes of text and attachments (base64), without JSON's quoting and escaping.
    private var roughSize: Int {
        let fieldBytes = allFields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        let historyBytes = passwordHistory.reduce(0) { $0 + $1.fieldName.utf8.count + $1.value.utf8.count }
        let attachmentBytes = attachments.reduce(0) { $0 + $1.name.utf8.count + ($1.data.count + 2) / 3 * 4 }
        return title.utf8.count + notes.utf8.count + fieldBytes + historyBytes
            + urls.reduce(0) { $0 + $1.utf8.count } + tags.reduce(0) { $0 + $1.utf8.count } + attachmentBytes
            // Members a newer Coffer added are rare: counted by the whole item's exact size.
            + (unknownMembers.isEmpty ? 0 : encodedSize)
    }
}

/// A byte count for messages: kibibytes up to 10 MiB, rounded up, so a size just over a limit never
/// reads the same as the limit ("4081 KiB" against "4080 KiB"); mebibytes above.
public struct ByteCount: CustomStringConvertible, Sendable {
    /// The count.
    public let bytes: Int

    /// A count to show.
    public init(_ bytes: Int) { self.bytes = bytes }

    /// "512 bytes", "4081 KiB", "12.3 MiB".
    public var description: String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 10 * 1_048_576 { return "\((bytes + 1023) / 1024) KiB" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
