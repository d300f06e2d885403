import Foundation
import Testing

@testable import CofferModel

@Suite("Items")
struct ItemTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("every type starts with its template's fields")
    func templates() {
        for type in ItemType.allCases {
            let item = Item(type: type, title: "x", now: now)
            #expect(item.fields.map(\.name) == type.template.map(\.name))
        }
        #expect(Item(type: .login, title: "x", now: now).kind(of: "password") == .hidden)
    }

    @Test("changing a hidden field keeps the old value in the history")
    func passwordHistory() {
        var item = Item(type: .login, title: "Mail", now: now)
        item.setValue("first", of: "password")
        let before = item
        item.setValue("second", of: "password")
        item.setValue("new name", of: "username")
        item.recordEdit(from: before, at: now.addingTimeInterval(60))
        #expect(item.passwordHistory.map(\.value) == ["first"])
        #expect(item.modified == now.addingTimeInterval(60))
    }

    @Test("custom fields of every kind can be added and read back by name")
    func customFields() {
        var item = Item(type: .note, title: "x", now: now)
        for kind in FieldKind.allCases { item.setValue("v-\(kind)", of: "My \(kind)", kind: kind) }
        #expect(item.customFields.count == FieldKind.allCases.count)
        #expect(item.value(of: "my-hidden") == "v-hidden")
    }

    @Test("trash and restore")
    func trash() {
        var item = Item(type: .card, title: "Visa", now: now)
        item.moveToTrash(at: now)
        #expect(item.isTrashed)
        item.restoreFromTrash(at: now)
        #expect(!item.isTrashed)
    }

    @Test("type names parse with synonyms and unknown ones list the valid ones")
    func typeNames() throws {
        #expect(try ItemType(parsing: "credit-card") == .card)
        #expect(throws: CofferModelError.self) { try ItemType(parsing: "spaceship") }
    }
}
