import ArgumentParser
import CofferServer
import Foundation
import Logging

/// `coffer-server admin`: the support console, run on the server machine against the server's
/// database while the server runs or not. Nothing of it is reachable over the network, and nothing
/// it prints can open a user's data: it has no way to reach a key, verifier, token, code or ciphertext.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The support console: what happened to an account, never its secrets.",
        discussion: """
            Every look at one account (show, events) and every change (extend-quarantine) is recorded in \
            that account's events, where its owner sees it. Add --json for scripts.
            """,
        subcommands: [AccountGroup.self, Accounts.self, Stats.self])

    /// `coffer-server admin account …`: one account.
    struct AccountGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "account", abstract: "Look at one account, or keep its quarantine longer.",
            subcommands: [Show.self, Events.self, ExtendQuarantine.self])
    }

    /// `admin account show EMAIL`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What happened to an account and what to tell its user, with devices, storage and events.")

        @ParentCommand var server: CofferServerCommand
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's e-mail address.") var email: String

        func run() async throws {
            let dossier = try await database.withConsole(of: server) { try await $0.dossier(email: email) }
            try database.output(dossier) { SupportReport.text(of: dossier) }
        }
    }

    /// `admin account events EMAIL`.
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's events, newest first.")

        @ParentCommand var server: CofferServerCommand
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "How many events to show (1 to 1000).") var limit = 100

        func validate() throws {
            guard (1...1000).contains(limit) else {
                throw ValidationError("--limit takes a number from 1 to 1000, not \(limit).")
            }
        }

        func run() async throws {
            let events = Array(
                try await database.withConsole(of: server) { try await $0.dossier(email: email) }.events.prefix(limit))
            try database.output(events) { events.map(SupportReport.line(for:)).joined(separator: "\n") }
        }
    }

    /// `admin account extend-quarantine EMAIL --days N`.
    struct ExtendQuarantine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep the data from before a reset N days longer, at the user's request.")

        @ParentCommand var server: CofferServerCommand
        @OptionGroup var database: AdminDatabase
        @Argument(help: "The account's e-mail address.") var email: String
        @Option(help: "Days to add to the quarantine's expiry (1 to 3650).") var days: Int

        func validate() throws {
            guard (1...3650).contains(days) else {
                throw ValidationError("--days takes a number of days from 1 to 3650, not \(days).")
            }
        }

        func run() async throws {
            let expiries = try await database.withConsole(of: server) {
                try await $0.extendQuarantine(email: email, days: days)
            }
            try database.output(["expiresAt": expiries]) {
                "The quarantine is now kept until \(expiries.map(SupportReport.day).joined(separator: ", ")). The user sees this in their account's events."
            }
        }
    }

    /// `admin accounts`: search by address.
    struct Accounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts whose address contains a fragment, oldest first, a page at a time.")

        @ParentCommand var server: CofferServerCommand
        @OptionGroup var database: AdminDatabase
        @Option(help: "Part of the address to look for (case does not matter).") var search = ""
        @Option(help: "Which page (from 1).") var page = 1
        @Option(help: "Accounts per page (1 to 500).") var perPage = 50

        func validate() throws {
            guard (1...1_000_000).contains(page) else {
                throw ValidationError("--page takes a number from 1 to 1000000, not \(page).")
            }
            guard (1...500).contains(perPage) else {
                throw ValidationError("--per-page takes a number from 1 to 500, not \(perPage).")
            }
        }

        func run() async throws {
            let accounts = try await database.withConsole(of: server) {
                try await $0.accounts(containing: search, page: page, perPage: perPage)
            }
            try database.output(accounts) { SupportReport.text(of: accounts, page: page) }
        }
    }

    /// `admin stats`.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accounts, devices, stored bytes, and resets and recoveries lately.")

        @ParentCommand var server: CofferServerCommand
        @OptionGroup var database: AdminDatabase
        @Option(help: "How many days back the recent counts go (1 to 3650).") var days = 30

        func validate() throws {
            guard (1...3650).contains(days) else {
                throw ValidationError("--days takes a number of days from 1 to 3650, not \(days).")
            }
        }

        func run() async throws {
            let statistics = try await database.withConsole(of: server) { try await $0.statistics(days: days) }
            try database.output(statistics) { SupportReport.text(of: statistics, days: days) }
        }
    }
}

/// How the console prints and names its operator; the database is the server's own, found with the
/// server's settings (`--data-dir`, `--config`, COFFER_SERVER_* variables).
struct AdminDatabase: ParsableArguments {
    @Option(help: "Who is looking, as the account's events show it (default: your login name).")
    var operatorName: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Runs `body` with a console on the server's database (SQLite under `--data-dir`, or the
    /// PostgreSQL database of `--database-url`).
    func withConsole<T: Sendable>(
        of server: CofferServerCommand, _ body: @Sendable (SupportConsole) async throws -> T
    ) async throws -> T {
        umask(0o077)
        let settings = try server.settings()
        let directory = settings.dataDirectory
        guard
            settings.database != nil
                || FileManager.default.fileExists(
                    atPath: directory.appendingPathComponent(SQLiteDriver.databaseFileName).path)
        else {
            throw ValidationError(
                "\(directory.path) holds no Coffer database (\(SQLiteDriver.databaseFileName)): give the server's --data-dir or --database-url."
            )
        }
        let storage = try settings.openStorage(logger: Logger(label: "coffer-server"))
        let name = operatorName ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
        return try await storage.withConnections {
            try await storage.migrate()
            return try await body(SupportConsole(storage: storage, operatorName: "support: \(name)"))
        }
    }

    /// Prints `value` as JSON with --json, else the text.
    func output<Value: Encodable>(_ value: Value, text: () -> String) throws {
        guard json else { return print(text()) }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
