@testable import Secrets

/// The built-in rules compiled once for the suites that run text through them, and what those suites ask of it.
enum BuiltinEngine {
    static let shared = Result { try MatchEngine(rules: BuiltinRules.all) }

    /// The IDs of the rules that report something in `text`, in the matcher's order.
    static func ruleIDs(_ text: [UInt8]) throws -> [String] {
        let engine = try shared.get()
        let matcher = try engine.makeMatcher()
        try matcher.begin()
        try text.withUnsafeBytes { try matcher.feed($0) }
        return try matcher.end().map { engine.rules[$0.ruleIndex].id }
    }

    static func ruleIDs(_ text: String) throws -> [String] { try ruleIDs(Array(text.utf8)) }
}

/// Whether `body`, drawing fresh random values each time, holds for at least `atLeast` of `draws`: the scorer judges
/// a value alone, and one random draw in hundreds reads as a word or an identifier, so a claim about random values is
/// a rate, never one draw (single draws failed fresh-clone runs).
func mostly(_ draws: Int = 20, atLeast: Int = 17, _ body: () throws -> Bool) rethrows -> Bool {
    var held = 0
    for _ in 0..<draws where try body() { held += 1 }
    return held >= atLeast
}
