public import CofferAPI
public import Foundation

/// The support console's words: what a dossier means for the user on the other side of the chat.
public enum SupportReport {
    /// The paragraph at the top of `admin account show`: what happened and what to tell the user.
    public static func summary(of dossier: AccountDossier, now: Date = Date()) -> String {
        var sentences: [String] = []
        let current = dossier.storage.first { $0.place == .current }
        let live = dossier.quarantines.filter { $0.purgedAt == nil }
        if let reset = dossier.resets.first {
            sentences.append("This account was reset \(through(reset)) on \(day(reset.at))\(from(reset)).")
            if dossier.awaitingNewPassword {
                sentences.append(
                    "No new master password has been set since: the user finishes the reset with `coffer account reset` and the code from the reset mail or page."
                )
            }
            if live.isEmpty, let gone = dossier.quarantines.first {
                sentences.append(
                    "The data from before the reset was deleted on \(day(gone.purgedAt ?? gone.expiresAt)); the server can no longer bring it back. What remains is a device signed in before the reset (`coffer recover --from-device` there) or a backup file made before it, each opened with the old password."
                )
            }
        }
        for quarantine in live {
            let items = quarantine.items == 1 ? "1 item" : "\(quarantine.items) items"
            let ways =
                quarantine.needsOldSecret
                ? "the old password (`coffer recover --old-password`), the old recovery code (`coffer recover --old-recovery-code -`), or a device signed in before the reset (`coffer recover --from-device` on that device)"
                : "any signed-in device (`coffer recover --old-password`), or a device signed in before the reset (`coffer recover --from-device` on that device)"
            sentences.append(
                "\(items) from before the reset of \(day(quarantine.resetAt)) \(quarantine.items == 1 ? "is" : "are") in quarantine until \(day(quarantine.expiresAt)); the user can bring them back with \(ways)."
            )
        }
        let oldBackups = dossier.backups.filter { ($0.epoch ?? dossier.epoch) < dossier.epoch }
        if !oldBackups.isEmpty {
            sentences.append(
                "\(count(oldBackups.count, "backup")) from before the reset \(oldBackups.count == 1 ? "is" : "are") kept on the server; \(oldBackups.count == 1 ? "it opens" : "they open") with the old password or recovery code (`coffer backup download`, then `coffer backup restore`)."
            )
        }
        for deletion in dossier.pendingDeletions {
            let what = deletion.what == .quarantine ? "the quarantined data" : "a server backup"
            let when =
                deletion.executesAt.map { "it happens on \(day($0))" }
                ?? "it waits for the mailed link until \(day(deletion.confirmBy))"
            sentences.append(
                "A deletion of \(what) was requested on \(day(deletion.requestedAt)); \(when), and any signed-in device can stop it (`coffer account deletions cancel \(deletion.id.uuidString.lowercased())`)."
            )
        }
        if dossier.resets.isEmpty {
            let signedIn = dossier.devices.filter { $0.signedOut == nil }.count
            sentences.append(
                "This account has never been reset. It stores \(count(current?.items ?? 0, "item")) (last change \(dossier.lastChangeAt.map(day) ?? "never")) and has \(count(signedIn, "signed-in device"))."
            )
        }
        if let change = dossier.events.first(where: { $0.kind == .passwordChanged || $0.kind == .recovery }),
            dossier.resets.first.map({ change.at > $0.at }) ?? true
        {
            let how = change.kind == .recovery ? "set again with the recovery code" : "changed"
            sentences.append(
                "The master password was \(how) on \(day(change.at)): devices signed in before then were signed out and sign in again with the new password; their items stay."
            )
        }
        if !dossier.emailConfirmed {
            sentences.append(
                "The address is not confirmed, so no recovery or reset code can be mailed to it; the user confirms it with `coffer account confirm-email`."
            )
        }
        if dossier.limits.wrongOldSecretsLastHour >= dossier.limits.oldSecretsAllowedPerHour {
            sentences.append(
                "Too many wrong old passwords or recovery codes were tried in the last hour: even the right one waits until the hour has passed."
            )
        }
        return sentences.joined(separator: " ")
    }

