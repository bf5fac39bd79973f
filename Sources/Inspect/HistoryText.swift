import Foundation
import OCI
import Secrets

/// History lines as the inspector shows them. Build arguments land in `created_by` (`RUN |1 NPM_TOKEN=…`),
/// and secrets are redacted everywhere by default: every secret the rules find in a line is replaced by its
/// redacted form, as `scan` reports it.
public enum HistoryText {
    /// The config's `created_by` lines, by history index, with every secret `engine` finds redacted.
    /// Throws what the matcher throws.
    public static func redacted(_ history: [ImageConfig.History], engine: MatchEngine) throws -> [String?] {
        let matcher = try engine.makeMatcher()
        return try history.map { h in
            guard var line = h.created_by else { return nil }
            let secrets = try matcher.scan(line).filter { engine.ruleApplies($0.ruleIndex, toPath: nil) }
                .map { String(decoding: $0.secret, as: UTF8.self) }.filter { !$0.isEmpty }
            // Longest first, so that a secret containing another is redacted whole.
            for s in Set(secrets).sorted(by: { $0.count > $1.count }) where line.contains(s) {
                line = line.replacingOccurrences(of: s, with: Redaction.redact(s))
            }
            return line
        }
    }
}
