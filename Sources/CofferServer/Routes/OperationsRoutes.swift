import Foundation
import Hummingbird
import Logging
import Prometheus

/// Liveness, readiness, metrics and the API description.
struct OperationsRoutes: Sendable {
    let storage: any StorageConnection
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<CofferRequestContext>) {
        router.get("/health") { _, _ in HealthStatus(status: "ok") }
        router.get("/health/ready") { _, context in
            do {
                try await storage.checkReadiness()
                return JSONResponse(HealthStatus(status: "ready"))
            } catch {
                // The cause is logged for the operator; the probe's answer stays terse.
                context.logger.warning("not ready", metadata: ["cause": "\(error)"])
                return JSONResponse(
                    HealthStatus(status: "database-unavailable", cause: "\(error)"), status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
    }
}

/// The body of `/health` routes.
struct HealthStatus: ResponseEncodable, Sendable {
    let status: String
    /// Why the server is not ready; absent when it is.
    var cause: String?
}

/// The API description, shipped with the server.
public enum OpenAPIDocument {
    /// The YAML text of `docs/openapi.yaml` (copied into the module's resources).
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\ninfo: {title: Coffer, version: missing}\npaths: {}\n" }
        return text
    }()
}
