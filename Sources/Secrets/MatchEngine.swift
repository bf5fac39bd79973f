import CVectorscan
import Crypto

/// A rule set compiled once: one Vectorscan streaming database for all rules plus a PCRE2 regex per rule.
/// Shared by every thread; each thread scans through its own `FileMatcher`.
public final class MatchEngine: @unchecked Sendable {
    public let rules: [Rule]
    /// `sha256:` over every rule's definition: identifies the rule set in reports and caches.
    public let fingerprint: String
    let database: VectorscanDatabase
    let regexes: [PCRE2Regex]
    let ruleAllowlists: [[PCRE2Regex]]
    let placeholders: [PCRE2Regex]

    /// Secrets that look like documentation or templates rather than credentials.
    static let placeholderPatterns = [
        #"(?i)example|dummy|placeholder|changeme|change_me|redacted|sample|your[_-]?(?:api[_-]?)?(?:key|token|secret|password)"#,
        #"(?i)x{8,}|\*{6,}|0{16,}|(?:abcdef|123456){2}"#,
        #"\$\{|\{\{|%\(|%s|<[A-Za-z_-]+>"#,
    ]

    /// Compiles the rules; throws `SecretsError` naming the first rule that does not compile.
    public init(rules: [Rule]) throws {
        self.rules = rules
        var patterns: [(String, UInt32)] = []
        for r in rules {
            if let p = r.prefilter {
                patterns.append((p, UInt32(HS_FLAG_DOTALL)))
            } else {
                patterns.append((r.regex, UInt32(HS_FLAG_PREFILTER | HS_FLAG_DOTALL)))
            }
        }
        database = try VectorscanDatabase(patterns: patterns.map { (expression: $0.0, flags: $0.1) }, ruleIDs: rules.map(\.id))
        regexes = try rules.map { try PCRE2Regex($0.regex, ruleID: $0.id) }
        ruleAllowlists = try rules.map { r in try r.allowlist.map { try PCRE2Regex($0, ruleID: r.id + " (allowlist)") } }
        placeholders = try MatchEngine.placeholderPatterns.map { try PCRE2Regex($0, ruleID: "placeholder") }
        var h = SHA256()
        for r in rules {
            let fields = [r.id, r.severity.rawValue, r.regex, String(r.secretGroup), r.prefilter ?? "", String(r.lookBehind),
                          r.entropy.map { String($0) } ?? "", r.allowlist.joined(separator: "\u{1}")]
            h.update(data: Array(fields.joined(separator: "\u{0}").utf8) + [0x1e])
        }
        fingerprint = "sha256:" + h.finalize().map { String(format2: $0) }.joined()
    }

    /// A matcher for one thread.
    public func makeMatcher() throws -> FileMatcher {
        try FileMatcher(engine: self)
    }

    /// Whether a captured secret should be dropped: too little entropy, a placeholder, or allowlisted.
    func isAllowed(_ secret: [UInt8], rule index: Int, data: PCRE2MatchData) -> Bool {
        let rule = rules[index]
        if let min = rule.entropy, shannonEntropy(secret) < min { return true }
        let text = String(decoding: secret, as: UTF8.self)
        if placeholders.contains(where: { $0.matches(text, data: data) }) { return true }
        return ruleAllowlists[index].contains { $0.matches(text, data: data) }
    }
}
