import CofferAgent
import CofferClient
import CofferCrypto
import CofferRecall
import CofferStore
import CofferVault
import Foundation
import Synchronization

/// `coffer recover --guess FILE`: the forgotten-password assistant.
///
/// The user types the passwords they half remember; variants of them (case, look-alike characters,
/// years, endings, typos) are tried against a file on this device that the old password opens,
/// likeliest first, on every core, until one opens it. Nothing leaves the device, and the only
/// thing written is how many variants were tried, so a stopped run continues where it was.
struct PasswordGuessing {
    let path: String
    let reader: SecretReader
    let rulesFile: String?
    let keyboard: KeyboardLayout
    /// The most changes to a remembered password (``VariantRules/maximumSteps``).
    let maximumChanges: Int
    let restart: Bool
    let paths: ProfilePaths

    /// What the resume file holds: counts and settings, never a password or a variant.
    struct Progress: Codable, Equatable {
        var tried: Int
        var remembered: Int
        var rules: Int
        var keyboard: String
        var maximumCost: Int
        var maximumSteps: Int

        func sameRun(as other: Progress) -> Bool {
            var mine = self
            mine.tried = other.tried
            return mine == other
        }
    }

    func run() throws {
        let target: GuessTarget
        do {
            target = try GuessTarget.open(path: path)
        } catch {
            throw AgentFailure(.invalidInput, error.description)
        }
        var rules = VariantRules()
        rules.keyboard = keyboard
        rules.maximumSteps = maximumChanges
        if let rulesFile { rules.custom = try Self.parseRules(at: rulesFile) }
        let remembered = try rememberedPasswords()
        let stateFile = paths.dataDirectory + "/recover-guess/\(target.fingerprint).json"
        let settings = Progress(
            tried: 0, remembered: remembered.count, rules: rules.custom.count, keyboard: keyboard.name,
            maximumCost: rules.maximumCost, maximumSteps: rules.maximumSteps)
        let resumeAfter = restart ? 0 : Self.resumePoint(stateFile, settings: settings)
        if resumeAfter > 0 {
            Terminal.note(
                "Resuming: \(resumeAfter) variants were tried in an earlier run and are not tried again (--restart begins anew)."
            )
        }
        let workers = GuessRun.workers()
        Terminal.note(
            "Trying variants of \(remembered.count == 1 ? "your password" : "your \(remembered.count) passwords") against \(path), likeliest first, \(workers) at a time. Nothing is sent anywhere; Ctrl-C stops, and the next run continues."
        )
        let bar = ProgressBar(isWanted: true)
        let shownCost = Mutex<Int>(-1)
        let triedNow = Mutex<Int>(0)
        let outcome = GuessRun.run(
            target: target, remembered: remembered, rules: rules, resumeAfter: resumeAfter, workers: workers,
            tried: { count in
                var saved = settings
                saved.tried = count
                Self.save(saved, to: stateFile)
                CrashPoint.reached("guess.tried", count: count)
            },
            progress: { progress in
                triedNow.withLock { $0 = max($0, progress.triedNow) }
                guard let tier = progress.tier else { return }
                let isNewCost = shownCost.withLock { shown in
                    defer { shown = tier.cost }
                    return shown != tier.cost
                }
                if isNewCost { bar.phase("Changes of weight \(tier.cost)", hasSize: true) }
                let left = Double(max(tier.total - tier.done, 0)) / max(progress.rate, 0.001)
                bar.update(
                    Double(tier.done) / Double(max(tier.total, 1)),
                    detail:
                        "\(progress.tried) tried, \(String(format: "%.1f", progress.rate))/s, about \(Int(left.rounded())) s left at this weight"
                )
            })
        bar.finish()
        switch outcome {
        case .found(let password, let index, let rememberedIndex, let steps):
            try? FileManager.default.removeItem(atPath: stateFile)
            let how =
                steps.isEmpty
                ? "exactly as you typed it" : steps.joined(separator: ", ")
            let which = remembered.count == 1 ? "your password" : "remembered password number \(rememberedIndex + 1)"
            let thisRun = resumeAfter > 0 ? " (\(triedNow.withLock { $0 }) in this run)" : ""
            Terminal.note("Found it after \(index + 1) tries\(thisRun): \(which), with \(how).")
            Terminal.note(nextStep(for: target))
            print(password)
        case .exhausted(let tried):
            try? FileManager.default.removeItem(atPath: stateFile)
            let deeper =
                maximumChanges < 4 ? " `--max-changes 4` searches further from what you typed." : ""
            throw AgentFailure(
                .wrongSecret,
                "None of the \(tried) variants opened \(path): every variant of what you typed with up to \(maximumChanges) change(s) was tried.\(deeper) Add other passwords you might have used (each on its own line), or your own patterns with --rules FILE (lines like `append 2024!`, `prepend my`, `replace a @`)."
            )
        }
    }

    /// The command that uses the found password on this kind of file.
    private func nextStep(for target: GuessTarget) -> String {
        switch target.kind {
        case .backup:
            "Next: `coffer backup restore \(path)` and give this password when asked; then `coffer password change` if you want a new one."
        case .archivedVault:
            "Next: `coffer recover --from-device` and give this as the password used before the reset."
        case .vault:
            "Next: `coffer unlock` with it, then `coffer password change` to set one you will remember."
        }
    }

    /// One remembered password per line of standard input, or asked one by one on the terminal.
    private func rememberedPasswords() throws -> [String] {
        var passwords: [String] = []
        if reader.isScripted {
            while let line = try reader.read("remembered password", required: false) {
                if !line.isEmpty { passwords.append(line) }
            }
        } else {
            Terminal.note("Type each password you might have used; an empty line starts the search.")
            while let line = try reader.read("A password you might have used: ", required: false), !line.isEmpty {
                passwords.append(line)
            }
        }
        guard !passwords.isEmpty else {
            throw AgentFailure(
                .invalidInput,
                "No remembered password was given: type at least one you might have used (or give one per line with --password-stdin)."
            )
        }
        return passwords
    }

    /// Reads a `--rules` file: `append TEXT`, `prepend TEXT`, `replace OLD NEW`, `#` comments.
    /// Errors name the line, never its text (it may hold part of a password).
    static func parseRules(at path: String) throws -> [VariantRules.CustomRule] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentFailure(.invalidInput, "The rules file \(path) does not exist or cannot be read.")
        }
        var rules: [VariantRules.CustomRule] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let words = trimmed.split(separator: " ", maxSplits: 2).map(String.init)
            switch (words.first, words.count) {
            case ("append", 2): rules.append(.append(words[1]))
            case ("prepend", 2): rules.append(.prepend(words[1]))
            case ("replace", 3): rules.append(.replace(words[1], words[2]))
            default:
                throw AgentFailure(
                    .invalidInput,
                    "Line \(number + 1) of \(path) is not a rule: write `append TEXT`, `prepend TEXT` or `replace OLD NEW`, one per line (`#` starts a comment)."
                )
            }
        }
        return rules
    }

    /// How many variants an earlier run with the same settings tried; 0 when there was none.
    private static func resumePoint(_ file: String, settings: Progress) -> Int {
        guard let data = FileManager.default.contents(atPath: file),
            let saved = try? JSONDecoder().decode(Progress.self, from: data), saved.sameRun(as: settings)
        else { return 0 }
        return max(saved.tried, 0)
    }

    private static func save(_ progress: Progress, to file: String) {
        let folder = (file as NSString).deletingLastPathComponent
        try? ProfilePaths.makeOwnerOnlyDirectory(folder)
        guard let data = try? JSONEncoder().encode(progress) else { return }
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
