import CofferInterchange
import CofferModel
import Foundation
import Testing
import ZIPFoundation

@Suite("ZIP exports: 1Password 1PUX and Proton Pass")
struct ArchiveImporterTests {
    static func zip(_ entries: [String: String]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in entries.sorted(by: { $0.key < $1.key }) {
            let bytes = Data(text.utf8)
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate,
                provider: { position, size in bytes.subdata(in: Int(position)..<Int(position) + size) })
        }
        return try #require(archive.data)
    }

    static let onePUX = """
        {"accounts": [{"attrs": {"name": "Me"}, "vaults": [{"attrs": {"name": "Private"}, "items": [
          {"uuid": "a1", "favIndex": 1, "createdAt": 1700000000, "updatedAt": 1700000500, "state": "active",
           "categoryUuid": "001",
           "details": {"loginFields": [
               {"value": "ivan", "name": "username", "fieldType": "T", "designation": "username"},
               {"value": "1p-pass-11", "name": "password", "fieldType": "P", "designation": "password"}],
             "notesPlain": "work login",
             "sections": [{"title": "Security", "fields": [
               {"title": "one-time password", "id": "TOTP_1", "value": {"totp": "otpauth://totp/X:ivan?secret=JBSWY3DPEHPK3PXP"}},
               {"title": "Recovery codes", "id": "rc", "value": {"concealed": "aaaa-bbbb"}}]}],
             "passwordHistory": [{"value": "old-1p", "time": 1690000000}]},
           "overview": {"title": "Work SSO", "url": "https://sso.example", "urls": [{"label": "", "url": "https://sso.example"}], "tags": ["work"]}},
          {"uuid": "a2", "favIndex": 0, "createdAt": 1700000000, "updatedAt": 1700000000, "state": "archived",
           "categoryUuid": "002",
           "details": {"sections": [{"title": "", "fields": [
               {"title": "cardholder name", "id": "cardholder", "value": {"string": "Ivan I"}},
               {"title": "number", "id": "ccnum", "value": {"creditCardNumber": "4111111111111111"}},
               {"title": "verification number", "id": "cvv", "value": {"concealed": "456"}},
               {"title": "expiry date", "id": "expiry", "value": {"monthYear": 202903}}]}]},
           "overview": {"title": "Amex", "tags": []}},
          {"uuid": "a3", "categoryUuid": "110", "details": {"sections": [{"fields": [
               {"title": "server", "id": "url", "value": {"string": "db.example"}}]}]}, "overview": {"title": "DB server"}}
        ]}]}]}
        """

    @Test("1PUX: logins with TOTP, sections and history; cards with expiry; servers as logins")
    func onePassword() throws {
        let data = try Self.zip(["export.attributes": "{}", "export.data": Self.onePUX])
        let result = try Importer.read(data: data, name: "export.1pux")
        #expect(result.format == .onePasswordPUX && result.items.count == 3)
        let login = try Fixture.item(result, "Work SSO")
        #expect(login.value(of: "username") == "ivan" && login.value(of: "password") == "1p-pass-11")
        #expect(login.value(of: "totp")?.hasPrefix("otpauth://") == true)
        #expect(login.kind(of: "Recovery codes") == .hidden && login.value(of: "Recovery codes") == "aaaa-bbbb")
        #expect(login.isFavorite && login.tags == ["Private", "work"] && login.urls == ["https://sso.example"])
        #expect(login.passwordHistory.first?.value == "old-1p")
        #expect(login.created == Date(timeIntervalSince1970: 1_700_000_000))
        let card = try Fixture.item(result, "Amex")
        #expect(card.type == .card && card.value(of: "number") == "4111111111111111")
        #expect(
            card.value(of: "expiry") == "03/2029" && card.value(of: "cvv") == "456" && card.tags.contains("archived"))
        let server = try Fixture.item(result, "DB server")
        #expect(server.type == .login && server.value(of: "server") == "db.example", "a Server item is a login")
    }

    @Test(
        "1PUX: same-named fields in different sections stay apart; bank, Wi-Fi, e-mail and SSH items get their types; attached files and documents are imported"
    )
    func onePasswordSectionsAndFiles() throws {
        let json = """
            {"accounts": [{"attrs": {"name": "Me"}, "vaults": [{"attrs": {"name": "V"}, "items": [
              {"uuid": "e1", "categoryUuid": "111", "overview": {"title": "Mail"},
               "details": {"sections": [
                 {"title": "", "fields": [{"title": "username", "id": "pop_username", "value": {"string": "kim"}},
                                          {"title": "password", "id": "pop_password", "value": {"concealed": "mail-pass"}}]},
                 {"title": "POP", "fields": [{"title": "port", "id": "pop_port", "value": {"string": "995"}},
                                             {"title": "", "id": "x1", "value": {"string": "first untitled"}}]},
                 {"title": "SMTP", "fields": [{"title": "port", "id": "smtp_port", "value": {"string": "587"}},
                                              {"title": "", "id": "x1", "value": {"string": "second untitled"}},
                                              {"title": "password", "id": "smtp_password", "value": {"concealed": "smtp-pass"}}]}]}},
              {"uuid": "b1", "categoryUuid": "101", "overview": {"title": "Bank"},
               "details": {"sections": [{"title": "", "fields": [
                 {"title": "bank name", "id": "bankName", "value": {"string": "First Bank"}},
                 {"title": "account number", "id": "accountNo", "value": {"concealed": "12345678"}},
                 {"title": "IBAN", "id": "iban", "value": {"string": "DE89370400440532013000"}}]}]}},
              {"uuid": "w1", "categoryUuid": "109", "overview": {"title": "Home Wi-Fi"},
               "details": {"sections": [{"title": "", "fields": [
                 {"title": "network name", "id": "network_name", "value": {"string": "Burrow"}},
                 {"title": "wireless network password", "id": "wireless_password", "value": {"concealed": "wifi-pass"}}]}]}},
              {"uuid": "d1", "categoryUuid": "006", "overview": {"title": "Passport scan"},
               "details": {"documentAttributes": {"fileName": "passport.pdf", "documentId": "doc1", "decryptedSize": 7},
                           "sections": [{"title": "More", "fields": [
                             {"title": "extra", "id": "f1", "value": {"file": {"fileName": "note.txt", "documentId": "doc2"}}},
                             {"title": "missing", "id": "f2", "value": {"file": {"fileName": "gone.txt", "documentId": "doc3"}}}]}]}}
            ]}]}]}
            """
        let data = try Self.zip([
            "export.attributes": "{}", "export.data": json, "files/doc1__passport.pdf": "PDFDATA",
            "files/doc2__note.txt": "hello",
        ])
        let result = try Importer.read(data: data, name: "export.1pux")
        let mail = try Fixture.item(result, "Mail")
        #expect(mail.type == .login && mail.value(of: "username") == "kim" && mail.value(of: "password") == "mail-pass")
        #expect(mail.value(of: "port") == "995" && mail.value(of: "SMTP: port") == "587")
        #expect(mail.value(of: "x1") == "first untitled" && mail.value(of: "SMTP: x1") == "second untitled")
        #expect(mail.value(of: "SMTP: password") == "smtp-pass" && mail.kind(of: "SMTP: password") == .hidden)
        let bank = try Fixture.item(result, "Bank")
        #expect(bank.type == .bankAccount && bank.value(of: "account-number") == "12345678")
        #expect(bank.value(of: "bank") == "First Bank" && bank.value(of: "iban") == "DE89370400440532013000")
        let wifi = try Fixture.item(result, "Home Wi-Fi")
        #expect(wifi.type == .wifi && wifi.value(of: "ssid") == "Burrow" && wifi.value(of: "password") == "wifi-pass")
        let scan = try Fixture.item(result, "Passport scan")
        #expect(scan.attachments.map(\.name) == ["passport.pdf", "note.txt"])
        #expect(scan.attachments.first?.data == Data("PDFDATA".utf8))
        #expect(result.skipped.map(\.field) == ["Passport scan/gone.txt"], "a file not in the archive is named")
    }

    @Test("1PUX with absurd numbers (1e300 times, a month-year that is no month): imported, nothing traps")
    func absurdNumbers() throws {
        let json = """
            {"accounts": [{"attrs": {"name": "Me"}, "vaults": [{"attrs": {"name": "V"}, "items": [
              {"uuid": "x1", "createdAt": 1e300, "updatedAt": -1e300, "categoryUuid": "002",
               "details": {"sections": [{"fields": [
                 {"title": "expiry date", "id": "expiry", "value": {"monthYear": 1e300}},
                 {"title": "issued", "id": "issued", "value": {"date": -9.9e307}},
                 {"title": "valid from", "id": "from", "value": {"monthYear": 202913}}]}],
                 "passwordHistory": [{"value": "old", "time": 1e308}]},
               "overview": {"title": "Odd card"}}]}]}]}
            """
        let result = try Importer.read(
            data: try Self.zip(["export.attributes": "{}", "export.data": json]), name: "odd.1pux")
        let card = try Fixture.item(result, "Odd card")
        #expect(card.created.timeIntervalSince1970 < 1e12 && card.modified.timeIntervalSince1970 > -1e12)
        #expect(card.passwordHistory.first?.replacedAt.timeIntervalSince1970 ?? 0 < 1e12)
        #expect(card.value(of: "valid from") == "202913", "a number that is no month is kept as written")
    }

    @Test("Proton Pass ZIP: logins, notes, aliases, identities, SSH keys; an unknown type keeps its values as a note")
    func protonPass() throws {
        let json = """
            {"version": "1.0", "encrypted": false, "vaults": {"v1": {"name": "Personal", "items": [
              {"itemId": "p1", "pinned": true, "createTime": 1700000000, "modifyTime": 1700000100, "state": 1,
               "data": {"metadata": {"name": "Proton", "note": "main"}, "type": "login",
                        "content": {"itemEmail": "judy@proton.me", "itemUsername": "", "password": "pp-json-12",
                                    "urls": ["https://proton.me"], "totpUri": ""},
                        "extraFields": [{"fieldName": "Backup PIN", "type": "hidden", "data": {"content": "9999"}}]}},
              {"itemId": "p2", "data": {"metadata": {"name": "Shopping list", "note": "eggs"}, "type": "note", "content": {}}},
              {"itemId": "p3", "data": {"metadata": {"name": "Odd"}, "type": "identityV9", "content": {"code": "x1"}}},
              {"itemId": "p4", "aliasEmail": "shop.k2@passmail.net",
               "data": {"metadata": {"name": "shop.k2@passmail.net", "note": "for shops"}, "type": "alias", "content": {}}},
              {"itemId": "p5", "data": {"metadata": {"name": "Me"}, "type": "identity",
               "content": {"fullName": "Judy Ann Hopps", "firstName": "Judy", "middleName": "Ann", "lastName": "Hopps",
                           "email": "judy@proton.me", "phoneNumber": "+1 555", "streetAddress": "1 Burrow Lane", "city": "Bunnyburrow",
                           "zipOrPostalCode": "12345", "countryOrRegion": "US", "socialSecurityNumber": "123-45-6789",
                           "jobTitle": "Officer", "extraPersonalDetails": [{"fieldName": "Badge", "type": "text", "data": {"content": "715"}}]}}},
              {"itemId": "p6", "data": {"metadata": {"name": "Deploy key"}, "type": "sshKey",
               "content": {"privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----", "publicKey": "ssh-ed25519 AAAA"}}}
            ]}}}
            """
        let result = try Importer.read(data: try Self.zip(["Proton Pass/data.json": json]), name: "proton.zip")
        #expect(result.format == .protonPassJSON && result.items.count == 6 && result.skipped.isEmpty)
        let login = try Fixture.item(result, "Proton")
        #expect(login.value(of: "username") == "judy@proton.me" && login.value(of: "password") == "pp-json-12")
        #expect(login.kind(of: "Backup PIN") == .hidden && login.isFavorite && login.tags == ["Personal"])
        #expect(try Fixture.item(result, "Shopping list").notes == "eggs")
        let odd = try Fixture.item(result, "Odd")
        #expect(odd.type == .note && odd.value(of: "Proton Pass type") == "identityV9" && odd.value(of: "code") == "x1")
        let alias = try Fixture.item(result, "shop.k2@passmail.net")
        #expect(alias.type == .login && alias.value(of: "username") == "shop.k2@passmail.net")
        #expect(alias.tags.contains("Proton alias") && alias.notes == "for shops")
        let me = try Fixture.item(result, "Me")
        #expect(
            me.type == .identity && me.value(of: "first-name") == "Judy Ann" && me.value(of: "last-name") == "Hopps")
        #expect(me.value(of: "address") == "1 Burrow Lane, Bunnyburrow, 12345, US" && me.value(of: "phone") == "+1 555")
        #expect(me.kind(of: "socialSecurityNumber") == .hidden && me.value(of: "jobTitle") == "Officer")
        #expect(me.value(of: "Badge") == "715")
        #expect(try Fixture.item(result, "Deploy key").value(of: "public-key") == "ssh-ed25519 AAAA")
    }

    static let dashlaneFiles = [
        "credentials.csv":
            "username,username2,username3,title,password,note,url,category,otpUrl\nkim,,,Forum,dl-zip-13,,https://forum.example,,\n",
        "payments.csv":
            "type,account_name,account_holder,cc_number,code,expiration_month,expiration_year,routing_number,account_number,country,issuing_bank,note,name\npayment_card,Visa,Kim K,4111111111111111,777,7,2030,,,US,,,\nbank,Savings,Kim K,,,,,021000021,123456789,US,Chase,,\n",
        "securenotes.csv": "title,note\nWiFi guests,password is on the fridge\n",
        "ids.csv":
            "type,number,name,issue_date,expiration_date,place_of_issue,state\npassport,X1234567,Kim K,2020-01-01,2030-01-01,Berlin,\n",
        "personalInfo.csv":
            "type,title,first_name,middle_name,last_name,login,date_of_birth,place_of_birth,email,email_type,item_name,phone_number,address,country,state,city,zip,address_recipient,address_building,address_apartment,address_floor,address_door_code,job_title,url\nname,Ms,Kim,,Kay,,1990-02-03,Hamburg,,,,,,,,,,,,,,,,\nemail,,,,,,,,kim@example.org,personal,Personal mail,,,,,,,,,,,,,\n",
    ]

    @Test(
        "Dashlane ZIP: every file (logins, cards and bank accounts, secure notes, IDs, personal info); each CSV also on its own"
    )
    func dashlane() throws {
        var files = Self.dashlaneFiles
        files["readme.txt"] = "not a Dashlane file"
        let result = try Importer.read(data: try Self.zip(files), name: "dashlane.zip")
        #expect(result.items.count == 7, "\(result.items.map(\.title))")
        #expect(result.notes.contains { $0.contains("readme.txt") }, "a file it does not read is named")
        #expect(try Fixture.item(result, "Forum").value(of: "password") == "dl-zip-13")
        let card = try Fixture.item(result, "Visa")
        #expect(card.type == .card && card.value(of: "expiry") == "07/2030" && card.value(of: "cvv") == "777")
        #expect(card.value(of: "country") == "US", "unmapped columns are kept")
        let bank = try Fixture.item(result, "Savings")
        #expect(
            bank.type == .bankAccount && bank.value(of: "account-number") == "123456789"
                && bank.value(of: "bank") == "Chase")
        #expect(try Fixture.item(result, "WiFi guests").notes == "password is on the fridge")
        let passport = try Fixture.item(result, "Passport – Kim K")
        #expect(passport.value(of: "passport") == "X1234567" && passport.value(of: "expires") == "2030-01-01")
        let name = try Fixture.item(result, "Ms")
        #expect(name.value(of: "first-name") == "Kim" && name.value(of: "birthday") == "1990-02-03")
        #expect(name.value(of: "place_of_birth") == "Hamburg")
        #expect(try Fixture.item(result, "Personal mail").value(of: "email") == "kim@example.org")
        for (path, text) in Self.dashlaneFiles {
            let alone = try Importer.read(data: Data(text.utf8), name: path)
            #expect(alone.format == .dashlaneCSV && !alone.items.isEmpty, "\(path) on its own")
        }
    }

    @Test("damaged, foreign and oversized archives are refused with the file named")
    func badArchives() throws {
        let good = try Self.zip(["export.data": Self.onePUX])
        for length in stride(from: 4, to: good.count, by: 37) {
            do {
                _ = try Importer.read(data: good.prefix(length), name: "cut.1pux")
            } catch {
                #expect(error.description.contains("cut.1pux"))
            }
        }
        let foreign = try Self.zip(["readme.txt": "hello"])
        #expect(throws: ImportError.self) { try Importer.read(data: foreign, name: "other.zip") }
        let notJSON = try Self.zip(["export.data": "{not json"])
        #expect(throws: ImportError.self) { try Importer.read(data: notJSON, name: "bad.1pux") }
    }
}
