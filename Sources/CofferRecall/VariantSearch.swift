/// The passwords a person probably meant when they remember one almost right, most likely first.
///
/// Each change a memory commonly gets wrong (a capital letter, a `0` for an `o`, the year after,
/// an `!` at the end, a neighbouring key) is a step with a cost; the search hands out variants in
/// order of total cost, every variant once. Variants of equal cost come in the order they were
/// found, so the sequence is the same in every run for the same input: a run that was stopped
/// resumes by skipping as many variants as it had tried, and nothing is kept on disk but that count.
public struct VariantSearch: Sendable {
    /// One variant and how it came about.
    public struct Variant: Sendable {
        /// The password to try.
        public let text: String
        /// Its position in the sequence, from 0.
        public let index: Int
        /// The sum of its steps' costs; 0 for a remembered password itself.
        public let cost: Int
    }

    /// What a variant was derived from, kept for every variant handed out so a find can be explained.
    private struct Origin {
        let parent: Int32
        let step: String
        let remembered: Int32
    }

    private struct Pending {
        let text: String
        let origin: Origin
        let depth: Int
    }

    private let rules: VariantRules
    /// Variants waiting, by cost; `positions` says how far each bucket was read.
    private var buckets: [[Pending]]
    private var positions: [Int]
    /// The lowest cost each text was queued at; `handedOut` marks the ones already returned.
    private var lowestCost: [String: Int] = [:]
    private var origins: [Origin] = []
    private var texts: [String] = []
    private let handedOut = -1

    /// A search around each of `remembered` (in that order of preference) with `rules`.
    public init(remembered: [String], rules: VariantRules = VariantRules()) {
        self.rules = rules
        buckets = Array(repeating: [], count: rules.maximumCost + 1)
        positions = Array(repeating: 0, count: rules.maximumCost + 1)
        for (index, text) in remembered.enumerated() {
            queue(text, cost: 0, depth: 0, origin: Origin(parent: -1, step: "", remembered: Int32(index)))
        }
    }

    /// How many variants were handed out.
    public var count: Int { texts.count }

    /// The cost now being handed out, with how many variants of it were handed out and queued.
    public var tier: (cost: Int, done: Int, total: Int)? {
        guard let cost = positions.indices.first(where: { positions[$0] < buckets[$0].count }) else { return nil }
        return (cost, positions[cost], buckets[cost].count)
    }

    /// The next variant, or `nil` when every variant up to the maximum cost was handed out.
    public mutating func next() -> Variant? {
        for cost in buckets.indices {
            while positions[cost] < buckets[cost].count {
                let pending = buckets[cost][positions[cost]]
                positions[cost] += 1
                // Queued again later at a lower cost, or already handed out: skip this copy.
                guard lowestCost[pending.text] == cost else { continue }
                lowestCost[pending.text] = handedOut
                let index = texts.count
                texts.append(pending.text)
                origins.append(pending.origin)
                if pending.depth < rules.maximumSteps {
                    for (step, stepCost, text) in rules.steps(from: pending.text)
                    where cost + stepCost <= rules.maximumCost {
                        queue(
                            text, cost: cost + stepCost, depth: pending.depth + 1,
                            origin: Origin(parent: Int32(index), step: step, remembered: pending.origin.remembered))
                    }
                }
                return Variant(text: pending.text, index: index, cost: cost)
            }
        }
        return nil
    }

    /// Which remembered password variant `index` came from, and the steps taken from it, in order.
    public func explanation(of index: Int) -> (remembered: Int, steps: [String]) {
        var steps: [String] = []
        var current = index
        while current >= 0, origins[current].parent >= 0 {
            steps.append(origins[current].step)
            current = Int(origins[current].parent)
        }
        return (Int(origins[index].remembered), steps.reversed())
    }

    private mutating func queue(_ text: String, cost: Int, depth: Int, origin: Origin) {
        if let known = lowestCost[text], known == handedOut || known <= cost { return }
        lowestCost[text] = cost
        buckets[cost].append(Pending(text: text, origin: origin, depth: depth))
    }
}
