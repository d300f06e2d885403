import CofferModel
import Foundation

/// mSecure 6: a first line `mSecure6 CSV export file`, then `title|id,template,tags,note,label|type|value,…`.
struct MSecureImporter {
    let now: Date

    /// Whether a record has mSecure's shape, for files saved without their marker line: a
    /// `title|id` first cell, a template, and `label|type|value` cells after the notes.
    static func looksLikeRecord(_ record: CSVRecord) -> Bool {
        let cells = record.cells
        guard cells.count >= 5, let id = cells[0].split(separator: "|").last, cells[0].contains("|"),
            id.allSatisfy(\.isNumber)
        else { return false }
        return cells.dropFirst(4).contains { cell in
            let parts = cell.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && Int(parts[1]) != nil
        }
    }

    /// The item of one record; `notes` hears about values read differently from how they were written.
    func item(_ record: CSVRecord, notes: inout [String]) -> Item? {
        let cells = record.cells
        guard cells.count >= 4 else { return nil }
        let title = String(cells[0].split(separator: "|", maxSplits: 1).first ?? "")
        let template = cells[1].trimmingWhitespace()
        let type: ItemType =
            switch template.lowercased() {
            case "login": .login
            case "credit card": .card
            case "bank accounts", "bank account": .bankAccount
            case "wifi", "wi-fi": .wifi
            case "software", "software license": .license
            case "secure note", "note": .note
            default: .note
            }
        var item = Item(type: type, title: title, now: now)
        item.tags = CSVImporters.list(cells[2])
        item.notes = cells[3].replacingOccurrences(of: "\\n", with: "\n")
        if type == .note, !template.isEmpty, template.lowercased() != "secure note", template.lowercased() != "note" {
            item.tags.append(template)
        }
        for cell in cells.dropFirst(4) where !cell.isEmpty {
            // label|type|value; the value may itself contain `|`.
            let parts = cell.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                // Not label|type|value: kept whole rather than lost.
                item.keepField(cell, named: "field")
                continue
            }
            let (label, code, value) = (parts[0], Int(parts[1]) ?? 0, parts[2])
            guard !value.isEmpty else { continue }
            switch (code, type) {
            case (2, _): item.urls.append(value)
            case (7, .login): item.setValue(value, of: "username")
            case (8, .login), (8, .wifi): item.setValue(value, of: "password")
            case (12, .card): item.setValue(value, of: "number")
            case (11, .card):
                let expiry = Self.expiry(value)
                item.setValue(expiry, of: "expiry")
                if expiry != value {
                    notes.append(
                        "\(title.isEmpty ? "Untitled" : title) (line \(record.line)): the expiry \(value) was read as \(expiry) (mSecure keeps a two-digit year as typed, with zeros in front)."
                    )
                }
            // Type 9 is any secret; legacy templates use it for the name on the card too.
            case (9, .card) where label.lowercased().contains("name"): item.setValue(value, of: "cardholder")
            case (9, .card) where label.lowercased().contains("pin"): item.setValue(value, of: "pin")
            case (9, .card)
            where label.isEmpty
                || ["security", "cvv", "cvc", "code", "verification"].contains {
                    label.lowercased().contains($0)
                }:
                item.setValue(value, of: "cvv")
            case (7, _): item.setValue(value, of: label.isEmpty ? "username" : label)
            case (8, _), (9, _), (12, _): item.setValue(value, of: label.isEmpty ? "secret" : label, kind: .hidden)
            default: item.setValue(value, of: label.isEmpty ? "field" : label)
            }
        }
        if item.title.isEmpty { item.title = "Untitled" }
        return item
    }

    /// mSecure writes a year typed with two digits as `0029`; no card expires in year 29, so it is 2029.
    static func expiry(_ value: String) -> String {
        let parts = value.split(separator: "/")
        guard parts.count == 2, parts[1].count == 4, parts[1].hasPrefix("00"), parts[1].allSatisfy(\.isNumber) else {
            return value
        }
        return "\(parts[0])/20\(parts[1].dropFirst(2))"
    }
}
