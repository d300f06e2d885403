public import Foundation

/// Which automatic backups to keep: the newest `last`, plus the newest of each of the most recent
/// `daily` days, `weekly` ISO weeks and `monthly` months that have a backup (grandfather-father-son).
public struct BackupRetention: Codable, Sendable, Equatable {
    /// The newest backups kept whatever their age.
    public var last: Int
    /// Days with one backup kept each.
    public var daily: Int
    /// Weeks with one backup kept each.
    public var weekly: Int
    /// Months with one backup kept each.
    public var monthly: Int

    /// Creates a policy.
    public init(last: Int = 10, daily: Int = 14, weekly: Int = 8, monthly: Int = 12) {
        self.last = last
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// Parses `last=10,daily=14,weekly=8,monthly=12` (any subset; the rest keep their defaults).
    public init(parsing text: String) throws(BackupError) {
        self.init()
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let value = Int(pair[1]), value >= 0, value <= 10_000 else {
                throw .io("'\(part)' is not a retention setting; write e.g. last=10,daily=14,weekly=8,monthly=12")
            }
            switch pair[0] {
            case "last": last = value
            case "daily": daily = value
            case "weekly": weekly = value
            case "monthly": monthly = value
            default:
                throw .io("'\(pair[0])' is not a retention setting; use last, daily, weekly or monthly")
            }
        }
    }

    /// The subset of `dates` (one per backup) to keep.
    public func kept<ID: Hashable>(_ backups: [(id: ID, date: Date)]) -> Set<ID> {
        let newestFirst = backups.sorted { $0.date > $1.date }
        var keep = Set(newestFirst.prefix(last).map(\.id))
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let buckets: [(Int, (Date) -> DateComponents)] = [
            (daily, { calendar.dateComponents([.year, .month, .day], from: $0) }),
            (weekly, { calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0) }),
            (monthly, { calendar.dateComponents([.year, .month], from: $0) }),
        ]
        for (count, bucket) in buckets {
            var seen = Set<DateComponents>()
            for backup in newestFirst where seen.count < count {
                if seen.insert(bucket(backup.date)).inserted { keep.insert(backup.id) }
            }
        }
        return keep
    }
}
