public import CofferKDBX
public import CofferModel
public import Foundation

/// Maps KeePass entries to Coffer items and back. Groups become tags (a nested group's path joined
/// with "/"), history becomes password history, attachments are kept, entries in the recycle bin
/// go to the trash, and every string Coffer has no field for stays as a custom field.
public enum KeePassInterchange {
    /// KeePass's standard string keys.
    enum Key {
        static let title = "Title", username = "UserName", password = "Password", url = "URL", notes = "Notes"
        static let otp = "otp"
        static let standard: Set<String> = [title, username, password, url, notes]
        /// Where KeePass and its plugins keep a TOTP secret, in order of preference.
        static let totpSources = ["otp", "TimeOtp-Secret-Base32", "TOTP Seed"]
        /// KeePassXC's and Keepass2Android's extra URLs: KP2A_URL, KP2A_URL_1, …
        static func isExtraURL(_ key: String) -> Bool { key == "KP2A_URL" || key.hasPrefix("KP2A_URL_") }
    }

    /// Opens a KDBX 4 file and maps its entries; errors name the file.
    public static func read(
        _ data: Data, file: String, credentials: KDBXCredentials, now: Date = Date()
    ) throws(ImportError) -> ImportedItems {
        guard data.count <= ImportLimits.maximumFileSize else { throw .tooLarge(file: file, bytes: data.count) }
        let database: KDBXDatabase
        do {
            database = try KDBXFile.read(data, credentials: credentials)
        } catch {
            switch error {
            case .wrongKey: throw .wrongSecret(file: file, reason: error.description)
            case .damaged, .unreadableKeyFile, .notKeePass:
                throw .malformed(file: file, line: nil, field: nil, reason: error.description)
            default: throw .unsupported(file: file, reason: error.description)
            }
        }
        return items(from: database, now: now)
    }

    /// The items a database holds, in group order.
    public static func items(
        from database: KDBXDatabase, format: ImportFormat = .keepassKDBX, now: Date = Date()
    ) -> ImportedItems {
        var reader = Reader(recycleBin: database.recycleBinID, now: now)
        reader.walk(database.root, path: [], isTrash: false)
        if reader.trashed > 0 {
            reader.notes.append(
                "\(reader.trashed) entr\(reader.trashed == 1 ? "y" : "ies") from KeePass's recycle bin went to the trash."
            )
        }
        return ImportedItems(format: format, items: reader.items, skipped: reader.skipped, notes: reader.notes)
    }

    private struct Reader {
        let recycleBin: UUID?
        let now: Date
        var items: [Item] = []
        var skipped: [SkippedRecord] = []
        var notes: [String] = []
        var trashed = 0

        init(recycleBin: UUID?, now: Date) {
            self.recycleBin = recycleBin
            self.now = now
        }

        mutating func walk(_ group: KDBXGroup, path: [String], isTrash: Bool) {
            for entry in group.entries {
                let place = (path + [entry.value(Key.title) ?? ""]).joined(separator: "/")
                guard var item = item(entry, groupPath: isTrash ? [] : path, place: place) else {
                    skipped.append(SkippedRecord(line: nil, field: place, reason: "the entry is empty"))
                    continue
                }
                if isTrash {
                    item.trashedAt = item.modified
                    trashed += 1
                }
                items.append(item)
            }
            for child in group.groups {
                let childIsTrash = isTrash || (recycleBin != nil && child.uuid == recycleBin)
                walk(child, path: childIsTrash ? path : path + [child.name], isTrash: childIsTrash)
            }
        }

        mutating func item(_ entry: KDBXEntry, groupPath: [String], place: String) -> Item? {
            let strings = entry.strings.filter { !$0.value.isEmpty }
            guard !strings.isEmpty || !entry.attachments.isEmpty else { return nil }
            let value = { (key: String) in entry.value(key) ?? "" }
            let totp = Key.totpSources.lazy.map(value).first { !$0.isEmpty } ?? ""
            let isLogin = [value(Key.username), value(Key.password), value(Key.url), totp].contains { !$0.isEmpty }
            let created = entry.created ?? now
            var item = Item(
                id: entry.uuid, type: isLogin ? .login : .note,
                title: value(Key.title).isEmpty ? "(untitled)" : value(Key.title), now: created)
            if isLogin {
                item.setValue(value(Key.username), of: "username")
                item.setValue(value(Key.password), of: "password")
                item.setValue(totp, of: "totp")
            }
            item.notes = value(Key.notes)
            item.urls = ([value(Key.url)] + strings.filter { Key.isExtraURL($0.key) }.map(\.value)).filter {
                !$0.isEmpty
            }
            let usedTOTPKey = Key.totpSources.first { !value($0).isEmpty }
            for string in strings
            where !Key.standard.contains(string.key) && string.key != usedTOTPKey && !Key.isExtraURL(string.key) {
                item.customFields.append(
                    Field(name: string.key, kind: string.isProtected ? .hidden : .text, value: string.value))
            }
            let groupTag = groupPath.joined(separator: "/")
            item.tags = entry.tags + (groupTag.isEmpty ? [] : [groupTag])
            item.passwordHistory = Self.passwordHistory(entry, now: now)
            var attachmentBytes = 0
            for attachment in entry.attachments {
                attachmentBytes += attachment.data.count
                guard attachmentBytes <= Item.attachmentLimit else {
                    notes.append(
                        "\(place): attachment \(attachment.name) (\(attachment.data.count.formatted(.byteCount(style: .file)))) was left out; an item keeps up to \(Item.attachmentLimit / 1_048_576) MiB of attachments. Save it from KeePassXC."
                    )
                    attachmentBytes -= attachment.data.count
                    continue
                }
                item.attachments.append(Attachment(name: attachment.name, data: attachment.data))
            }
            item.modified = entry.modified ?? created
            return item
        }

