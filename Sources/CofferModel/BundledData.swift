import Foundation

/// Loads the word lists shipped with the module; each file is read once per process.
enum BundledData {
    static func lines(of resource: String) throws(CofferModelError) -> [String] {
        guard let url = Bundle.module.url(forResource: resource, withExtension: "txt", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { throw .missingResource("\(resource).txt") }
        return text.split(whereSeparator: \.isNewline).map(String.init)
    }

    static func data(of resource: String, extension fileExtension: String) throws(CofferModelError) -> Data {
        guard
            let url = Bundle.module.url(forResource: resource, withExtension: fileExtension, subdirectory: "Resources"),
            let data = try? Data(contentsOf: url)
        else { throw .missingResource("\(resource).\(fileExtension)") }
        return data
    }
}
