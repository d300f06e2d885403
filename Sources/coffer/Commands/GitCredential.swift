import ArgumentParser
import CofferAgent
import CofferModel
import Foundation

/// `coffer git-credential get|store|erase`: git's credential-helper protocol, served from the vault.
///
/// `git config --global credential.helper coffer` makes git run `git-credential-coffer` (installed
/// next to `coffer`; the same program) when a remote asks for a password. It never prompts: with
/// the vault locked it exits 5 with a one-line hint and git asks the user itself.
struct GitCredential: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-credential",
        abstract: "git's credential helper: `git config --global credential.helper coffer`.",
        discussion: """
            `get` answers with the login whose URL has the remote's host (and port), preferring one with \
            the username git asks for. New logins are saved (`store`) and rejected ones trashed (`erase`) \
            only with `credential.helper "coffer --store"`; by default both do nothing.
            """)

    @Flag(help: "Let git save new logins into the vault and trash rejected ones.")
    var store = false

    @Argument(help: "get, store or erase (git passes it).")
    var operation: String

    func validate() throws {
        guard ["get", "store", "erase"].contains(operation) else {
            throw ValidationError("'\(operation)' is not a credential operation: git passes get, store or erase.")
        }
    }

    func run() throws {
        let request = GitCredentialRequest(
            parsing: String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self))
        guard let host = request.host, !host.isEmpty else { return }
        if operation != "get", !store { return }
        let paths = ProfilePaths()
        guard let agent = ProfileVault.unlockedAgent(paths) else {
            throw AgentFailure(.locked, "The vault is locked: run `coffer unlock`, then try the git command again.")
        }
        // Only the logins on the remote's host cross the socket.
        let logins = try agent.elements(of: ListItems(ItemFilter(type: .login, host: host)))
        switch operation {
        case "get":
            guard let login = request.best(of: logins) else { return }
            var answer = ""
            if let username = login.value(of: "username"), !username.isEmpty { answer += "username=\(username)\n" }
            if let password = login.value(of: "password"), !password.isEmpty { answer += "password=\(password)\n" }
            print(answer, terminator: "")
        case "store":
            guard let username = request.username, let password = request.password else { return }
            if var known = logins.first(where: { $0.value(of: "username") == username }) {
                guard known.value(of: "password") != password else { return }
                known.setValue(password, of: "password")
                _ = try agent.call(UpdateItem(known))
            } else {
                var item = Item(type: .login, title: host, now: Date())
                item.setValue(username, of: "username")
                item.setValue(password, of: "password")
                item.urls = [request.url]
                _ = try agent.call(AddItem(item))
            }
        default:
            // A rejected password goes to the trash, from where `coffer restore` brings it back.
            for login in logins where login.value(of: "password") == request.password && request.password != nil {
                _ = try agent.call(TrashItem(id: login.id))
            }
        }
    }
}

/// What git sends: `key=value` lines (protocol, host, path, username, password, or url).
struct GitCredentialRequest {
    var scheme: String?
    var host: String?
    var path: String?
    var username: String?
    var password: String?

    init(parsing text: String) {
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: ["\r"])
            switch key {
            case "protocol": scheme = value
            case "host": host = value.lowercased()
            case "path": path = value
            case "username": username = value
            case "password": password = value
            case "url":
                if let url = URLComponents(string: value) {
                    scheme = url.scheme ?? scheme
                    host = url.host.map { $0.lowercased() + (url.port.map { ":\($0)" } ?? "") } ?? host
                    username = url.user ?? username
                }
            default: continue
            }
        }
    }

    /// The remote as a URL, for a login saved by `store`.
    var url: String { "\(scheme ?? "https")://\(host ?? "")" }

    /// The login for this request: the username git asks for if it has one, else the most recently changed.
    func best(of logins: [Item]) -> Item? {
        let wanted = username.map { name in logins.filter { $0.value(of: "username") == name } } ?? logins
        return wanted.max { $0.modified < $1.modified }
    }
}
