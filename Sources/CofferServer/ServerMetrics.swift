import Metrics

/// Coffer's own metrics, next to Hummingbird's (`hb_requests`, `hb_request_errors`,
/// `http_server_request_duration`, `http_server_active_requests`). Registered at start-up, so a
/// dashboard or alert sees them at 0 before their first event rather than not at all.
public enum ServerMetrics {
    static let loginFailures = "coffer_login_failures_total"
    static let pushBatchSize = "coffer_sync_push_batch_size"

    /// Creates every Coffer metric; call once after `MetricsSystem.bootstrap`.
    public static func register() {
        _ = Counter(label: loginFailures)
        _ = Recorder(label: pushBatchSize)
    }
}
