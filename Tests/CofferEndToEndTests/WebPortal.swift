import CofferTestSupport
import Foundation
import GRDB
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The account portal's HTTP flow as a browser without JavaScript drives it: GET pages, POST
/// url-encoded forms, follow links from the mail the server wrote to `DATA/mail`.
struct WebPortal {
    let server: ServerProcess

    struct Page {
        let status: Int
        let html: String
    }

    func get(_ path: String) async throws -> Page {
        try await send("GET", path, form: nil)
    }

    func post(_ path: String, _ form: [String: String]) async throws -> Page {
        try await send("POST", path, form: form)
    }

    private func send(_ method: String, _ path: String, form: [String: String]?) async throws -> Page {
        let target = path.hasPrefix("http") ? path : server.url + path
        var request = URLRequest(url: try #require(URL(string: target)))
        request.httpMethod = method
        if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(
                form.map {
                    "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
                }.joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Page(
            status: (response as? HTTPURLResponse)?.statusCode ?? 0, html: String(decoding: data, as: UTF8.self))
    }

    /// The newest mail to `email` whose text contains `marker`.
    func mail(to email: String, containing marker: String) throws -> String {
        try server.mail(to: email, containing: marker)
    }

    /// The one-time code in the newest code mail to `email`.
    func code(to email: String) throws -> String { try server.emailCode(to: email) }

    /// Runs SQL on the server's database, as an operator (or the passing of time) would change it.
    func updateDatabase(_ sql: String) throws {
        let database = try DatabaseQueue(path: server.dataDirectory.appendingPathComponent("coffer.sqlite").path)
        try database.write { try $0.execute(sql: sql) }
    }
}

/// Extracts the first match of `pattern`'s first group.
func firstMatch(_ pattern: String, in text: String) throws -> String {
    let regex = try NSRegularExpression(pattern: pattern)
    let match = try #require(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)))
    return String(text[try #require(Range(match.range(at: 1), in: text))])
}
