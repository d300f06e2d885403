import CofferInterchange
import CofferModel
import Foundation
import Testing

/// Fixtures written from each exporter's documented layout (docs/formats/import.md).
enum Fixture {
    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }

    static func read(_ name: String) throws -> ImportedItems {
        try Importer.read(file: url(name).path, now: Date(timeIntervalSince1970: 1_800_000_000))
    }

    static func item(_ result: ImportedItems, _ title: String) throws -> Item {
        try #require(result.items.first { $0.title == title }, "no item \(title) in \(result.items.map(\.title))")
    }
}

@Suite("importers: every format's fields land in the right place")
struct ImporterTests {
    @Test("Bitwarden CSV: folders, favourites, several URLs, custom fields, TOTP, notes")
    func bitwardenCSV() throws {
        let result = try Fixture.read("bitwarden.csv")
        #expect(result.format == .bitwardenCSV)
        let twitter = try Fixture.item(result, "Twitter")
        #expect(twitter.type == .login && twitter.isFavorite && twitter.tags == ["Social"])
        #expect(twitter.urls == ["https://twitter.com", "https://x.com"])
        #expect(twitter.value(of: "username") == "alice" && twitter.value(of: "password") == "tw-pass-1")
        #expect(twitter.value(of: "totp")?.hasPrefix("otpauth://totp/Twitter") == true)
        #expect(twitter.notes == "two\nlines")
        #expect(twitter.value(of: "Recovery email") == "alice@example.org" && twitter.value(of: "PIN") == "1234")
        let note = try Fixture.item(result, "Wifi at home")
        #expect(note.type == .note && note.notes == "The password is on the router")
    }

