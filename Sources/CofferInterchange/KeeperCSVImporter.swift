import CofferModel
import Foundation

/// Keeper's CSV export (web vault, desktop app and Commander): no header row; each row is `folder,
/// title, login, password, website address, notes, shared folder`, then custom fields as name and
/// value pairs. Folder paths separate folders with `\`; a shared folder may end with `#edit` or
/// `#reshare` (the sharing rights, not part of its name). A custom field named `TFC:Keeper` holds the
/// two-factor code's `otpauth://` URI.
///
/// A header row of those column names (some tools add one) is skipped.
struct KeeperCSVImporter {
    let now: Date

    /// Whether every record has Keeper's shape (seven cells, then pairs) and the file is not some other
    /// CSV whose header was not recognised: its first row must not be a header of other names.
    static func recognises(_ records: [CSVRecord]) -> Bool {
        guard let first = records.first else { return false }
        let shaped = records.allSatisfy { $0.cells.count >= 7 && ($0.cells.count - 7) % 2 == 0 }
        guard shaped else { return false }
        if isHeader(first) { return true }
        // Values, not names: a header row of unknown columns would have no URL and no empty cell.
        let website = first.cells[4].trimmingWhitespace()
        return website.isEmpty || website.contains("://") || website.contains(".")
    }

    private static func isHeader(_ record: CSVRecord) -> Bool {
        let names = record.cells.prefix(7).map(ImportFormat.normalizedColumn)
        return names.count == 7 && names[1] == "title" && names[2] == "login" && names[3] == "password"
    }

    func read(_ records: [CSVRecord]) -> ImportedItems {
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        for (index, record) in records.enumerated() {
            if index == 0, Self.isHeader(record) { continue }
            let cells = record.cells.map { $0.trimmingWhitespace() }
            guard cells.count >= 7, (cells.count - 7) % 2 == 0 else {
                skipped.append(
                    SkippedRecord(
                        line: record.line, field: nil,
                        reason:
                            "\(cells.count) cells; Keeper writes 7 and then a name and a value for each custom field (a quote or comma out of place)"
                    ))
                continue
            }
            if cells.allSatisfy(\.isEmpty) { continue }
            items.append(item(cells))
        }
        return ImportedItems(format: .keeperCSV, items: items, skipped: skipped, notes: [])
    }

    private func item(_ cells: [String]) -> Item {
        let (folder, title, login, password, website, notes, shared) =
            (cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6])
        let isLogin = !login.isEmpty || !password.isEmpty || !website.isEmpty
        var item = Item(type: isLogin ? .login : .note, title: title, now: now)
        if isLogin {
            item.setValue(login, of: "username")
            item.setValue(password, of: "password")
        }
        item.urls = website.isEmpty ? [] : [website]
        item.notes = notes
        if item.title.isEmpty { item.title = CSVImporters.title(fromURL: website) ?? "Untitled" }
        // Commander writes the rights as `#edit`, then `#reshare`, after the name; either may be alone.
        var sharedFolder = shared
        for suffix in ["#reshare", "#edit"] where sharedFolder.hasSuffix(suffix) {
            sharedFolder.removeLast(suffix.count)
        }
        for path in [folder, sharedFolder] where !path.isEmpty {
            let tag = KeeperJSONImporter.tag(fromPath: path)
            if !item.tags.contains(tag) { item.tags.append(tag) }
        }
        for pair in stride(from: 7, to: cells.count - 1, by: 2) {
            let (name, value) = (cells[pair], cells[pair + 1])
            guard !name.isEmpty || !value.isEmpty else { continue }
            if name == "TFC:Keeper", isLogin, (item.value(of: "totp") ?? "").isEmpty {
                item.setValue(value, of: "totp", kind: .totp)
                continue
            }
            item.keepField(value, named: name, kind: FieldSecrecy.looksSecret(name) ? .hidden : .text)
        }
        return item
    }
}
