import Secrets

/// Fresh fake secrets the built-in rules take. About one fresh random draw in a thousand is a value the policy
/// rightly drops (it spells a run the scorer reads as counted fill, or a word, or a template); a test that counts
/// findings exactly, or asserts one particular value is found, draws again rather than fail one run in so many.
public enum TakenSecrets {
    public static let engine = Result { try MatchEngine(rules: BuiltinRules.all) }

    /// A value from `draw` that rule `ruleID` of `engine` (the built-in rules' by default) does not leave out.
    public static func draw(for ruleID: String, in engine: MatchEngine? = nil, _ draw: () -> String) throws -> String {
        let engine = try engine ?? self.engine.get()
        guard let rule = engine.rules.firstIndex(where: { $0.id == ruleID }) else { throw Unknown(ruleID: ruleID) }
        return FakeSecret.judged(draw, rejects: { engine.suppresses($0, rule: rule) })
    }

    public struct Unknown: Error { public let ruleID: String }
}