        /// Every password an earlier version had, newest first, replaced when the next version was saved.
        static func passwordHistory(_ entry: KDBXEntry, now: Date) -> [PasswordHistoryEntry] {
            let versions = entry.history + [entry]
            var history: [PasswordHistoryEntry] = []
            for (old, next) in zip(versions, versions.dropFirst()) {
                let password = old.value(Key.password) ?? ""
                guard !password.isEmpty, password != next.value(Key.password) else { continue }
                history.append(
                    PasswordHistoryEntry(fieldName: "password", value: password, replacedAt: next.modified ?? now))
            }
            return Array(history.reversed().prefix(Item.passwordHistoryLimit))
        }
    }

    // MARK: Writing

    /// A database holding `items`: each in the group of its first tag (live items) or in a recycle
    /// bin (trashed ones), with its id as the entry's UUID so KeePassXC can merge later exports.
    public static func database(for items: [Item], name: String = "Coffer export") -> KDBXDatabase {
        var root = KDBXGroup(name: "Root")
        var trash = KDBXGroup(name: "Recycle Bin")
        for item in items {
            let entry = entry(for: item)
            if item.isTrashed {
                trash.entries.append(entry)
            } else {
                let path = item.tags.first.map { $0.split(separator: "/").map(String.init) } ?? []
                root.insert(entry, at: path[...])
            }
        }
        if !trash.entries.isEmpty { root.groups.append(trash) }
        return KDBXDatabase(name: name, root: root, recycleBinID: trash.entries.isEmpty ? nil : trash.uuid)
    }

    static func entry(for item: Item) -> KDBXEntry {
        var strings: [KDBXEntry.StringField] = [
            .init(key: Key.title, value: item.title),
            .init(key: Key.username, value: item.value(of: "username") ?? item.value(of: "email") ?? ""),
            .init(key: Key.password, value: item.value(of: "password") ?? "", isProtected: true),
            .init(key: Key.url, value: item.urls.first ?? ""),
            .init(key: Key.notes, value: item.notes),
        ]
        var used = Set(strings.map(\.key))
        func add(_ key: String, _ value: String, isProtected: Bool) {
            var unique = key
            var counter = 2
            while used.contains(unique) {
                unique = "\(key) (\(counter))"
                counter += 1
            }
            used.insert(unique)
            strings.append(.init(key: unique, value: value, isProtected: isProtected))
        }
        if let totp = item.value(of: "totp"), !totp.isEmpty {
            add(Key.otp, otpauthURI(totp, item: item), isProtected: true)
        }
        for (index, url) in item.urls.dropFirst().enumerated() {
            add(index == 0 ? "KP2A_URL" : "KP2A_URL_\(index)", url, isProtected: false)
        }
        let mapped: Set<String> = ["password", "totp", item.value(of: "username") != nil ? "username" : "email"]
        for field in item.allFields where !field.value.isEmpty && !mapped.contains(field.name) {
            add(field.name, field.value, isProtected: field.kind.isSecret)
        }
        let history = item.passwordHistory.filter { $0.fieldName == "password" }.reversed().map { old in
            var version = strings.filter { $0.key != Key.password }
            version.insert(.init(key: Key.password, value: old.value, isProtected: true), at: 2)
            return KDBXEntry(strings: version, created: item.created, modified: old.replacedAt)
        }
        return KDBXEntry(
            uuid: item.id, strings: strings,
            attachments: item.attachments.map { KDBXEntry.Attachment(name: $0.name, data: $0.data) },
            tags: item.tags, created: item.created, modified: item.modified, history: Array(history))
    }

    /// KeePassXC reads TOTP from an `otpauth://` URI; a bare secret becomes one with the defaults.
    static func otpauthURI(_ value: String, item: Item) -> String {
        if value.lowercased().hasPrefix("otpauth://") { return value }
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        let account = item.value(of: "username") ?? ""
        components.path = "/" + (account.isEmpty ? item.title : "\(item.title):\(account)")
        components.queryItems = [
            URLQueryItem(name: "secret", value: value.replacingOccurrences(of: " ", with: "").uppercased()),
            URLQueryItem(name: "period", value: "30"), URLQueryItem(name: "digits", value: "6"),
            URLQueryItem(name: "issuer", value: item.title),
        ]
        return components.string ?? value
    }
}

extension KDBXGroup {
    /// Puts `entry` in the group at `path` below this one, creating groups as needed.
    fileprivate mutating func insert(_ entry: KDBXEntry, at path: ArraySlice<String>) {
        guard let name = path.first else {
            entries.append(entry)
            return
        }
        if let index = groups.firstIndex(where: { $0.name == name }) {
            groups[index].insert(entry, at: path.dropFirst())
        } else {
            var group = KDBXGroup(name: name)
            group.insert(entry, at: path.dropFirst())
            groups.append(group)
        }
    }
}
