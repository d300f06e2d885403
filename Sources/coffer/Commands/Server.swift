import ArgumentParser
import CofferAPI
import CofferAgent
import CofferClient
import CofferCrypto
import CofferModel
import CofferStore
import CofferVault
import Foundation

/// Options shared by `register` and `login`.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's URL, e.g. http://127.0.0.1:8080.")
    var server: String

    @Option(help: "Your e-mail address on that server.")
    var email: String

    @Option(help: "This device's name in device lists and account events (default: user@host (system)).")
    var deviceName: String?

    var resolvedDeviceName: String { deviceName ?? DeviceName.default }
}

/// `--ca-file` on register and login: a server signed by a private certificate authority.
struct TrustOptions: ParsableArguments {
    @Option(
        help: """
            The certificate (PEM) of the authority that signed the server's TLS certificate, when it is not \
            one the system trusts. Coffer keeps a copy in the profile and trusts it from then on.
            """)
    var caFile: String?

    /// Checks the file, copies it into the profile (owner-only) and trusts it for this process's requests.
    func install(_ paths: ProfilePaths) throws {
        guard let caFile else { return }
        try ServerTrust.checkCertificates(inFile: caFile)
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        let destination = paths.serverCertificatesFile
        guard (caFile as NSString).standardizingPath != destination else { return }
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: caFile, toPath: destination)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination)
        ServerTrust.trustProfileCertificates(at: destination)
    }
}

/// `coffer register`: creates an account on a server for this vault (or a new vault) and uploads it.
struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an account on a sync server and upload this vault (a new one is created if there is none).",
        discussion: """
            The server receives only ciphertext. Registering issues a new recovery code, shown once: the old one \
            (from `coffer init`) stops working, so write the new one down.
            """)

    @OptionGroup var options: ServerOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var secrets: SecretOptions

    @Option(help: "Also write a printable HTML page of the recovery kit to this file.")
    var recoveryKitHTML: String?

    func run() throws {
        let paths = ProfilePaths()
        try trust.install(paths)
        let reader = secrets.reader()
        let exists = FileManager.default.fileExists(atPath: paths.vaultFile)
        let password =
            exists ? try reader.require("Master password: ") : try MasterPasswordPrompt(reader: reader).newPassword()
        if !exists { try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory) }
        let (server, email, device, file) = (options.server, options.email, options.resolvedDeviceName, paths.vaultFile)
        let result = try AsyncBridge.wait {
            try await AccountFlows.register(
                server: server, email: email, password: password, deviceName: device, vaultFile: file,
                createIfMissing: true)
        }
        print(
            "Registered \(email) on \(server); \(result.report.pushed) item(s) uploaded. The server stores only ciphertext.\n"
        )
        try RecoveryKit(code: result.recoveryCode, email: email, server: server).show(htmlPath: recoveryKitHTML)
        Terminal.note("This recovery code replaces the one `coffer init` showed for this vault, if any.")
        try AgentHandoff.unlockAgent(
            paths, with: result.keyring)
        Terminal.note(
            "Check your mail and press \"Confirm my address\" on the linked page: codes for recovery and reset by e-mail go only to a confirmed address (`coffer account confirm-email` mails a new link)."
        )
    }
}

/// `coffer login`: signs a new device in and downloads the vault.
struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign this device in to an existing account and download the vault.",
        discussion: """
            On a device that was signed out (after a password change elsewhere, or a reset), this signs the \
            same vault in again and keeps every local item; --server and --email default to the profile's.
            """)

    @OptionGroup var address: AccountAddressOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var secrets: SecretOptions

    @Flag(
        name: .customLong("accept-weaker-kdf"),
        help: """
            Derive the key even if the server asks for cheaper Argon2id parameters than this device saw for \
            the account (or than Coffer's default). A hostile server does this to make your password easier \
            to crack offline: use it only if you lowered the parameters yourself.
            """)
    var acceptWeakerKDF = false

    func run() throws {
        let paths = ProfilePaths()
        try trust.install(paths)
        let (server, email, device) = try address.resolve(paths)
        let password = try secrets.reader().require("Master password: ")
        try ProfilePaths.makeOwnerOnlyDirectory(paths.dataDirectory)
        AgentHandoff.lockRunningAgent(paths)
        let file = paths.vaultFile
        let kdf: KDFAcceptance = acceptWeakerKDF ? .acceptWeaker : .pinned
        let result = try AsyncBridge.wait {
            try await AccountFlows.login(
                server: server, email: email, password: password, deviceName: device, vaultFile: file, kdf: kdf)
        }
        try AgentHandoff.unlockAgent(
            paths, with: result.keyring)
        Terminal.note("Signed in as \(email); \(result.report.pulled) item(s) downloaded.")
        if let loss = result.report.serverLoss {
            Terminal.note("\(loss) Run `coffer sync` to do it now.")
        }
        let before = BeforeResetHoldings.read(paths: paths).itemCount
        if before > 0 {
            Terminal.note(
                "This device keeps \(before) item(s) from before the account reset; `coffer recover --from-device` moves them into the account."
            )
        }
    }
}

