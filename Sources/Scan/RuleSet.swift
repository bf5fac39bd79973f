import Reports
import Secrets

/// The rules a run uses: the built-ins, or a gitleaks-format TOML file (which may extend them), plus the path allowlist.
public struct RuleSet {
    public let engine: MatchEngine
    public let pathAllowlist: PathAllowlist?
    /// What a rules file asked for that is ignored or approximated.
    public let warnings: [String]
    /// Every rule findings can carry: the engine's, detectors (credential files, decoders) included.
    public var reportableRules: [Rule] { engine.rules }

    /// Builds the rule set; throws `SecretsError` naming the file or the rule that is wrong.
    public init(rulesFile: String? = nil, defaultPathAllowlist: Bool = true) throws {
        var paths = defaultPathAllowlist ? PathAllowlist.defaultPatterns : []
        if let rulesFile {
            let config = try GitleaksConfig(path: rulesFile)
            engine = try MatchEngine(rules: try config.rules(defaults: BuiltinRules.all), globalAllowlist: config.globalAllowlist,
                                     globalStopwords: config.globalStopwords)
            paths += config.globalPathAllowlist
            warnings = config.warnings.map { "\(rulesFile): \($0)" }
        } else {
            engine = try MatchEngine(rules: BuiltinRules.all)
            warnings = []
        }
        pathAllowlist = paths.isEmpty ? nil : try PathAllowlist(patterns: paths)
    }
}
