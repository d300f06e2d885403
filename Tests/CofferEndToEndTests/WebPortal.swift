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
        let directory = server.dataDirectory.appendingPathComponent("mail")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().reversed()
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            if text.contains(email), text.contains(marker) { return text }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no mail to \(email) with \(marker)"])
    }

    /// The one-time code in the newest code mail to `email`.
    func code(to email: String) throws -> String {
        let text = try mail(to: email, containing: "one-time code")
        let line = try #require(text.components(separatedBy: .newlines).first { $0.contains("one-time code:") })
        return String(try #require(line.split(separator: ":").last)).trimmingCharacters(in: .whitespaces)
    }

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
