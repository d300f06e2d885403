import CofferInterchange
import CofferModel
import Foundation
import Testing

/// CSV layouts that are not one header of named columns: 1Password 7's two layouts with
/// backslash-escaped quotes, and Keeper's header-less rows.
@Suite("importers: 1Password 7 and Keeper CSV layouts")
struct CSVLayoutTests {
    @Test(
        "1Password 7 for Mac: label(key) columns placed by key, every type, backslash-escaped quotes, tag sets, dates")
    func onePassword7Mac() throws {
        let result = try Fixture.read("onepassword7-mac.csv")
        #expect(result.format == .onePasswordCSV && result.skipped.isEmpty && result.notes.isEmpty)
        #expect(result.items.map(\.title) == ["GitHub", "Visa", "Me", "Mailbox", "Home Wi-Fi", "Passport", "Plans"])

        let login = try Fixture.item(result, "GitHub")
        #expect(login.type == .login && login.value(of: "username") == "ann")
        #expect(login.value(of: "password") == #"pa"ss\word"#, "a backslash before a letter stays")
        #expect(login.notes == "He said \"use the key\"\nsecond line" && login.urls == ["https://github.com"])
        #expect(login.tags == ["Dev", "Work"])
        #expect(login.created == Date(timeIntervalSince1970: 1_606_923_754))
        #expect(login.modified == Date(timeIntervalSince1970: 1_607_020_972))
        #expect(login.customFields.isEmpty)

        let card = try Fixture.item(result, "Visa")
        #expect(card.type == .card && card.tags.isEmpty)
        #expect(card.value(of: "cardholder") == "Ann Lee" && card.value(of: "number") == "4111111111111111")
        #expect(card.value(of: "expiry") == "01/2030" && card.value(of: "cvv") == "123" && card.customFields.isEmpty)

        let identity = try Fixture.item(result, "Me")
        #expect(identity.type == .identity && identity.value(of: "first-name") == "Ann")
        #expect(identity.value(of: "last-name") == "Lee" && identity.value(of: "phone") == "+1 800 555 0100")
        #expect(identity.value(of: "username") == "annlee", "identities have no username: kept as a field")

        let mail = try Fixture.item(result, "Mailbox")
        #expect(mail.type == .login && mail.value(of: "username") == "ann@example.org")
        let ports = mail.customFields.map { "\($0.name)=\($0.value)" }
        #expect(ports == ["port number=995", "port number 2=465"], "two fields of one label are both kept")

        let wifi = try Fixture.item(result, "Home Wi-Fi")
        #expect(wifi.type == .wifi && wifi.value(of: "ssid") == "HomeNet" && wifi.value(of: "password") == "wifi-pw")
        #expect(wifi.value(of: "security") == "WPA2")

        let passport = try Fixture.item(result, "Passport")
        #expect(passport.type == .note && passport.value(of: "1Password type") == "Passport")
        #expect(passport.value(of: "number") == "X1234567" && passport.value(of: "expiry date") == "5/1/31")

        let note = try Fixture.item(result, "Plans")
        #expect(note.type == .note && note.notes == #"kept in C:\Users\ann"#)
        #expect(note.value(of: "Scope") == "Never", "a scope other than Default is kept")
    }

    @Test(
        "1Password 7 for Windows: type from the fields, sections as prefixes, URLS, the account item, the 1970 expiry fault named"
    )
    func onePassword7Windows() throws {
        let result = try Fixture.read("onepassword7-windows.csv")
        #expect(result.format == .onePasswordCSV && result.skipped.isEmpty)
        #expect(result.items.map(\.title) == ["Mail", "Me", "Visa", "Amex", "Plans", "1Password Account"])

        let mail = try Fixture.item(result, "Mail")
        #expect(mail.type == .login && mail.value(of: "username") == "ann" && mail.value(of: "password") == #"mail"pw"#)
        #expect(mail.urls == ["https://mail.example", "https://webmail.example"] && mail.tags == ["Work"])
        #expect(mail.notes == #"say "hi""#)
        #expect(mail.value(of: "Port") == "993" && mail.value(of: "Ports: Port") == "587")
        #expect(mail.value(of: "Autosubmit") == "Never", "an autofill setting other than Default is kept")

        let identity = try Fixture.item(result, "Me")
        #expect(identity.type == .identity && identity.value(of: "first-name") == "Ann")
        #expect(identity.value(of: "last-name") == "Lee" && identity.value(of: "Initial") == "M")
        #expect(
            identity.value(of: "birthday") == "1990-12-02" && identity.value(of: "address") == "Main St 1, Springfield")
        #expect(identity.value(of: "phone") == "+1 800 555 0100" && identity.value(of: "email") == "ann@example.org")
        #expect(identity.value(of: "Username") == "annlee")

