public import Foundation

/// Three-way merge of two edits of the same item, as sync needs it.
///
/// Each part of an item (title, every field by name, URLs, notes, tags, favourite, trash state) is
/// merged on its own: a part changed on one side only takes that side's value, so disjoint edits
/// merge. A part changed differently on both sides is a true conflict: the merged item takes the
/// remote value and the local version survives whole as a conflict copy. Nothing is dropped.
public enum ItemMerge {
    /// The result of a merge.
    public struct Outcome: Sendable, Equatable {
        /// The item to keep under the original id.
        public var merged: Item
        /// The local version as a new item, when both sides changed the same part.
        public var conflictCopy: Item?
    }

    /// Merges `local` and `remote`, both edited from `base` (`nil` when the common ancestor is unknown).
    public static func merge(base: Item?, local: Item, remote: Item, deviceName: String, now: Date) -> Outcome {
        var isConflict = false
        var merged = remote
        merged.title = pick(base?.title, local.title, remote.title, &isConflict)
        merged.type = pick(base?.type, local.type, remote.type, &isConflict)
        merged.fields = mergeFields(base?.fields, local.fields, remote.fields, &isConflict)
        merged.customFields = mergeFields(base?.customFields, local.customFields, remote.customFields, &isConflict)
        merged.urls = pick(base?.urls, local.urls, remote.urls, &isConflict)
        merged.notes = pick(base?.notes, local.notes, remote.notes, &isConflict)
        merged.tags = pick(base?.tags, local.tags, remote.tags, &isConflict)
        merged.isFavorite = pick(base?.isFavorite, local.isFavorite, remote.isFavorite, &isConflict)
        merged.trashedAt = pick(base?.trashedAt, local.trashedAt, remote.trashedAt, &isConflict)
        merged.attachments = pick(base?.attachments, local.attachments, remote.attachments, &isConflict)
        merged.unknownMembers = mergeUnknownMembers(
            base?.unknownMembers, local.unknownMembers, remote.unknownMembers, &isConflict)
        var history = remote.passwordHistory
        for entry in local.passwordHistory where !history.contains(entry) { history.append(entry) }
        merged.passwordHistory = Array(
            history.sorted { $0.replacedAt > $1.replacedAt }.prefix(Item.passwordHistoryLimit))
        merged.modified = max(local.modified, remote.modified)
        guard isConflict else { return Outcome(merged: merged, conflictCopy: nil) }
        var copy = local
        copy.id = UUID()
        copy.title = "\(local.title) (conflict copy from \(deviceName), \(Self.stamp(now)))"
        copy.created = now
        copy.modified = now
        return Outcome(merged: merged, conflictCopy: copy)
    }

    /// What a newer Coffer added, member by member, as `pick` merges a part: a member one side left
    /// as it was takes the other side's value (or its absence).
    private static func mergeUnknownMembers(
        _ base: [String: JSONValue]?, _ local: [String: JSONValue], _ remote: [String: JSONValue],
        _ isConflict: inout Bool
    ) -> [String: JSONValue] {
        var merged: [String: JSONValue] = [:]
        for key in Set(local.keys).union(remote.keys) {
            // Absent is a value too: a member one side removed stays removed.
            if let value = pick(base.map { $0[key] }, local[key], remote[key], &isConflict) { merged[key] = value }
        }
        return merged
    }

    private static func pick<T: Equatable>(_ base: T?, _ local: T, _ remote: T, _ isConflict: inout Bool) -> T {
        if local == remote { return remote }
        if let base, base == remote { return local }
        if let base, base == local { return remote }
        isConflict = true
        return remote
    }

    private static func mergeFields(_ base: [Field]?, _ local: [Field], _ remote: [Field], _ isConflict: inout Bool)
        -> [Field]
    {
        func byName(_ fields: [Field]) -> [String: Field] {
            Dictionary(fields.map { (Field.normalize($0.name), $0) }, uniquingKeysWith: { first, _ in first })
        }
        let baseFields = base.map(byName)
        let localFields = byName(local)
        let remoteFields = byName(remote)
        var order = remote.map { Field.normalize($0.name) }
        for field in local where !order.contains(Field.normalize(field.name)) {
            order.append(Field.normalize(field.name))
        }
        return order.compactMap { name in
            // A field missing on one side was removed there (or never existed): compare as optionals.
            let chosen: Field?? = pick(baseFields.map { $0[name] }, localFields[name], remoteFields[name], &isConflict)
            return chosen ?? nil
        }
    }

    private static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
