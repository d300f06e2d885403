import CofferModel

extension Item {
    /// Keeps a value the reader has no standard place for, as a custom field under a name not yet
    /// used (see ``FieldNames/free(_:section:)``), or past ``ImportLimits/maximumCustomFields`` as a
    /// `name: value` line in the notes.
    mutating func keepField(_ value: String, named title: String, section: String = "", kind: FieldKind = .text) {
        let base = title.isEmpty ? "field" : title
        guard customFields.count < ImportLimits.maximumCustomFields else {
            let line = section.isEmpty ? "\(base): \(value)" : "\(section): \(base): \(value)"
            notes += notes.isEmpty ? line : "\n" + line
            return
        }
        customFields.append(Field(name: FieldNames(of: self).free(base, section: section), kind: kind, value: value))
    }
}

/// The names an item's fields answer to (compared as `Field.matches` does: ignoring case, spaces,
/// dashes and underscores), gathered once so finding a free one costs a set lookup per candidate.
struct FieldNames {
    private var taken: Set<String>

    init(of item: Item) {
        taken = Set(item.allFields.map { Self.normalize($0.name) })
        // Pseudo-fields `Item.value(of:)` answers for.
        taken.formUnion(["title", "notes", "note", "urls", "tags", "id"])
        if !item.urls.isEmpty { taken.formUnion(["url", "website"]) }
    }

    /// `title` when free, else prefixed with its section's title (`SMTP: port`), else numbered.
    func free(_ title: String, section: String) -> String {
        let base = title.isEmpty ? "field" : title
        guard isTaken(base) else { return base }
        let prefixed = section.isEmpty ? base : "\(section): \(base)"
        var candidate = prefixed
        var number = 2
        while isTaken(candidate) {
            candidate = "\(prefixed) \(number)"
            number += 1
        }
        return candidate
    }

    private func isTaken(_ name: String) -> Bool { taken.contains(Self.normalize(name)) }

    private static func normalize(_ name: String) -> String {
        String(name.lowercased().filter { $0 != " " && $0 != "-" && $0 != "_" })
    }
}