        let visa = try Fixture.item(result, "Visa")
        #expect(visa.type == .card && visa.value(of: "number") == "4111111111111111" && visa.value(of: "cvv") == "123")
        #expect(visa.value(of: "cardholder") == "Ann Lee" && visa.value(of: "expiry") == "")
        #expect(visa.value(of: "Expiry date (as exported)") == "1/3/1970 12:23 AM")
        #expect(result.notes.count == 1)
        #expect(
            result.notes.first?.contains("Visa (line 5)") == true && result.notes.first?.contains("by hand") == true)

        #expect(try Fixture.item(result, "Amex").value(of: "expiry") == "05/2031")
        let plans = try Fixture.item(result, "Plans")
        #expect(plans.type == .note && plans.notes == "secret plans" && plans.customFields.isEmpty)

        let account = try Fixture.item(result, "1Password Account")
        #expect(account.value(of: "username") == "ann@example.org" && account.value(of: "password") == "master-pw")
        #expect(account.kind(of: "Account key") == .hidden && account.value(of: "Account key") == "A3-ABCDEF")
        #expect(account.kind(of: "Master password") == .hidden)
    }

    @Test("1Password 7 files: every truncation is read or refused with a message, never a crash")
    func onePassword7Truncations() throws {
        for name in ["onepassword7-mac.csv", "onepassword7-windows.csv"] {
            let data = try Data(contentsOf: Fixture.url(name))
            for length in stride(from: 0, to: data.count, by: 7) {
                do {
                    _ = try Importer.read(data: data.prefix(length), name: name)
                } catch {
                    #expect(error.description.contains(name) && error.description.contains("Nothing was imported"))
                }
            }
        }
    }

    @Test(
        "Keeper CSV: header-less rows, folder paths and shared folders as tags, custom field pairs, TFC:Keeper as TOTP")
    func keeper() throws {
        let result = try Fixture.read("keeper.csv")
        #expect(result.format == .keeperCSV && result.skipped.isEmpty)
        #expect(result.items.map(\.title) == ["GitLab", "Server", "Recovery codes", "Odd", "example.org"])

        let gitlab = try Fixture.item(result, "GitLab")
        #expect(
            gitlab.type == .login && gitlab.value(of: "username") == "ann" && gitlab.value(of: "password") == "gl-pass")
        #expect(gitlab.urls == ["https://gitlab.com"] && gitlab.notes == "line one\nline two")
        #expect(gitlab.tags == ["Team", "Work/Projects"], "the sharing rights after # are not part of the name")
        #expect(gitlab.value(of: "totp") == "otpauth://totp/GitLab:ann?secret=JBSWY3DPEHPK3PXP")
        #expect(gitlab.value(of: "Security Question") == "first pet?" && gitlab.kind(of: "Security Question") == .text)
        #expect(gitlab.value(of: "PIN") == "1234" && gitlab.kind(of: "PIN") == .hidden)

        #expect(try Fixture.item(result, "Server").value(of: "password") == #"srv, "pw""#)
        let note = try Fixture.item(result, "Recovery codes")
        #expect(note.type == .note && note.notes == "code1 code2" && note.tags == ["Notes"])
        let odd = try Fixture.item(result, "Odd")
        #expect(odd.tags == [#"a\b"#] && odd.value(of: "field") == "lonely value", "a doubled backslash is one")
        #expect(try Fixture.item(result, "example.org").value(of: "username") == "bob")
    }

    @Test(
        "Keeper CSV: a header row is skipped; with --format keeper-csv a row of the wrong shape is named, the rest kept"
    )
    func keeperShapes() throws {
        let withHeader =
            "Folder,Title,Login,Password,Website Address,Notes,Shared Folder\n,Mail,ann,pw,https://mail.example,,\n"
        let read = try Importer.read(data: Data(withHeader.utf8), name: "keeper.csv")
        #expect(read.format == .keeperCSV && read.items.map(\.title) == ["Mail"])

        let broken = ",Mail,ann,pw,https://mail.example,,\n,Half,ann,pw,,,,name-without-value\n"
        #expect(throws: ImportError.self, "a row of another shape means it is not recognised as Keeper's") {
            try Importer.read(data: Data(broken.utf8), name: "keeper.csv")
        }
        let forced = try Importer.read(data: Data(broken.utf8), name: "keeper.csv", format: .keeperCSV)
        #expect(forced.items.map(\.title) == ["Mail"] && forced.skipped.map(\.line) == [2])

        let other = "id,name,colour,size,shape,weight,owner\n1,ball,red,10,round,5,ann\n"
        #expect(throws: ImportError.self, "a CSV of other names is not taken for Keeper's") {
            try Importer.read(data: Data(other.utf8), name: "things.csv")
        }
    }

    @Test("a record with 30,000 custom fields (found by the fuzzer) keeps 1,000 as fields and the rest in the notes")
    func thousandsOfFields() throws {
        let pairs = (0..<30_000).map { ",,v\($0)" }.joined()
        let row = ",Many,ann,pw,https://m.example,,\(pairs)\n"
        let item = try #require(try Importer.read(data: Data(row.utf8), name: "keeper.csv").items.first)
        #expect(item.customFields.count == ImportLimits.maximumCustomFields)
        #expect(item.customFields.first?.name == "field" && item.customFields.last?.name == "field 1000")
        let lines = item.notes.split(separator: "\n")
        #expect(lines.count == 29_000 && lines.first == "field: v1000" && lines.last == "field: v29999")
    }

    @Test("a folder is refused with what to give instead; an OPVault is named with the exports that carry its data")
    func folders() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("folders-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let vault = base.appendingPathComponent("Personal.opvault/default")
        try FileManager.default.createDirectory(at: vault, withIntermediateDirectories: true)
        #expect {
            try Importer.read(file: vault.deletingLastPathComponent().path)
        } throws: { "\($0)".contains("1Password OPVault") && "\($0)".contains(".1pif") }
        #expect {
            try Importer.read(file: base.path)
        } throws: { "\($0)".contains("it is a folder") && "\($0)".contains("Nothing was imported") }
    }
}