    @Test("1Password and Apple Passwords CSV: OTP, favourite, archived, tags")
    func onePasswordAndApple() throws {
        let result = try Fixture.read("onepassword.csv")
        #expect(result.format == .onePasswordCSV)
        let github = try Fixture.item(result, "GitHub")
        #expect(
            github.isFavorite && github.tags == ["dev", "work"] && github.notes == "Two-factor on",
            "\(github.isFavorite) \(github.tags) \(github.notes)")
        #expect(github.value(of: "password") == "gh-pass-2" && github.value(of: "totp")?.contains("GEZDGNBV") == true)
        #expect(try Fixture.item(result, "Old forum").tags == ["archived"])
        let apple = try Fixture.read("apple.csv")
        #expect(apple.format == .applePasswordsCSV)
        let gina = try Fixture.item(apple, "example.com (gina)")
        #expect(gina.value(of: "password") == "ap-pass-9" && gina.notes == "Saved by Safari")
    }

    @Test(
        "LastPass CSV: groups with backslashes, favourites, and typed secure notes as cards, identities, bank accounts, SSH keys"
    )
    func lastPass() throws {
        let result = try Fixture.read("lastpass.csv")
        #expect(result.format == .lastPassCSV && result.items.count == 6)
        let news = try Fixture.item(result, "News")
        #expect(news.tags == ["Media/Reading"] && news.isFavorite && news.notes == "My news account")
        let server = try Fixture.item(result, "Server notes")
        #expect(server.type == .note && server.urls.isEmpty && server.notes.isEmpty)
        #expect(server.customFields == [Field(name: "Hostname", kind: .text, value: "db1")])

        let card = try Fixture.item(result, "Visa travel")
        #expect(card.type == .card && card.tags == ["Finance"])
        #expect(card.value(of: "cardholder") == "Ann Example" && card.value(of: "number") == "4111111111111111")
        #expect(card.value(of: "cvv") == "123" && card.value(of: "expiry") == "06/2027")
        #expect(card.value(of: "brand") == "Visa" && card.value(of: "Start Date") == "January,2022")
        #expect(card.notes == "Travel card\nKeep it abroad", "notes run to the end of the text")
        #expect(card.value(of: "Language") == nil, "LastPass's own bookkeeping is not a field")

        let address = try Fixture.item(result, "Home address")
        #expect(address.type == .identity && address.tags.isEmpty)
        #expect(address.value(of: "first-name") == "Ann" && address.value(of: "last-name") == "Example")
        #expect(address.value(of: "email") == "ann@example.org" && address.value(of: "company") == "Example Ltd")
        #expect(address.value(of: "birthday") == "1990-03-04")
        #expect(address.value(of: "address") == "1 High Street, Flat 2, Leeds, West Yorkshire, LS1 1AA, GB")
        #expect(address.value(of: "phone") == "01132 496000 ext. 12")
        #expect(address.value(of: "Mobile Phone") == "07700 900123")
        #expect(address.value(of: "Middle Name") == "B" && address.value(of: "Username") == "annex")

        let bank = try Fixture.item(result, "Current account")
        #expect(bank.type == .bankAccount)
        #expect(bank.value(of: "bank") == "Example Bank" && bank.value(of: "account-number") == "12345678")
        #expect(bank.value(of: "routing-number") == "021000021" && bank.value(of: "bic") == "EXAMGB2L")
        #expect(bank.value(of: "iban") == "GB33BUKB20201555555555" && bank.value(of: "pin") == "4321")
        #expect(bank.value(of: "Account Type") == "Checking" && bank.value(of: "Branch Address") == "1 Bank St")

        let key = try Fixture.item(result, "Deploy key")
        #expect(key.type == .sshKey && key.value(of: "passphrase") == "hunter2")
        #expect(
            key.value(of: "private-key")
                == "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----",
            "a line without a colon continues the value above")
        #expect(key.value(of: "public-key") == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 ann@laptop")
        #expect(key.kind(of: "Hostname") == .text && key.value(of: "Bit Strength") == "256")
    }

    @Test("Chrome, Firefox, KeePassXC, Dashlane, Proton Pass CSV")
    func browsersAndOthers() throws {
        let chrome = try Fixture.read("chrome.csv")
        #expect(chrome.format == .chromeCSV && chrome.items.count == 2)
        #expect(try Fixture.item(chrome, "example.org").notes == "From Chrome")
        let firefox = try Fixture.item(try Fixture.read("firefox.csv"), "mail.example")
        #expect(firefox.value(of: "password") == "ff-pass-5")
        #expect(firefox.created == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(firefox.value(of: "formactionorigin") == "https://mail.example", "unmapped columns are kept")
        let bank = try Fixture.item(try Fixture.read("keepassxc.csv"), "Bank")
        #expect(bank.tags == ["Banking"] && bank.value(of: "totp")?.hasPrefix("otpauth://") == true)
        #expect(bank.created == (try Date("2023-01-02T03:04:05Z", strategy: .iso8601)))
        let shop = try Fixture.item(try Fixture.read("dashlane.csv"), "Shop")
        #expect(shop.value(of: "username") == "erin" && shop.value(of: "username2") == "erin-alt")
        #expect(shop.value(of: "totp") == "JBSWY3DPEHPK3PXP" && shop.tags == ["Shopping"])
        let proton = try Fixture.read("protonpass.csv")
        let account = try Fixture.item(proton, "Proton")
        #expect(account.value(of: "username") == "frank@proton.me" && account.tags == ["Personal"])
        #expect(try Fixture.item(proton, "Ideas").type == .note)
    }

    @Test("mSecure 6: templates, label|type|value cells, pipes inside values, escaped newlines")
    func msecure() throws {
        let result = try Fixture.read("msecure.csv")
        #expect(result.format == .msecureCSV)
        let login = try Fixture.item(result, "Bitwarden")
        #expect(login.urls == ["bitwarden.com"] && login.value(of: "username") == "bitwarden user")
        #expect(login.value(of: "password") == "bit|password")
        let card = try Fixture.item(result, "Visa")
        #expect(card.type == .card && card.value(of: "number") == "4111111111111111")
        #expect(card.value(of: "expiry") == "12/2028" && card.value(of: "cvv") == "123")
        #expect(card.notes == "Expires soon\nCall bank" && card.tags == ["finance"])
    }

    @Test("Bitwarden organisation exports: each folder and collection is its own tag, in JSON and CSV")
    func bitwardenCollections() throws {
        let json = Data(
            #"""
            {"encrypted": false, "folders": [{"id": "f1", "name": "Personal"}],
             "collections": [{"id": "c1", "organizationId": "o", "name": "Social"}, {"id": "c2", "organizationId": "o", "name": "Marketing"}],
             "items": [{"type": 1, "name": "Team Twitter", "folderId": "f1", "collectionIds": ["c1", "c2"],
                        "login": {"username": "team", "password": "pw"}}]}
            """#.utf8)
        let fromJSON = try Importer.read(data: json, name: "org.json")
        #expect(fromJSON.items.first?.tags.sorted() == ["Marketing", "Personal", "Social"])
        let csv = Data(
            "collections,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n\"Social,Marketing\",login,Team Twitter,,,0,,team,pw,\n"
                .utf8)
        let fromCSV = try Importer.read(data: csv, name: "org.csv")
        #expect(fromCSV.format == .bitwardenCSV && fromCSV.items.first?.tags.sorted() == ["Marketing", "Social"])
    }

    @Test("NordPass CSV: logins with extra URLs, cards, identities, notes and folders; every other column kept")
    func nordPass() throws {
        let csv = """
            name,url,additional_urls,username,password,note,cardholdername,cardnumber,cvc,pin,expirydate,zipcode,folder,full_name,phone_number,email,address1,address2,city,country,state,type,custom_fields
            Work,,,,,,,,,,,,,,,,,,,,,folder,
            GitLab,https://gitlab.com,https://gitlab.example,ann,np-pass,two factor on,,,,,,,Work,,,,,,,,,password,
            Visa,,,,,,Ann Lee,4111111111111111,123,9876,03/29,,,,,,,,,,,credit_card,
            Me,,,,,,,,,,,10115,,Ann Marie Lee,+49 30 1234,ann@example.org,Main St 1,,Berlin,DE,,identity,
            Plans,,,,,secret plans,,,,,,,,,,,,,,,,note,

            """
        let result = try Importer.read(data: Data(csv.utf8), name: "nordpass.csv")
        #expect(result.format == .nordPassCSV && result.items.count == 4)
        let login = try Fixture.item(result, "GitLab")
        #expect(login.urls == ["https://gitlab.com", "https://gitlab.example"] && login.tags == ["Work"])
        #expect(login.value(of: "password") == "np-pass" && login.notes == "two factor on")
        let card = try Fixture.item(result, "Visa")
        #expect(card.type == .card && card.value(of: "number") == "4111111111111111" && card.value(of: "pin") == "9876")
        let me = try Fixture.item(result, "Me")
        #expect(me.value(of: "first-name") == "Ann Marie" && me.value(of: "last-name") == "Lee")
        #expect(me.value(of: "address") == "Main St 1, Berlin, 10115, DE" && me.value(of: "phone") == "+49 30 1234")
        #expect(try Fixture.item(result, "Plans").type == .note)
    }

    @Test("RoboForm CSV: folders without their slash, protective quotes removed, form fields kept hidden")
    func roboForm() throws {
        let csv = """
            Name,Url,MatchUrl,Login,Pwd,Note,Folder,RfFieldsV2
            Forum,https://forum.example/login,https://forum.example,'@handle,'@rf-pass,,/Social,"user,txt,'@handle,pass,pwd,'@rf-pass"
            Safe code,,,,,1234 then #,/,

            """
        let result = try Importer.read(data: Data(csv.utf8), name: "roboform.csv")
        #expect(result.format == .roboFormCSV)
        let forum = try Fixture.item(result, "Forum")
        #expect(forum.value(of: "username") == "@handle" && forum.value(of: "password") == "@rf-pass")
        #expect(forum.tags == ["Social"] && forum.urls == ["https://forum.example/login", "https://forum.example"])
        #expect(forum.kind(of: "RoboForm form fields") == .hidden)
        let note = try Fixture.item(result, "Safe code")
        #expect(note.type == .note && note.notes == "1234 then #" && note.tags.isEmpty)
    }

    @Test(
        "Keeper JSON: typed records and custom fields land in Coffer's fields; folder paths become tags; nothing dropped"
    )
    func keeperJSON() throws {
        let json = #"""
            {"shared_folders": [{"path": "Team\\Ops", "can_edit": true}],
             "records": [
              {"title": "Amazon", "login": "ann@example.org", "password": "kp-pass", "login_url": "https://amazon.com",
               "notes": "prime", "$type": "login", "last_modified": 1762428779,
               "custom_fields": {"$oneTimeCode": "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "$url": ["https://smile.amazon.com"],
                                 "$url:account": "https://account.amazon.com", "Security question": "blue", "$pinCode": "1234"},
               "folders": [{"folder": "Shopping\\Online"}, {"shared_folder": "Team\\Ops"}]},
              {"title": "Chase Visa", "$type": "bankCard", "custom_fields": {"$paymentCard": {"cardNumber": "4532123456789010",
               "cardExpirationDate": "06/2030", "cardSecurityCode": "347"}, "$text:cardholderName": "Sarah Johnson", "$pinCode": "8426"}},
              {"title": "Passport", "$type": "passport", "password": "pp", "custom_fields": {"$accountNumber:passportNumber": "543826194",
               "$name": {"first": "Jennifer", "middle": "Lynn", "last": "Williams"}, "$birthDate": 648597600000}},
              {"title": "Deploy", "$type": "sshKeys", "login": "deploy", "custom_fields": {"$keyPair": {"publicKey": "ssh-ed25519 AAAA x ",
               "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----"}, "$host": {"hostName": "prod.example", "port": "22"}}},
              {"title": "Meeting", "$type": "encryptedNotes", "notes": "see below", "custom_fields": {"$note": "Q4 plans", "$date": 1728943200000}},
              {"title": "Legacy", "login": "old", "password": "legacy-pass", "login_url": "https://old.example",
               "custom_fields": {"PIN": "999"}, "folders": [{"folder": "Path\\\\with\\\\backslashes"}]}
             ]}
            """#
        let result = try Importer.read(data: Data(json.utf8), name: "keeper.json")
        #expect(result.format == .keeperJSON && result.items.count == 6 && result.skipped.isEmpty)
        let amazon = try Fixture.item(result, "Amazon")
        #expect(amazon.value(of: "username") == "ann@example.org" && amazon.value(of: "password") == "kp-pass")
        #expect(amazon.value(of: "totp") == "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
        #expect(amazon.urls == ["https://amazon.com", "https://smile.amazon.com", "https://account.amazon.com"])
        #expect(amazon.tags.sorted() == ["Shopping/Online", "Team/Ops"])
        #expect(amazon.value(of: "Security question") == "blue" && amazon.kind(of: "pinCode") == .hidden)
        let visa = try Fixture.item(result, "Chase Visa")
        #expect(visa.type == .card && visa.value(of: "number") == "4532123456789010" && visa.value(of: "cvv") == "347")
        #expect(visa.value(of: "cardholder") == "Sarah Johnson" && visa.value(of: "pin") == "8426")
        let passport = try Fixture.item(result, "Passport")
        #expect(passport.type == .identity && passport.value(of: "passport") == "543826194")
        #expect(passport.value(of: "first-name") == "Jennifer Lynn" && passport.value(of: "last-name") == "Williams")
        #expect(passport.value(of: "birthday") == "1990-07-21" && passport.value(of: "password") == "pp")
        let deploy = try Fixture.item(result, "Deploy")
        #expect(deploy.type == .sshKey && deploy.value(of: "public-key") == "ssh-ed25519 AAAA x")
        #expect(deploy.value(of: "host")?.contains("prod.example") == true && deploy.value(of: "username") == "deploy")
        #expect(try Fixture.item(result, "Meeting").notes == "see below\n\nQ4 plans")
        let legacy = try Fixture.item(result, "Legacy")
        #expect(
            legacy.type == .login && legacy.kind(of: "PIN") == .hidden && legacy.tags == ["Path\\with\\backslashes"])
    }

    @Test("Psono JSON: nested folders become tags; logins with TOTP, cards, SSH keys, notes; unknown fields kept")
    func psonoJSON() throws {
        let json = #"""
            {"folders": [{"name": "Company", "folders": [{"name": "Ops", "items": [
               {"type": "website_password", "name": "Grafana", "urlfilter": "grafana.example",
                "website_password_url_filter": "grafana.example", "website_password_auto_submit": true,
                "website_password_url": "https://grafana.example", "website_password_username": "ops",
                "website_password_password": "ps-pass", "website_password_notes": "read-only",
                "website_password_totp_code": "JBSWY3DPEHPK3PXP", "website_password_totp_period": 60,
                "website_password_title": "Grafana"}]}]}],
             "items": [
               {"type": "credit_card", "name": "Corporate card", "credit_card_number": "4111111111111111",
                "credit_card_cvc": "123", "credit_card_pin": "4321", "credit_card_name": "Ann Lee", "credit_card_valid_through": "1229"},
               {"type": "ssh_own_key", "name": "Deploy", "ssh_own_key_private": "-----BEGIN OPENSSH PRIVATE KEY-----",
                "ssh_own_key_public": "ssh-ed25519 AAAA", "ssh_own_key_title": "Deploy"},
               {"type": "environment_variables", "name": "CI", "environment_variables_variables": [{"key": "TOKEN", "value": "abc"}]},
               {"type": "note", "name": "Plans", "note_notes": "secret plans", "note_title": "Plans"}
             ]}
            """#
        let result = try Importer.read(data: Data(json.utf8), name: "psono.json")
        #expect(result.format == .psonoJSON && result.items.count == 5)
        let grafana = try Fixture.item(result, "Grafana")
        #expect(grafana.tags == ["Company/Ops"] && grafana.urls == ["https://grafana.example"])
        #expect(grafana.value(of: "username") == "ops" && grafana.value(of: "password") == "ps-pass")
        #expect(grafana.value(of: "totp")?.contains("period=60") == true && grafana.notes == "read-only")
        let card = try Fixture.item(result, "Corporate card")
        #expect(card.type == .card && card.value(of: "cvv") == "123" && card.value(of: "expiry") == "1229")
        #expect(try Fixture.item(result, "Deploy").value(of: "public-key") == "ssh-ed25519 AAAA")
        let ci = try Fixture.item(result, "CI")
        #expect(ci.type == .note && ci.kind(of: "variables") == .hidden && ci.value(of: "variables") == "TOKEN=abc")
        #expect(try Fixture.item(result, "Plans").notes == "secret plans")
    }

    @Test("Enpass JSON: categories, typed fields, sensitive custom fields hidden, nested folders, trash and archive")
    func enpassJSON() throws {
        let json = #"""
            {"folders": [{"uuid": "f1", "title": "Work", "parent_uuid": ""}, {"uuid": "f2", "title": "Servers", "parent_uuid": "f1"}],
             "items": [
              {"uuid": "i1", "title": "Router", "category": "login", "template_type": "login.default", "favorite": 1,
               "note": "in the hall", "folders": ["f2"], "created_at": 1700000000, "updated_at": 1700000500, "trashed": 0,
               "fields": [
                 {"label": "Username", "type": "username", "value": "admin", "sensitive": 0, "deleted": 0},
                 {"label": "E-mail", "type": "email", "value": "ops@example.org", "sensitive": 0, "deleted": 0},
                 {"label": "Password", "type": "password", "value": "en-pass", "sensitive": 1, "deleted": 0},
                 {"label": "Website", "type": "url", "value": "https://192.168.1.1", "sensitive": 0, "deleted": 0},
                 {"label": "One-time code", "type": "totp", "value": "JBSWY3DPEHPK3PXP", "sensitive": 1, "deleted": 0},
                 {"label": "Details", "type": "section", "value": "", "sensitive": 0, "deleted": 0},
                 {"label": "Recovery PIN", "type": "text", "value": "5555", "sensitive": 1, "deleted": 0},
                 {"label": "Old", "type": "text", "value": "gone", "sensitive": 0, "deleted": 1}]},
              {"uuid": "i2", "title": "Visa", "category": "creditcard", "template_type": "creditcard.default", "trashed": 1,
               "fields": [{"label": "Cardholder", "type": "ccName", "value": "Ann Lee", "sensitive": 0},
                          {"label": "Number", "type": "ccNumber", "value": "4111111111111111", "sensitive": 0},
                          {"label": "CVC", "type": "ccCvc", "value": "123", "sensitive": 1},
                          {"label": "Expiry date", "type": "ccExpiry", "value": "03/29", "sensitive": 0}]},
              {"uuid": "i3", "title": "Ideas", "category": "note", "template_type": "note.default", "archived": 1,
               "note": "more ideas", "fields": []}
             ]}
            """#
        let result = try Importer.read(data: Data(json.utf8), name: "enpass.json")
        #expect(result.format == .enpassJSON && result.items.count == 3)
        let router = try Fixture.item(result, "Router")
        #expect(router.value(of: "username") == "admin" && router.value(of: "password") == "en-pass")
        #expect(router.value(of: "E-mail") == "ops@example.org" && router.urls == ["https://192.168.1.1"])
        #expect(router.value(of: "totp") == "JBSWY3DPEHPK3PXP" && router.kind(of: "Recovery PIN") == .hidden)
        #expect(router.value(of: "Old") == nil && router.value(of: "Details") == nil)
        #expect(router.tags == ["Work/Servers"] && router.isFavorite && router.notes == "in the hall")
        let visa = try Fixture.item(result, "Visa")
        #expect(visa.type == .card && visa.value(of: "cvv") == "123" && visa.value(of: "cardholder") == "Ann Lee")
        #expect(visa.isTrashed)
        let ideas = try Fixture.item(result, "Ideas")
        #expect(ideas.type == .note && ideas.tags == ["Archived"] && ideas.notes == "more ideas")
    }

    @Test("Myki CSV: each of its per-kind files (logins, cards, identities, notes, two-factor codes)")
    func myki() throws {
        let files = [
            "nickname,url,username,password,additionalInfo,twofaSecret,status,tags\nGitHub,https://github.com,ann,my-pass,work account,JBSWY3DPEHPK3PXP,active,\"dev,work\"\n",
            "nickname,status,tags,cardName,cardNumber,cardExpirationMonth,cardExpirationYear,cardCvv,additionalInfo\nVisa,active,,Ann Lee,4111111111111111,03,2029,123,\n",
            "nickname,status,tags,firstName,middleName,lastName,email,firstAddressLine,secondAddressLine,title,gender,number,city,country,zipCode,additionalInfo\nMe,active,,Ann,Marie,Lee,ann@example.org,Main St 1,,Dr,f,+1 555,Springfield,US,12345,\n",
            "nickname,status,content\nPlans,archived,secret plans\n",
            "nickname,status,tags,authToken,additionalInfo\nAWS root,active,,JBSWY3DPEHPK3PXP,\n",
        ]
        var items: [Item] = []
        for file in files {
            let result = try Importer.read(data: Data(file.utf8), name: "myki.csv")
            #expect(result.format == .mykiCSV && result.items.count == 1 && result.skipped.isEmpty)
            items += result.items
        }
        #expect(items[0].value(of: "totp") == "JBSWY3DPEHPK3PXP" && items[0].tags == ["dev", "work"])
        #expect(items[0].notes == "work account" && items[0].value(of: "Myki status") == nil)
        #expect(
            items[1].type == .card && items[1].value(of: "expiry") == "03/2029" && items[1].value(of: "cvv") == "123")
        #expect(items[2].type == .identity && items[2].value(of: "first-name") == "Ann Marie")
        #expect(items[2].value(of: "honorific") == "Dr" && items[2].value(of: "gender") == "f")
        #expect(
            items[3].type == .note && items[3].notes == "secret plans"
                && items[3].value(of: "Myki status") == "archived")
        #expect(items[4].type == .login && items[4].value(of: "totp") == "JBSWY3DPEHPK3PXP")
    }

    @Test("SafeInCloud XML: typed fields, labels as tags, favourites, trash, attachments; templates are not items")
    func safeInCloud() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <database>
              <label name="Business" id="1" type="business"/>
              <card title="Template" template="true"><field name="Login" type="login"></field></card>
              <card title="Amazon" id="2" star="true">
                <field name="Login" type="login">ann@example.org</field>
                <field name="Password" type="password">sic-pass</field>
                <field name="Website" type="website">https://amazon.com</field>
                <field name="One-time password" type="one_time_password">JBSWY3DPEHPK3PXP</field>
                <field name="Security answer" type="secret">blue</field>
                <field name="Email" type="email">orders@example.org</field>
                <notes>prime member</notes>
                <label_id>1</label_id>
                <file name="receipt.txt">cmVjZWlwdA==</file>
              </card>
              <card title="Door code" deleted="true"><field name="Code" type="pin">4321</field></card>
            </database>
            """
        let result = try Importer.read(data: Data(xml.utf8), name: "safeincloud.xml")
        #expect(result.format == .safeInCloudXML && result.items.count == 2)
        let amazon = try Fixture.item(result, "Amazon")
        #expect(amazon.value(of: "username") == "ann@example.org" && amazon.value(of: "password") == "sic-pass")
        #expect(amazon.urls == ["https://amazon.com"] && amazon.value(of: "totp") == "JBSWY3DPEHPK3PXP")
        #expect(amazon.kind(of: "Security answer") == .hidden && amazon.kind(of: "Email") == .email)
        #expect(amazon.tags == ["Business"] && amazon.isFavorite && amazon.notes == "prime member")
        #expect(amazon.attachments.first?.data == Data("receipt".utf8))
        let door = try Fixture.item(result, "Door code")
        #expect(door.type == .note && door.isTrashed && door.kind(of: "Code") == .hidden)
    }

    @Test(
        "1Password 1PIF: web forms with sections and TOTP, cards with flat keys, identities, trash; folders are not items"
    )
    func onePIF() throws {
        let separator = "***5642bee8-a5ff-11dc-8314-0800200c9a66***"
        let records = [
            #"{"uuid":"f0","typeName":"system.folder.Regular","title":"Work"}"#,
            #"{"uuid":"a1","typeName":"webforms.WebForm","title":"Dropbox","location":"https://dropbox.com","faveIndex":2,"createdAt":1600000000,"updatedAt":1600000500,"openContents":{"tags":["cloud"]},"secureContents":{"fields":[{"designation":"username","name":"login_email","type":"E","value":"pat@example.org"},{"designation":"password","name":"login_password","type":"P","value":"pif-pass"},{"name":"remember","type":"C","value":"✓"}],"URLs":[{"label":"website","url":"https://dropbox.com"}],"notesPlain":"shared folder","sections":[{"name":"","title":"","fields":[{"k":"concealed","n":"TOTP_1","t":"one-time password","v":"otpauth://totp/Dropbox?secret=JBSWY3DPEHPK3PXP"}]},{"name":"sec","title":"Security","fields":[{"k":"string","n":"q1","t":"question","v":"pet"},{"k":"concealed","n":"a1","t":"answer","v":"rex"}]}],"passwordHistory":[{"value":"older","time":1500000000}]}}"#,
            #"{"uuid":"c1","typeName":"wallet.financial.CreditCard","title":"Old Visa","secureContents":{"cardholder":"Pat P","ccnum":"4111111111111111","cvv":"123","expiry_mm":4,"expiry_yy":2027}}"#,
            #"{"uuid":"i1","typeName":"identities.Identity","title":"Pat","secureContents":{"sections":[{"name":"name","title":"Identification","fields":[{"k":"string","n":"firstname","t":"first name","v":"Pat"},{"k":"string","n":"lastname","t":"last name","v":"Poe"}]},{"name":"address","title":"Address","fields":[{"k":"address","n":"address","t":"address","v":{"street":"1 Elm St","city":"Springfield","zip":"12345","country":"us"}},{"k":"phone","n":"defphone","t":"default phone","v":"555-1"},{"k":"phone","n":"cellphone","t":"mobile","v":"555-2"}]}]}}"#,
            #"{"uuid":"n1","typeName":"securenotes.SecureNote","title":"Old note","trashed":true,"secureContents":{"notesPlain":"bye"}}"#,
        ]
        let text = records.joined(separator: "\n\(separator)\n") + "\n\(separator)\n"
        let result = try Importer.read(data: Data(text.utf8), name: "data.1pif")
        #expect(result.format == .onePasswordPIF && result.items.count == 4 && result.skipped.isEmpty)
        let dropbox = try Fixture.item(result, "Dropbox")
        #expect(dropbox.value(of: "username") == "pat@example.org" && dropbox.value(of: "password") == "pif-pass")
        #expect(dropbox.value(of: "totp")?.hasPrefix("otpauth://") == true && dropbox.isFavorite)
        #expect(dropbox.value(of: "question") == "pet" && dropbox.kind(of: "answer") == .hidden)
        #expect(dropbox.value(of: "remember") == "✓" && dropbox.tags == ["cloud"] && dropbox.notes == "shared folder")
        #expect(dropbox.passwordHistory.map(\.value) == ["older"])
        let visa = try Fixture.item(result, "Old Visa")
        #expect(
            visa.type == .card && visa.value(of: "number") == "4111111111111111"
                && visa.value(of: "expiry") == "04/2027")
        let pat = try Fixture.item(result, "Pat")
        #expect(pat.value(of: "first-name") == "Pat" && pat.value(of: "address") == "1 Elm St, Springfield, 12345, us")
        #expect(pat.value(of: "phone") == "555-1" && pat.value(of: "mobile") == "555-2")
        #expect(try Fixture.item(result, "Old note").isTrashed)
    }

    @Test(
        "mSecure without its marker line is still detected, --format msecure-csv never drops a first item, 0029 years are named"
    )
    func msecureWithoutMarker() throws {
        let full = try String(contentsOf: Fixture.url("msecure.csv"), encoding: .utf8)
        let withoutMarker = Data(full.split(separator: "\n", maxSplits: 1)[1].utf8)
        for format in [nil, ImportFormat.msecureCSV] {
            let result = try Importer.read(data: withoutMarker, name: "msecure.csv", format: format)
            #expect(
                result.format == .msecureCSV && result.items.map(\.title) == ["Bitwarden", "Visa"], "\(format as Any)")
        }
        let marked = try Importer.read(data: Data(full.utf8), name: "msecure.csv", format: .msecureCSV)
        #expect(marked.items.count == 2 && marked.skipped.isEmpty)
        // A legacy card template stores the name on the card with the secret type 9.
        let legacy =
            "mSecure6 CSV export file\nOld Visa|7,Credit Card,,,Name on Card|9|Ann Lee,Card Number|12|4111,Security Code|9|321,Online PIN|9|9999,Bank Secret|9|xyz,Expiration Date|11|05/0029,loose cell\n"
        let legacyRead = try Importer.read(data: Data(legacy.utf8), name: "legacy.csv")
        let card = try #require(legacyRead.items.first)
        #expect(
            card.value(of: "cardholder") == "Ann Lee" && card.value(of: "cvv") == "321"
                && card.value(of: "pin") == "9999")
        #expect(card.kind(of: "Bank Secret") == .hidden && card.value(of: "Bank Secret") == "xyz")
        // A year typed with two digits is written 0029: read as 2029, and the preview says so.
        #expect(card.value(of: "expiry") == "05/2029")
        #expect(
            legacyRead.notes == [
                "Old Visa (line 2): the expiry 05/0029 was read as 05/2029 (mSecure keeps a two-digit year as typed, with zeros in front)."
            ])
        #expect(card.value(of: "field") == "loose cell", "a cell that is not label|type|value is kept whole")
    }

    @Test("A file detected as one format that yields no items is refused, naming the format it likely is")
    func recognisedButEmpty() throws {
        let proton = Data(#"{"version": "1.21", "vaults": {"v1": {"name": "Personal", "items": [{"data": {}}]}}}"#.utf8)
        #expect {
            try Importer.read(data: proton, name: "data.json")
        } throws: { error in
            let text = "\(error)"
            return text.contains("recognised as Bitwarden JSON but holds no items") && text.contains("Proton Pass")
                && text.contains("--format") && text.contains("Nothing was imported")
        }
        let headerOnly = Data("name,url,username,password\n".utf8)
        #expect(throws: ImportError.self) { try Importer.read(data: headerOnly, name: "chrome.csv") }
    }

    @Test("Bitwarden JSON: every type, folders, hidden fields, password history, trash; unknown types skipped")
    func bitwardenJSON() throws {
        let result = try Fixture.read("bitwarden.json")
        #expect(result.format == .bitwardenJSON)
        let bank = try Fixture.item(result, "Bank")
        #expect(bank.tags == ["Finance"] && bank.isFavorite && bank.urls == ["https://bank.example"])
        #expect(bank.kind(of: "Memorable") == .hidden && bank.value(of: "Customer no") == "998")
        #expect(bank.passwordHistory.map(\.value) == ["older-pass"])
        let visa = try Fixture.item(result, "Visa")
        #expect(visa.type == .card && visa.value(of: "expiry") == "03/2029" && visa.value(of: "cvv") == "321")
        let me = try Fixture.item(result, "Me")
        #expect(me.value(of: "first-name") == "Hank" && me.value(of: "address") == "1 Main St, Arlen, US")
        #expect(me.kind(of: "ssn") == .hidden)
        #expect(try Fixture.item(result, "Gone").isTrashed)
        #expect(result.skipped.count == 1 && result.skipped[0].field == "items[4]")
    }
}

