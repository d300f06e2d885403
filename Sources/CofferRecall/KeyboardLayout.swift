/// A keyboard's character rows, for finding the keys next to a key (typos).
public struct KeyboardLayout: Sendable, Equatable {
    /// The layout's name, as `--keyboard` takes it.
    public let name: String
    /// The unshifted characters of each row, top to bottom.
    let rows: [[Character]]

    /// US and UK keyboards.
    public static let qwerty = KeyboardLayout(
        name: "qwerty", rows: ["1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"].map(Array.init))
    /// German, Austrian and Swiss keyboards.
    public static let qwertz = KeyboardLayout(
        name: "qwertz", rows: ["1234567890ß", "qwertzuiopü+", "asdfghjklöä#", "yxcvbnm,.-"].map(Array.init))
    /// French and Belgian keyboards.
    public static let azerty = KeyboardLayout(
        name: "azerty", rows: ["&é\"'(-è_çà)=", "azertyuiop^$", "qsdfghjklmù*", "wxcvbn,;:!"].map(Array.init))

    /// Every layout, by name.
    public static let all = [qwerty, qwertz, azerty]

    /// The layout a locale name (such as `de_DE.UTF-8`) most likely types on.
    public static func likely(forLocale locale: String?) -> KeyboardLayout {
        let language = locale?.prefix(2).lowercased() ?? ""
        switch language {
        case "de": return qwertz
        case "fr": return azerty
        default: return qwerty
        }
    }

    /// Keys left, right, above and below `character` (row offsets approximate a staggered keyboard);
    /// a capital gets capital neighbours.
    func neighbours(of character: Character) -> [Character] {
        let lower = Character(character.lowercased())
        guard let row = rows.firstIndex(where: { $0.contains(lower) }),
            let column = rows[row].firstIndex(of: lower)
        else { return [] }
        var keys: [Character] = []
        for (rowOffset, columns) in [(0, [-1, 1]), (-1, [0, 1]), (1, [-1, 0])] {
            let target = row + rowOffset
            guard rows.indices.contains(target) else { continue }
            for offset in columns where rows[target].indices.contains(column + offset) {
                keys.append(rows[target][column + offset])
            }
        }
        return keys.map { character.isUppercase && $0.isLetter ? Character($0.uppercased()) : $0 }
    }
}
