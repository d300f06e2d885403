import Foundation

/// A keyboard layout as zxcvbn's adjacency graph: for each key, its neighbours in each direction.
struct KeyboardGraph: Sendable {
    let name: String
    /// Key (one of the two characters on it) → neighbouring keys per direction (`nil` at an edge).
    let adjacency: [Character: [String?]]
    let startingPositions: Double
    let averageDegree: Double

    static func bundled() throws(CofferModelError) -> [KeyboardGraph] {
        let data = try BundledData.data(of: "keyboard-adjacency", extension: "json")
        guard let graphs = try? JSONDecoder().decode([String: [String: [String?]]].self, from: data) else {
            throw .missingResource("keyboard-adjacency.json")
        }
        return graphs.keys.sorted().compactMap { name in
            guard let graph = graphs[name] else { return nil }
            var adjacency: [Character: [String?]] = [:]
            for (key, neighbours) in graph { if let character = key.first { adjacency[character] = neighbours } }
            let degrees = adjacency.values.map { Double($0.compactMap { $0 }.count) }
            return KeyboardGraph(
                name: name, adjacency: adjacency, startingPositions: Double(adjacency.count),
                averageDegree: degrees.reduce(0, +) / Double(max(degrees.count, 1)))
        }
    }

    /// Runs of three or more adjacent keys.
    func matches(in password: [Character]) -> [StrengthMatch] {
        var matches: [StrengthMatch] = []
        var start = 0
        while start < password.count - 1 {
            var end = start
            var turns = 0
            var shifted = 0
            var lastDirection = -1
            while end + 1 < password.count,
                let neighbours = adjacency[password[end]],
                let direction = neighbours.firstIndex(where: { $0?.contains(password[end + 1]) == true })
            {
                if direction != lastDirection {
                    turns += 1
                    lastDirection = direction
                }
                if let key = neighbours[direction],
                    key.firstIndex(of: password[end + 1]) == key.index(after: key.startIndex)
                {
                    shifted += 1
                }
                end += 1
            }
            if end - start + 1 >= 3 {
                matches.append(
                    StrengthMatch(
                        start: start, end: end, pattern: .spatial(isStraight: turns == 1),
                        guesses: guesses(length: end - start + 1, turns: turns, shifted: shifted)))
                start = end
            } else {
                start += 1
            }
        }
        return matches
    }

    private func guesses(length: Int, turns: Int, shifted: Int) -> Double {
        var guesses = 0.0
        for i in 2...length {
            for j in 1...min(turns, i - 1) {
                guesses += binomial(i - 1, j - 1) * startingPositions * pow(averageDegree, Double(j))
            }
        }
        if shifted > 0 {
            let unshifted = length - shifted
            guesses *= unshifted == 0 ? 2 : (1...min(shifted, unshifted)).reduce(0.0) { $0 + binomial(length, $1) }
        }
        return guesses
    }
}
