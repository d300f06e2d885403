import Foundation

/// What Coffer asks of a new master password: at least 8 characters, and a warning when it is weak.
public enum MasterPasswordVerdict: Sendable, Equatable {
    /// Too short to accept; the text says why.
    case rejected(String)
    /// Accepted but guessable; show the estimate's warning and a suggestion.
    case weak(StrengthEstimate)
    /// Strong enough.
    case acceptable(StrengthEstimate)
}

/// Checks a proposed master password.
public struct MasterPasswordPolicy: Sendable {
    /// The minimum length, in characters.
    public static let minimumLength = 8
    /// Scores below this get a warning.
    public static let recommendedScore = 3

    private let estimator: StrengthEstimator

    /// Uses `estimator` for the strength part.
    public init(estimator: StrengthEstimator) { self.estimator = estimator }

    /// Judges `password`; `userInputs` (e-mail, name) count as easy to guess.
    public func check(_ password: String, userInputs: [String] = []) -> MasterPasswordVerdict {
        guard password.count >= Self.minimumLength else {
            return .rejected(
                "A master password needs at least \(Self.minimumLength) characters; this one has \(password.count).")
        }
        let estimate = estimator.estimate(password, userInputs: userInputs)
        return estimate.score < Self.recommendedScore ? .weak(estimate) : .acceptable(estimate)
    }
}
