public import CofferAPI
public import Foundation

// The account's activity log (``EventRepository``).
extension RelationalServerStorage {
    /// Implements ``EventRepository/recordEvent(accountID:event:)``.
    public func recordEvent(accountID: UUID, event: AccountEvent) async throws {
        try await write { db in try Self.insert(event, accountID: accountID, db) }
    }

    static func insert(_ event: AccountEvent, accountID: UUID, _ db: any SQLTransaction) throws {
        try db.execute(
            "INSERT INTO account_events (account_id, kind, at, device_name, client_address) VALUES (?, ?, ?, ?, ?)",
            [accountID, event.kind.rawValue, event.at, event.deviceName, event.clientAddress])
    }

    /// Implements ``EventRepository/events(accountID:limit:)``.
    public func events(accountID: UUID, limit: Int) async throws -> [AccountEvent] {
        try await read { db in
            try db.rows(
                """
                SELECT kind, at, device_name, client_address FROM account_events WHERE account_id = ?
                ORDER BY id DESC LIMIT ?
                """, [accountID, limit]
            ).compactMap { row in
                guard let kind = AccountEventKind(rawValue: try row.text("kind")) else { return nil }
                return AccountEvent(
                    kind: kind, at: try row.date("at"), deviceName: try row.optionalText("device_name"),
                    clientAddress: try row.optionalText("client_address"))
            }
        }
    }
}