    /// The whole `admin account show` page.
    public static func text(of dossier: AccountDossier, now: Date = Date()) -> String {
        var lines = [dossier.email, "", wrap(summary(of: dossier, now: now)), ""]
        lines.append("Account")
        lines.append("  Created:            \(day(dossier.createdAt))")
        lines.append("  Address:            \(dossier.emailConfirmed ? "confirmed" : "not confirmed")")
        lines.append(
            "  Key epoch:          \(dossier.epoch)\(dossier.awaitingNewPassword ? " (reset; no new password set yet)" : "")"
        )
        lines.append("  Last change stored: \(dossier.lastChangeAt.map(day) ?? "never")")
        if let restored = dossier.serverRestoredAt { lines.append("  Server restored:    \(day(restored))") }
        lines.append("  Password changes:   \(days(of: [.passwordChanged, .recovery], in: dossier))")
        lines.append("  New recovery kits:  \(days(of: [.recoveryKitRotated], in: dossier))")
        lines.append("")
        lines.append("Devices")
        if dossier.devices.isEmpty { lines.append("  none") }
        for device in dossier.devices {
            let state = device.signedOut.map { "signed out (\(describe($0)))" } ?? "signed in"
            lines.append(
                "  \(device.name): \(state); first seen \(day(device.firstSeenAt)), last seen \(day(device.lastSeenAt))"
            )
        }
        lines.append("")
        lines.append("Stored items (ciphertext)")
        for epoch in dossier.storage {
            lines.append(
                "  Epoch \(epoch.epoch), \(epoch.place == .current ? "in use" : "quarantined"): \(count(epoch.items, "item")), \(count(epoch.deletions, "deletion")) kept for other devices, \(bytes(epoch.ciphertextBytes))"
            )
        }
        lines.append("")
        lines.append("Reset requests and resets")
        let requests = dossier.events.filter { $0.kind == .resetRequested }.map {
            (at: $0.at, text: "requested\($0.clientAddress.map { " from \($0)" } ?? "")")
        }
        let resets = dossier.resets.map {
            (at: $0.at, text: "reset \(through($0))\($0.from.map { ", address \($0)" } ?? "")")
        }
        let history = (requests + resets).sorted { $0.at > $1.at }
        if history.isEmpty { lines.append("  none") }
        lines += history.map { "  \(day($0.at)) \($0.text)" }
        lines.append("")
        lines.append("Quarantine")
        if dossier.quarantines.isEmpty { lines.append("  none") }
        for quarantine in dossier.quarantines {
            let state =
                quarantine.purgedAt.map { "deleted on \(day($0))" }
                ?? "\(count(quarantine.items, "item")), kept until \(day(quarantine.expiresAt))"
            lines.append("  Epoch \(quarantine.epoch), reset on \(day(quarantine.resetAt)): \(state)")
        }
        for deletion in dossier.pendingDeletions {
            lines.append(
                "  Deletion of \(deletion.what == .quarantine ? "the quarantine" : "a backup") requested \(day(deletion.requestedAt)); \(deletion.executesAt.map { "happens \(day($0))" } ?? "not confirmed by its link yet")"
            )
        }
        lines.append("")
        lines.append("Backups kept on the server")
        if dossier.backups.isEmpty { lines.append("  none") }
        for backup in dossier.backups {
            let epoch = backup.epoch ?? dossier.epoch
            lines.append(
                "  \(day(backup.storedAt)), \(bytes(Int64(backup.size))), epoch \(epoch)\(epoch < dossier.epoch ? " (from before a reset)" : "")"
            )
        }
        lines.append("")
        lines.append("Limits")
        lines.append(
            "  Wrong old passwords or recovery codes in the last hour: \(dossier.limits.wrongOldSecretsLastHour) of \(dossier.limits.oldSecretsAllowedPerHour) allowed"
        )
        lines.append(
            "  E-mail codes and links still valid: \(dossier.limits.liveEmailCodes), wrong codes typed against them: \(dossier.limits.wrongEmailCodes)"
        )
        lines.append("")
        lines.append("Events (newest first)")
        lines += dossier.events.prefix(50).map(line(for:))
        if dossier.events.count > 50 {
            lines.append(
                "  … \(dossier.events.count - 50) older: `coffer-server admin account events \(dossier.email)`")
        }
        return lines.joined(separator: "\n")
    }

    /// One event as a line.
    public static func line(for event: AccountEvent) -> String {
        let origin = [event.deviceName, event.clientAddress].compactMap { $0 }.joined(separator: ", ")
        return "  \(day(event.at))  \(event.kind.description)\(origin.isEmpty ? "" : " (\(origin))")"
    }

    /// The `admin stats` page.
    public static func text(of statistics: ServerStatistics, days: Int) -> String {
        """
        Accounts:          \(statistics.accounts) (\(statistics.confirmedAccounts) with a confirmed address)
        Devices signed in: \(statistics.devices)
        Ciphertext stored: \(bytes(statistics.storedBytes)) (items, quarantines and backups)
        In the last \(days) days:
          Registrations:         \(statistics.registrations)
          Resets:                \(statistics.resets)
          Recovery-code resets:  \(statistics.recoveries)
          Quarantines recovered: \(statistics.quarantineRecoveries)
          Password changes:      \(statistics.passwordChanges)
        """
    }

    /// The `admin accounts` page.
    public static func text(of accounts: [AccountListing], page: Int) -> String {
        guard !accounts.isEmpty else { return page == 1 ? "No account matches." : "No accounts on page \(page)." }
        return accounts.map {
            "\($0.email)  created \(day($0.createdAt)), \($0.emailConfirmed ? "confirmed" : "not confirmed"), \(count($0.devices, "signed-in device")), last seen \($0.lastSeenAt.map(day) ?? "never")"
        }.joined(separator: "\n")
    }

    /// When events of `kinds` happened, newest first, or `none`.
    private static func days(of kinds: Set<AccountEventKind>, in dossier: AccountDossier) -> String {
        let dates = dossier.events.filter { kinds.contains($0.kind) }.map { day($0.at) }
        return dates.isEmpty ? "none" : dates.joined(separator: ", ")
    }

    private static func through(_ reset: AccountDossier.Reset) -> String {
        switch reset.through {
        case "web portal": "from the web portal"
        case let device?: "from the device \"\(device)\""
        case nil: "from an unknown place"
        }
    }

    private static func from(_ reset: AccountDossier.Reset) -> String {
        reset.from.map { " from \($0)" } ?? ""
    }

    private static func describe(_ signOut: AccountDossier.SignOut) -> String {
        switch signOut {
        case .passwordChanged: "the password was changed elsewhere"
        case .recovered: "the password was set again with the recovery code"
        case .accountReset: "the account was reset"
        case .signedOut: "signed out or revoked"
        }
    }

    /// A moment in UTC to the minute: support and user may be in different time zones.
    public static func day(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits) UTC",
                timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }

    private static func count(_ number: Int, _ noun: String) -> String {
        number == 1 ? "1 \(noun)" : "\(number) \(noun)s"
    }

    private static func bytes(_ count: Int64) -> String {
        count == 0 ? "0 bytes" : ByteCountFormatter.string(fromByteCount: count, countStyle: .file)
    }

    private static func wrap(_ text: String, width: Int = 100) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + word.count + 1 > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
