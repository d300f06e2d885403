import CofferFiles
import CofferTestSupport
import Foundation
import Testing

@Suite("OwnerOnlyFile: secret files are owner-only from creation, whole, and never replace what must stay")
struct OwnerOnlyFileTests {
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("owner-only-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    private func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    private func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

    @Test("a process watching the folder never finds the file, or its temporary, open to others")
    func ownerOnlyFromCreation() throws {
        let watcher = try CreationWatcher(folder: folder)
        let data = Data(repeating: 0x41, count: 4 << 20)
        try OwnerOnlyFile.write(data, to: path("export.csv"), existing: .refuse)
        try OwnerOnlyFile.write(data, to: path("cache"), existing: .replace)
        try OwnerOnlyFile.write(data, to: path("cache"), existing: .replace)
        let seen = watcher.stop()
        #expect(Set(seen.map(\.name)).isSuperset(of: ["export.csv"]), "the watcher saw \(seen)")
        for (name, mode) in seen { #expect(mode == 0o600, "\(name) was \(String(mode, radix: 8)) when opened") }
        #expect(try names() == ["cache", "export.csv"], "no temporary file is left")
        #expect(FileManager.default.contents(atPath: path("export.csv")) == data)
    }

    @Test("refuse keeps an existing file byte for byte; replace takes its place whole")
    func existingFiles() throws {
        try OwnerOnlyFile.write(Data("first".utf8), to: path("kept"), existing: .refuse)
        #expect(throws: FileWriteFailure.exists(path: path("kept"))) {
            try OwnerOnlyFile.write(Data("second".utf8), to: path("kept"), existing: .refuse)
        }
        #expect(FileManager.default.contents(atPath: path("kept")) == Data("first".utf8))
        try OwnerOnlyFile.write(Data("third".utf8), to: path("kept"), existing: .replace)
        #expect(FileManager.default.contents(atPath: path("kept")) == Data("third".utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: path("kept"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try names() == ["kept"])
    }

    @Test("the longest name the folder allows is written")
    func longestName() throws {
        let name = String(repeating: "n", count: Int(NAME_MAX))
        try OwnerOnlyFile.write(Data("x".utf8), to: path(name), existing: .refuse)
        #expect(try names() == [name])
    }

    @Test("a missing folder or a folder in the way is named with the system's reason; nothing is left")
    func failures() throws {
        let missing = path("no-such-folder/file")
        #expect(throws: FileWriteFailure.cannotWrite(path: missing, reason: "No such file or directory")) {
            try OwnerOnlyFile.write(Data("x".utf8), to: missing, existing: .replace)
        }
        try FileManager.default.createDirectory(atPath: path("a-folder"), withIntermediateDirectories: false)
        do {
            try OwnerOnlyFile.write(Data("x".utf8), to: path("a-folder"), existing: .replace)
            Issue.record("a folder was replaced by a file")
        } catch {
            guard case .cannotWrite(_, let reason) = error else { throw error }
            #expect(reason == "Is a directory")
        }
        #expect(try names() == ["a-folder"], "no temporary file is left")
    }
}
