import Testing

@testable import CofferModel

@Suite("Strength estimate")
struct StrengthEstimatorTests {
    let estimator = try! StrengthEstimator()

    @Test("common passwords score 0 and say so", arguments: ["password", "123456", "qwerty", "letmein"])
    func commonPasswords(_ password: String) {
        let estimate = estimator.estimate(password)
        #expect(estimate.score == 0)
        #expect(estimate.warning?.contains("common password") == true)
    }

    @Test(
        "each guessable pattern is named in the warning",
        arguments: [
            ("qwertyuiop[]", "keys"), ("aaaaaaaaaaaaaaa", "Repeats"), ("abcdefghijklmnop", "Sequences"),
            ("13/05/1987", "Dates"), ("p@ssw0rd", "commonly used password"),
        ])
    func patterns(_ password: String, _ expected: String) {
        let estimate = estimator.estimate(password)
        #expect(estimate.score <= 2)
        #expect(estimate.warning?.contains(expected) == true, "\(password): \(estimate.warning ?? "no warning")")
        #expect(!estimate.suggestions.isEmpty)
    }

    @Test("l33t substitutions are seen through and named in the suggestions")
    func l33t() {
        let estimate = estimator.estimate("P4$$w0rd")
        #expect(estimate.score <= 1)
        #expect(estimate.suggestions.contains { $0.contains("substitutions") })
    }

    @Test("random passwords and long passphrases score 4")
    func strong() {
        #expect(estimator.estimate("r8#Kq2!vLm9@xZ4w").score == 4)
        #expect(estimator.estimate("correct-horse-battery-staple-amber-fjord").score == 4)
    }

    @Test("the user's own e-mail is as guessable as a common password")
    func userInputs() {
        let estimate = estimator.estimate("alicesmithson", userInputs: ["alicesmithson@example.com"])
        #expect(estimate.score <= 1)
    }

    @Test("the master password policy rejects short ones and warns on weak ones")
    func policy() {
        let policy = MasterPasswordPolicy(estimator: estimator)
        guard case .rejected = policy.check("short") else {
            Issue.record("short accepted")
            return
        }
        guard case .weak(let estimate) = policy.check("password1") else {
            Issue.record("weak not flagged")
            return
        }
        #expect(estimate.warning != nil)
        guard case .acceptable = policy.check("tundra-walrus-pebble-orchid-42") else {
            Issue.record("strong flagged")
            return
        }
    }

    @Test(
        "nothing a person types crashes the estimator",
        arguments: ["", "🔑🔑🔑", String(repeating: "ab1!", count: 200), "\u{0}\u{1}"])
    func noCrash(_ password: String) {
        _ = estimator.estimate(password)
    }
}
