public import CofferAPI
public import Foundation

/// Everything the server persists, as one value: the repositories of each aggregate, which
/// SQLite (the default) and PostgreSQL (for deployments that outgrow one machine) both implement
/// (``RelationalServerStorage``). Implementations see only opaque payloads: wrapped keys, sealed
/// records, verifiers and token hashes. Code that needs one aggregate depends on its repository only.
public protocol ServerStorage:
    StorageConnection, AccountRepository, SessionRepository, RecordRepository, KeyLifecycleRepository,
    CodeRepository, DeletionRepository, BackupRepository, EventRepository, CoordinationRepository,
    MailOutboxRepository
{}