/// `coffer logout`: signs this device out; the local vault stays, local-only.
struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign this device out of the server; the vault stays on this device and stops syncing.")

    @OptionGroup var secrets: SecretOptions

    func run() throws {
        _ = try VaultConnector(secrets: secrets.reader()).open().call(SignOut())
        Terminal.note(
            "Signed out. The vault stays on this device; `coffer register` or `coffer login` connects it again.")
    }
}

/// `coffer sync`: syncs now.
struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sync with the server now (changes also sync automatically when the server is reachable).")

    @OptionGroup var secrets: SecretOptions
    @OptionGroup var output: OutputOptions

    @Flag(
        help: """
            If the server lacks data this device holds (it was restored from a backup), put it back without \
            asking. The device never takes older data from the server either way.
            """)
    var yes = false

    func run() throws {
        let vault = try VaultConnector(secrets: secrets.reader()).open()
        let report = try Self.sync(vault, healsServer: yes)
        if output.json { return try Output.json(report) }
        if report.restoredToServer > 0 {
            Terminal.note("Put back on the server: \(report.restoredToServer) version(s) it had lost.")
        }
        Terminal.note(
            "Synced: \(report.pulled) received, \(report.pushed) sent\(report.conflictCopies > 0 ? ", \(report.conflictCopies) conflict copy(ies) kept — search for \"conflict copy\"" : "")."
        )
        if let since = report.awaitingSince {
            Terminal.note(
                "\(report.awaitingOtherDevice) change(s) another device made since \(since.formatted(date: .abbreviated, time: .shortened)) are waiting for that device to confirm them; they arrive here once it syncs again (or with this device's next change)."
            )
        }
        guard report.heldBack.isEmpty else {
            let names = report.heldBack.map { "\"\($0.title)\" (\(ByteCount($0.sealedBytes)))" }
            throw AgentFailure(
                .server,
                "Not sent: \(names.joined(separator: ", ")). The server keeps at most \(ByteCount(PushChange.maximumBoxBytes)) per encrypted item, so these stay on this device only. Shorten their notes or fields (`coffer edit`), then sync again; everything else was synced."
            )
        }
        guard report.unconfirmed == 0 else {
            throw AgentFailure(
                .server,
                "\(report.unconfirmed) change(s) were not stored by the server although it was asked to; they stay on this device and are sent again at the next sync. If this repeats, the server may be faulty."
            )
        }
    }

    /// Syncs; when the server lost data this device holds, a person at a terminal decides whether to
    /// put it back, and a script is told how while nothing changes.
    private static func sync(_ vault: any VaultAccess, healsServer: Bool) throws(AgentFailure) -> SyncReport {
        let first = Result { () throws(AgentFailure) in try vault.call(SyncNow(healsServer: healsServer)) }
        guard case .failure(let failure) = first, failure.kind == .serverLostData else { return try first.get() }
        Terminal.note(failure.message)
        guard Terminal.isInteractive, Terminal.confirm("Put this device's data back on the server now?") else {
            throw failure
        }
        return try vault.call(SyncNow(healsServer: true))
    }
}

/// `coffer devices`: lists or signs out devices.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the devices signed in to your account, or sign one out.",
        subcommands: [List.self, Revoke.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signed-in devices.")
        @OptionGroup var secrets: SecretOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            let devices = try vault.call(ListDevices())
            if output.json { return try Output.json(devices) }
            for device in devices {
                print(
                    "\(device.id.uuidString.lowercased())  \(device.name)\(device.isCurrent ? "  (this device)" : "")  last seen \(device.lastSeenAt.formatted())"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a device out (its local data stays on it).")
        @Argument(help: "The device's id, from `coffer devices`.")
        var id: String
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            guard let uuid = UUID(uuidString: id) else {
                throw AgentFailure(.invalidInput, "'\(id)' is not a device id; `coffer devices` lists them.")
            }
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            _ = try vault.call(RevokeDevice(id: uuid))
            Terminal.note("Signed the device out.")
        }
    }
}

/// `coffer account`: what happened to the account.
struct Account: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Your account on the server: what happened to it, reset, quarantine.",
        subcommands: [Events.self, ConfirmEmail.self, AccountReset.self, PurgeQuarantine.self, Deletions.self])

    struct ConfirmEmail: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "confirm-email",
            abstract:
                "Mail a new link that confirms your address (codes for recovery and reset go only to a confirmed one).")
        @OptionGroup var secrets: SecretOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            let state = try vault.call(SendEmailConfirmation())
            Terminal.note(
                state.confirmed
                    ? "\(state.email) is confirmed: recovery and reset codes can reach it."
                    : "A confirmation link was mailed to \(state.email). Open it and press \"Confirm my address\"; until then no recovery or reset code can be mailed to it."
            )
        }
    }

    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "What happened to your account: registration, new devices, sign-outs… with time, device and address.")
        @OptionGroup var secrets: SecretOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try VaultConnector(secrets: secrets.reader()).open()
            let events = try vault.call(ListAccountEvents())
            if output.json { return try Output.json(events) }
            for event in events {
                let when = event.at.formatted(
                    Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt))
                print(
                    "\(when)  \(event.kind.description)  (device: \(event.deviceName ?? "-"), from: \(event.clientAddress ?? "-"))"
                )
            }
        }
    }
}
