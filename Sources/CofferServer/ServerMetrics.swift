import Metrics

/// Coffer's own metrics, next to Hummingbird's (`hb_requests`, `hb_request_errors`,
/// `http_server_request_duration`, `http_server_active_requests`). Registered at start-up, so a
/// dashboard or alert sees them at 0 before their first event rather than not at all.
public enum ServerMetrics {
    static let loginFailures = "coffer_login_failures_total"
    static let pushBatchSize = "coffer_sync_push_batch_size"
    /// Devices listening on this process's change stream.
    static let changeStreams = "coffer_change_streams"
    /// PostgreSQL write transactions run again after a serialization failure or deadlock.
    static let databaseConflictRetries = "coffer_database_conflict_retries_total"
    /// Messages handed to the mail system.
    static let mailDelivered = "coffer_mail_delivered_total"
    /// Deliveries the mail system refused (each is retried).
    static let mailFailures = "coffer_mail_delivery_failures_total"
    /// Messages dropped undelivered because their code or link lapsed.
    static let mailDropped = "coffer_mail_dropped_total"

    /// Creates every Coffer metric; call once after `MetricsSystem.bootstrap`.
    public static func register() {
        _ = Counter(label: loginFailures)
        _ = Recorder(label: pushBatchSize)
        Gauge(label: changeStreams).record(0)
        for label in [databaseConflictRetries, mailDelivered, mailFailures, mailDropped] { _ = Counter(label: label) }
    }
}