@Suite("importers: bad input gets an error naming the file, the place and the problem")
struct ImporterBadInputTests {
    static func error(_ data: Data, format: ImportFormat? = nil) -> ImportError? {
        do {
            _ = try Importer.read(data: data, name: "export.csv", format: format)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "a password-protected Bitwarden header asking for absurd work or holding a malformed value is refused before any"
    )
    func bitwardenProtectedHostileHeaders() throws {
        func header(
            _ kdf: String,
            data: String =
                "2.AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        ) -> Data {
            Data(
                #"{"encrypted": true, "passwordProtected": true, "salt": "c2FsdHNhbHQ=", \#(kdf), "encKeyValidation_DO_NOT_EDIT": "\#(data)", "data": "\#(data)"}"#
                    .utf8)
        }
        let cases: [(Data, String)] = [
            (header(#""kdfType": 0, "kdfIterations": 1000000000000"#), "PBKDF2 iterations"),
            (
                header(#""kdfType": 1, "kdfIterations": 3, "kdfMemory": 1048576, "kdfParallelism": 4"#),
                "Argon2id settings"
            ),
            (
                header(#""kdfType": 1, "kdfIterations": 3, "kdfMemory": 64, "kdfParallelism": 4294967296"#),
                "Argon2id settings"
            ),
            (header(#""kdfType": 7, "kdfIterations": 3"#), "kdfType 7"),
            (header(#""kdfType": 0, "kdfIterations": 5000"#, data: "2.bm90|base64|"), "AES-CBC + HMAC"),
        ]
        for (data, message) in cases {
            #expect(BitwardenProtectedExport.isProtected(data))
            #expect {
                try BitwardenProtectedExport.decrypt(data, file: "bw.json", password: "x")
            } throws: { "\($0)".contains(message) && "\($0)".contains("Nothing was imported") }
        }
        #expect { try Importer.read(data: header(#""kdfType": 0"#), name: "bw.json") } throws: {
            "\($0)".contains("asks for it")
        }
    }

    @Test("every truncation of every fixture is either read or refused with a message, never a crash")
    func truncations() throws {
        for name in ["bitwarden.csv", "bitwarden.json", "keepassxc.csv", "msecure.csv", "lastpass.csv", "keepass.xml"] {
            let data = try Data(contentsOf: Fixture.url(name))
            for length in 0..<data.count {
                do {
                    _ = try Importer.read(data: data.prefix(length), name: name)
                } catch {
                    #expect(error.description.contains(name), "\(error)")
                    #expect(error.description.contains("Nothing was imported"))
                }
            }
        }
    }

    @Test("an unclosed quote names its line; garbage and unknown headers name what was seen")
    func malformed() throws {
        let unclosed = Self.error(Data("name,url,username,password\nA,https://a,u,\"open\n".utf8))
        #expect(
            unclosed
                == .malformed(
                    file: "export.csv", line: 2, field: nil,
                    reason: "a quoted cell is never closed (the file is cut short or a quote is missing)"))
        let unknown = Self.error(Data("colour,shape\nred,round\n".utf8))
        #expect(unknown?.description.contains("colour,shape") == true)
        let garbage = Self.error(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        #expect(garbage != nil)
        let json = Self.error(Data("{\"items\": [{\"type\": \"one\"}]}".utf8))
        #expect(json?.description.contains("items[0].type") == true, "\(String(describing: json))")
        let encrypted = Self.error(Data("{\"encrypted\": true, \"passwordProtected\": true}".utf8))
        #expect(encrypted?.description.contains("protected by a password") == true)
    }

    @Test("UTF-16 with a byte-order mark and Latin-1 files are read, the latter with a note")
    func encodings() throws {
        let text = "name,url,username,password\nCafé,https://cafe.example,zoë,pässword\n"
        var utf16 = Data([0xFF, 0xFE])
        utf16.append(text.data(using: .utf16LittleEndian) ?? Data())
        let fromUTF16 = try Importer.read(data: utf16, name: "utf16.csv")
        #expect(fromUTF16.items.first?.value(of: "username") == "zoë" && fromUTF16.notes.isEmpty)
        let latin1 = try #require(text.data(using: .isoLatin1))
        let fromLatin1 = try Importer.read(data: latin1, name: "latin1.csv")
        #expect(fromLatin1.items.first?.title == "Café" && fromLatin1.items.first?.value(of: "password") == "pässword")
        #expect(fromLatin1.notes.first?.contains("Windows-1252") == true)
        #expect(Self.error(Data([0xFF, 0xFE, 0x41])) != nil, "odd-length UTF-16 is refused")
    }

    @Test("rows with too many cells are skipped with their line; a generic CSV needs --columns")
    func rowsAndMapping() throws {
        let data = Data("name,url,username,password\nA,https://a,u,p\nB,https://b,u,p,extra,cells\n".utf8)
        let result = try Importer.read(data: data, name: "chrome.csv")
        #expect(result.items.map(\.title) == ["A"] && result.skipped.first?.line == 3)
        let plain = Data("Site,Login,Secret,Comment\nForum,bob,s3cret,hi\n".utf8)
        #expect(Self.error(plain, format: .genericCSV)?.description.contains("--columns") == true)
        let mapped = try Importer.read(
            data: plain, name: "plain.csv",
            columns: ColumnMapping(parsing: "title=Site,username=Login,password=Secret,notes=Comment"))
        let forum = try #require(mapped.items.first)
        #expect(forum.title == "Forum" && forum.value(of: "password") == "s3cret" && forum.notes == "hi")
        #expect(throws: ImportError.self) { try ColumnMapping(parsing: "colour=Site") }
    }

    @Test("ZIP archives and KeePass databases are named, not misread")
    func archives() {
        #expect(Self.error(Data("PK\u{3}\u{4}rest".utf8))?.description.contains("ZIP") == true)
        #expect(
            Self.error(Data([0x03, 0xD9, 0xA2, 0x9A, 0x67, 0xFB, 0x4B, 0xB5]))?.description.contains("KeePass") == true)
    }

    @Test("CSV export in Bitwarden's layout reads back as the same items; formula cells are defused")
    func csvRoundTrip() throws {
        let original = try Fixture.read("bitwarden.csv").items
        var tricky = Item(type: .login, title: "=HYPERLINK(\"x\")", now: Date())
        tricky.setValue("pa,ss\"word", of: "password")
        let exported = Exporter.csv(original + [tricky])
        let back = try Importer.read(data: exported, name: "roundtrip.csv")
        #expect(back.format == .bitwardenCSV)
        for item in original {
            let copy = try Fixture.item(back, item.title)
            #expect(copy.value(of: "password") == item.value(of: "password"))
            #expect(copy.urls == item.urls && copy.notes == item.notes && copy.tags == item.tags)
        }
        #expect(try Fixture.item(back, "'=HYPERLINK(\"x\")").value(of: "password") == "pa,ss\"word")
    }
}
