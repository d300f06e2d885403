import CofferAPI
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// A JSON body with a chosen status; dates as ISO 8601.
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator, Sendable {
    let body: Body
    let status: HTTPResponse.Status

    init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try Self.encoder.encode(body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Every HTML page the server renders (the portal, mailed links' pages, errors on them), from the
/// portal's Mustache templates so they share one look, one footer with the way back, and one set of headers.
enum HTMLPage {
    /// The tone of a message page, which sets its colour band.
    enum Tone: String {
        case plain, ok, warning, error
    }

    /// A button that POSTs `fields` to `action`: what a page offers instead of acting on a GET, so a
    /// link scanner that opens the page changes nothing.
    struct Form {
        let action: String
        let fields: [(name: String, value: String)]
        let button: String
    }

    /// A page from `template` with `values`; Mustache escapes every value.
    static func render(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = templates.render(values, withTemplate: template) ?? "<!doctype html><p>Page missing.</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        PageHeaders.apply(to: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with one message, an optional button, and an optional link onwards.
    static func response(
        status: HTTPResponse.Status, title: String, text: String, tone: Tone = .plain, form: Form? = nil,
        next: (href: String, label: String)? = nil
    ) -> Response {
        var values: [String: Any] = ["title": title, "text": text, "kind": tone.rawValue]
        if let next { values["next"] = ["href": next.href, "label": next.label] }
        if let form {
            values["form"] = [
                "action": form.action, "button": form.button,
                "fields": form.fields.map { ["name": $0.name, "value": $0.value] },
            ]
        }
        return render("message", values, status: status)
    }

    /// Loaded once; a missing template is a broken build, caught by every page test.
    private static let templates: MustacheLibrary = {
        var templates: [String: MustacheTemplate] = [:]
        for name in ["head", "foot", "index", "forgot", "message", "reset", "reset-done", "activity", "deletion"] {
            guard
                let url = Bundle.module.url(
                    forResource: name, withExtension: "mustache", subdirectory: "Resources/portal"),
                let text = try? String(contentsOf: url, encoding: .utf8),
                let template = try? MustacheTemplate(string: text)
            else { preconditionFailure("The portal template \(name).mustache is missing from the server's resources.") }
            templates[name] = template
        }
        return MustacheLibrary(templates: templates)
    }()
}

/// What every page the server renders sends: no framing (clickjacking), no referrer (the page's
/// address may carry a one-time token), no caching, and a policy that allows no script at all.
enum PageHeaders {
    static func apply(to headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[.cacheControl] = "no-store"
    }
}

/// Shape checks on opaque values, so garbage is refused with a clear 400 instead of being stored.
enum Validation {
    static func key(_ data: Data, _ name: String) throws {
        guard data.count == 32 else { throw APIError.badRequest("\(name) must be 32 bytes (base64).") }
    }

    static func salt(_ data: Data) throws {
        guard data.count == 16 else { throw APIError.badRequest("salt must be 16 bytes (base64).") }
    }

    /// The largest sealed item the server stores, as clients know it too.
    static let maximumBoxSize = PushChange.maximumBoxBytes

    /// A sealed box: version byte 1, at least the fixed overhead, at most `maximumBoxSize`.
    static func box(_ data: Data, _ name: String) throws {
        guard data.count <= maximumBoxSize else {
            throw APIError.badRequest(
                "\(name) is \(data.count / 1024) KiB; an item may hold at most \(maximumBoxSize / 1_048_576) MiB sealed."
            )
        }
        guard data.count >= 61, data.first == 1 else {
            throw APIError.badRequest("\(name) is not a Coffer sealed box.")
        }
    }

    static func kdf(_ kdf: CofferAPIKDF) throws {
        guard kdf.memoryKiB >= 19 * 1024, kdf.memoryKiB <= 4 * 1024 * 1024, kdf.iterations >= 2, kdf.iterations <= 64,
            kdf.parallelism >= 1, kdf.parallelism <= 64
        else { throw APIError.badRequest("The KDF parameters are outside the accepted range (m ≥ 19 MiB, t ≥ 2).") }
    }

    /// 1 to 100 characters (Unicode scalars) on one line, without control characters, not only
    /// spaces — exactly what docs/openapi.yaml's `DeviceName` says.
    static func deviceName(_ name: String) throws {
        let scalars = name.unicodeScalars
        guard (1...100).contains(scalars.count), !scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
            scalars.contains(where: { $0.value > 0x20 && $0.value != 0x7F })
        else {
            throw APIError.badRequest(
                "The device name must be 1 to 100 characters on one line, without control characters.")
        }
    }
}

typealias CofferAPIKDF = WireKDF

extension CofferRequestContext {
    /// The authenticated session; the authentication middleware guarantees it on protected routes.
    func requireSession() throws -> AuthenticatedSession {
        guard let session else { throw APIError.unauthorized }
        return session
    }
}
