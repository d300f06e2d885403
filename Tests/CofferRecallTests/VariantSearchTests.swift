import CofferRecall
import Testing

/// The order of the forgotten-password assistant's variants: likely slips first, each variant once,
/// the same sequence every time (so a stopped run resumes by count alone).
@Suite("password variants")
struct VariantSearchTests {
    /// The position of `target` in the sequence around `remembered`, or `nil` within `limit`.
    static func position(of target: String, from remembered: [String], limit: Int = 20_000) -> Int? {
        var search = VariantSearch(remembered: remembered)
        while let variant = search.next(), variant.index < limit {
            if variant.text == target { return variant.index }
        }
        return nil
    }

    @Test("Tr0ub4dor&3 is found from troubador&3, and Summer2019! from summer2018, early")
    func supportCaseFinds() throws {
        let troubador = try #require(Self.position(of: "Tr0ub4dor&3", from: ["troubador&3"]))
        #expect(troubador < 400, "found at \(troubador)")
        let summer = try #require(Self.position(of: "Summer2019!", from: ["summer2018"]))
        #expect(summer < 400, "found at \(summer)")
        // The remembered password itself comes first, then single slips.
        #expect(Self.position(of: "summer2018", from: ["summer2018"]) == 0)
        #expect(try #require(Self.position(of: "Summer2018", from: ["summer2018"])) < 10)
        #expect(try #require(Self.position(of: "summer2019", from: ["summer2018"])) < 20)
    }

    @Test("typos: a neighbouring key, a doubled, dropped or swapped character; and two of them")
    func typos() {
        for target in ["correvt horse", "corrrect horse", "corect horse", "corretc horse"] {
            #expect(Self.position(of: target, from: ["correct horse"]) != nil, "\(target)")
        }
        #expect(Self.position(of: "hprs", from: ["horse"], limit: 200_000) != nil, "two typos")
        var qwertz = VariantRules()
        qwertz.keyboard = .qwertz
        var search = VariantSearch(remembered: ["zebra"], rules: qwertz)
        var texts: [String] = []
        while let variant = search.next(), variant.cost <= 4 { texts.append(variant.text) }
        #expect(texts.contains("tebra"), "on a German keyboard z sits next to t")
    }

    @Test("every variant once, in the same order on every run, cheapest first")
    func deterministic() {
        func sequence() -> [String] {
            var search = VariantSearch(remembered: ["Paris-2019", "tulip"])
            return (0..<5_000).compactMap { _ in search.next()?.text }
        }
        let first = sequence()
        #expect(first == sequence())
        #expect(Set(first).count == first.count)
        var search = VariantSearch(remembered: ["Paris-2019", "tulip"])
        var last = 0
        while let variant = search.next(), variant.index < 5_000 {
            #expect(variant.cost >= last)
            last = variant.cost
        }
    }

    @Test("a find is explained step by step; user rules are steps too; the space ends")
    func explanationsAndRules() throws {
        var rules = VariantRules()
        rules.custom = [.append("#work"), .replace("cat", "dog")]
        rules.maximumCost = 3
        var search = VariantSearch(remembered: ["kitten", "mycat"], rules: rules)
        var found: VariantSearch.Variant?
        while let variant = search.next() {
            if variant.text == "Mydog#work" { found = variant }
        }
        let variant = try #require(found)
        let (remembered, steps) = search.explanation(of: variant.index)
        #expect(remembered == 1)
        #expect(steps.count == 3, "\(steps)")
        #expect(steps.contains { $0.contains("your rule") })
        #expect(search.next() == nil, "the space up to the maximum cost is finite")
    }

    @Test("odd input: empty, very long, digits only, non-ASCII; nothing crashes")
    func oddInput() {
        for remembered in ["", String(repeating: "x", count: 300), "9999", "2099", "0", "ünïcødé—密码", "\u{0}"] {
            var search = VariantSearch(remembered: [remembered])
            var count = 0
            while search.next() != nil, count < 2_000 { count += 1 }
            #expect(count > 0 || remembered.isEmpty)
        }
    }
}
