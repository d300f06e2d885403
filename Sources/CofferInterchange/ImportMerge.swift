public import CofferModel
public import Foundation

/// Finding items an import would duplicate, and merging an imported copy into the existing item.
public enum ImportMerge {
    /// The identity of an item for duplicate detection: same type, title, username and first URL's host.
    public static func key(_ item: Item) -> String {
        let host = item.urls.first.flatMap { URL(string: $0)?.host ?? $0 } ?? ""
        return [
            item.type.rawValue, item.title.lowercased(), (item.value(of: "username") ?? "").lowercased(),
            host.lowercased(),
        ]
        .joined(separator: "\u{1F}")
    }

    /// `existing` with what `imported` adds: empty fields filled, other values taken from the import
    /// (replaced secrets stay in the password history), URLs, tags and custom fields united, notes appended.
    public static func merge(_ imported: Item, into existing: Item, now: Date) -> Item {
        var merged = existing
        for field in imported.allFields where !field.value.isEmpty {
            merged.setValue(field.value, of: field.name, kind: field.kind)
        }
        merged.urls += imported.urls.filter { !merged.urls.contains($0) }
        merged.tags = Array(Set(merged.tags + imported.tags))
        if !imported.notes.isEmpty, !merged.notes.contains(imported.notes) {
            merged.notes = merged.notes.isEmpty ? imported.notes : merged.notes + "\n\n" + imported.notes
        }
        merged.isFavorite = merged.isFavorite || imported.isFavorite
        merged.recordEdit(from: existing, at: now)
        return merged
    }
}
