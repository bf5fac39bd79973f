import Core
import TOMLKit

/// A rule file in the gitleaks configuration format (TOML), read into Stowaway rules.
///
/// Supported: `title`; `[extend]` with `useDefault` (Stowaway's built-in rules) and `disabledRules`;
/// `[[rules]]` with `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `path`, `tags` and an
/// optional `severity` (a Stowaway extension: low, medium, high, critical); per-rule allowlists as the legacy
/// `[rules.allowlist]` table or the `[[rules.allowlists]]` array; global allowlists as `[allowlist]` or
/// `[[allowlists]]` (with `targetRules`). Each allowlist may have `regexes`, `paths`, `stopwords`, `commits`,
/// `regexTarget` and `condition`.
///
/// Differences from gitleaks, all chosen to report rather than hide:
/// - `[extend] path` / `url` and `[[rules.required]]` / `skipReport` are refused with an error.
/// - A rule with a `regex` whose id is a default rule's id replaces that rule entirely. A rule *without* a
///   `regex` whose id is a default's adds to it (allowlists, stopwords) and overrides the
///   description, severity, entropy and path it sets.
/// - `commits` never match (an image has no commits): an `OR` allowlist ignores them; an `AND` allowlist
///   listing commits can never match and is dropped.
/// - `keywords` gate nothing: a rule applies to a file whether or not one of its keywords is in it, so at worst
///   more is reported. (Vectorscan already finds every rule's candidates in one pass; measured on 260 MB of
///   Python's library and /usr/share, no PCRE2 confirmation happened in a file without the rule's keyword.)
/// - `regexTarget = "match"` / `"line"`: the regexes are matched against the secret, as for `"secret"`.
///   A regex written for the surrounding line then rarely matches, so at worst more is reported.
/// - An `AND` allowlist combining `paths` with `regexes` or `stopwords` is dropped (the path is not known
///   where secrets are checked); `AND` of regexes and stopwords is honoured.
/// - Paths are absolute paths in the image; patterns are tried with and without the leading "/".
/// - Severity: the `severity` key, else the first of critical/high/medium/low found in `tags`, else high.
/// - Regexes are Go RE2 syntax, translated by `translate(goRegex:ruleID:)`.
/// Anything approximated is listed in `warnings`.
public struct GitleaksConfig: Sendable {
    public var title: String?
    /// `[extend] useDefault`: whether `rules(defaults:)` starts from the defaults.
    public var useDefault: Bool
    /// `[extend] disabledRules`: default rule ids left out.
    public var disabledRules: [String]
    /// Global path allowlist (PCRE2), for `PathAllowlist` alongside its default patterns.
    public var globalPathAllowlist: [String]
    /// Global secret allowlist (PCRE2, matched against the secret), for `MatchEngine(globalAllowlist:)`.
    public var globalAllowlist: [String]
    /// Global stopwords (case-insensitive substrings of the secret), for `MatchEngine(globalStopwords:)`.
    public var globalStopwords: [String]
    /// What was ignored or approximated, one human-readable line each.
    public var warnings: [String]

    /// A `[[rules]]` entry, translated.
    struct Draft: Sendable {
        var id: String
        var description: String?
        var severity: Severity?
        var regex: String?
        var secretGroup: Int
        var entropy: Double?
        var pathScope: String?
        var allow: Effect
        /// Reported with the rule (`stowaway rules --format json`); they gate nothing (see the type's notes).
        var keywords: [String] = []
    }

    /// What allowlists do in Stowaway's terms.
    struct Effect: Sendable {
        var secretRegexes: [String] = []
        var stopwords: [String] = []
        var paths: [String] = []

        mutating func add(_ o: Effect) {
            secretRegexes += o.secretRegexes
            stopwords += o.stopwords
            paths += o.paths
        }
    }

    var drafts: [Draft] = []
    /// Global allowlists with `targetRules`: applied to those rules only.
    var targeted: [(rules: [String], effect: Effect)] = []

    /// Reads the file at `path`.
    public init(path: String) throws {
        guard let bytes = DatabaseCache.readFile(path) else { throw SecretsError.config("cannot read \(path)") }
        try self.init(toml: String(decoding: bytes, as: UTF8.self))
    }

    /// Parses `toml`; throws `SecretsError` naming the rule or key at fault.
    public init(toml: String) throws {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: toml)
        } catch let e as TOMLParseError {
            throw SecretsError.config("invalid TOML: \(e.description) (\(e.source))")
        }
        title = nil
        useDefault = false
        disabledRules = []
        globalPathAllowlist = []
        globalAllowlist = []
        globalStopwords = []
        warnings = []

        warnUnknown(root, known: ["title", "description", "minVersion", "extend", "rules", "allowlist", "allowlists"], in: "top level")
        title = try Self.string(root, "title", "title")

        if let v = root["extend"] {
            guard let extend = v.table else { throw SecretsError.config("[extend] must be a table") }
            warnUnknown(extend, known: ["useDefault", "path", "url", "disabledRules"], in: "[extend]")
            for key in ["path", "url"] where extend[key] != nil {
                throw SecretsError.config("[extend] \(key) is not supported: merge that file's rules into this one, or use useDefault = true")
            }
            useDefault = try Self.bool(extend, "useDefault", "[extend] useDefault") ?? false
            disabledRules = try Self.strings(extend, "disabledRules", "[extend] disabledRules")
        }

        if let v = root["rules"] {
            guard let rules = v.array else { throw SecretsError.config("rules must be an array of tables ([[rules]])") }
            var seen = Set<String>()
            for (i, element) in rules.enumerated() {
                guard let t = element.table else { throw SecretsError.config("rules[\(i)] is not a table") }
                let draft = try parseRule(t, index: i)
                guard seen.insert(draft.id).inserted else { throw SecretsError.config("rule \(draft.id): defined twice") }
                drafts.append(draft)
            }
        }

        var globals: [TOMLTable] = []
        if let v = root["allowlist"] {
            guard let t = v.table else { throw SecretsError.config("[allowlist] must be a table") }
            globals.append(t)
        }
        if let v = root["allowlists"] {
            guard let a = v.array else { throw SecretsError.config("allowlists must be an array of tables ([[allowlists]])") }
            for (i, e) in a.enumerated() {
                guard let t = e.table else { throw SecretsError.config("allowlists[\(i)] is not a table") }
                globals.append(t)
            }
        }
        for (i, t) in globals.enumerated() {
            let context = "global allowlist #\(i + 1)"
            let targets = try Self.strings(t, "targetRules", "\(context) targetRules")
            let effect = try parseAllowlist(t, context: context, ruleID: "global allowlist", global: true)
            if targets.isEmpty {
                globalPathAllowlist += effect.paths
                globalAllowlist += effect.secretRegexes
                globalStopwords += effect.stopwords
            } else {
                targeted.append((targets, effect))
            }
        }
    }

    /// The rule set: the defaults when `useDefault` is set (minus `disabledRules`), with this file's rules
    /// replacing (same id, with a regex), extending (same id, no regex) or added after them.
    public func rules(defaults: [Rule]) throws -> [Rule] {
        var result: [Rule] = []
        if useDefault {
            let disabled = Set(disabledRules)
            result = defaults.filter { !disabled.contains($0.id) }
        }
        for d in drafts {
            let existing = result.firstIndex { $0.id == d.id }
            if let regex = d.regex {
                let rule = Rule(
                    id: d.id, description: d.description ?? d.id, severity: d.severity ?? .high, regex: regex,
                    secretGroup: d.secretGroup, entropy: d.entropy, allowlist: d.allow.secretRegexes,
                    pathScope: d.pathScope, stopwords: d.allow.stopwords, pathAllowlist: d.allow.paths,
                    confidence: .medium, keywords: d.keywords)
                if let existing { result[existing] = rule } else { result.append(rule) }
            } else if let existing {
                var r = result[existing]
                if let v = d.description { r.description = v }
                if let v = d.severity { r.severity = v }
                if let v = d.entropy { r.entropy = v }
                if let v = d.pathScope { r.pathScope = v }
                r.allowlist += d.allow.secretRegexes
                r.stopwords += d.allow.stopwords
                r.pathAllowlist += d.allow.paths
                result[existing] = r
            } else {
                throw SecretsError.config("rule \(d.id): no regex (path-only rules are not supported, and no default rule has this id to extend)")
            }
        }
        for (ids, effect) in targeted {
            for id in ids {
                guard let i = result.firstIndex(where: { $0.id == id }) else {
                    throw SecretsError.config("allowlist targetRules: rule \(id) does not exist")
                }
                result[i].allowlist += effect.secretRegexes
                result[i].stopwords += effect.stopwords
                result[i].pathAllowlist += effect.paths
            }
        }
        return result
    }

    // MARK: - Rules and allowlists

    private mutating func parseRule(_ t: TOMLTable, index: Int) throws -> Draft {
        guard let id = try Self.string(t, "id", "rules[\(index)] id"), !id.isEmpty else {
            throw SecretsError.config("rules[\(index)]: missing id")
        }
        warnUnknown(t, known: ["id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags", "severity",
                               "allowlist", "allowlists", "required", "skipReport"], in: "rule \(id)")
        if t["required"] != nil { throw SecretsError.config("rule \(id): [[rules.required]] (composite rules) is not supported") }
        if try Self.bool(t, "skipReport", "rule \(id) skipReport") == true {
            throw SecretsError.config("rule \(id): skipReport is not supported")
        }

        var regex: String?
        var groups = 0
        if let source = try Self.string(t, "regex", "rule \(id) regex"), !source.isEmpty {
            let translated = try Self.translation(goRegex: source, ruleID: id)
            _ = try PCRE2Regex(translated.pattern, ruleID: id)
            regex = translated.pattern
            groups = translated.captureGroups
        }
        var secretGroup = groups > 0 ? Rule.firstNonEmptyGroup : 0
        if let g = try Self.int(t, "secretGroup", "rule \(id) secretGroup"), g != 0 {
            guard regex != nil else { throw SecretsError.config("rule \(id): secretGroup without regex") }
            guard g > 0 && g <= groups else {
                throw SecretsError.config("rule \(id): secretGroup \(g) but the regex has \(groups) capture group(s)")
            }
            secretGroup = g
        }
        var entropy = try Self.double(t, "entropy", "rule \(id) entropy")
        if let e = entropy, e <= 0 { entropy = nil }

        var pathScope: String?
        if let p = try Self.string(t, "path", "rule \(id) path"), !p.isEmpty {
            pathScope = try Self.translate(goRegex: p, ruleID: id + " (path)")
            _ = try PCRE2Regex(pathScope!, ruleID: id + " (path)")
        }

        let tags = try Self.strings(t, "tags", "rule \(id) tags")
        var severity: Severity?
        if let s = try Self.string(t, "severity", "rule \(id) severity") {
            guard let v = Severity(rawValue: s.lowercased()) else {
                throw SecretsError.config("rule \(id): severity \"\(s)\" is not one of low, medium, high, critical")
            }
            severity = v
        } else {
            let lowered = Set(tags.map { $0.lowercased() })
            severity = Severity.allCases.reversed().first { lowered.contains($0.rawValue) }
        }

        var allow = Effect()
        if let v = t["allowlist"] {
            guard let a = v.table else { throw SecretsError.config("rule \(id): allowlist must be a table") }
            allow.add(try parseAllowlist(a, context: "rule \(id) allowlist", ruleID: id, global: false))
        }
        if let v = t["allowlists"] {
            guard let list = v.array else { throw SecretsError.config("rule \(id): allowlists must be an array of tables") }
            for (i, e) in list.enumerated() {
                guard let a = e.table else { throw SecretsError.config("rule \(id): allowlists[\(i)] is not a table") }
                allow.add(try parseAllowlist(a, context: "rule \(id) allowlist #\(i + 1)", ruleID: id, global: false))
            }
        }
        let description = try Self.string(t, "description", "rule \(id) description").flatMap { $0.isEmpty ? nil : $0 }
        // Kept to be listed, not used to gate: every rule applies whether or not a keyword is in the file (see the
        // type's notes).
        let keywords = try Self.strings(t, "keywords", "rule \(id) keywords")
        return Draft(id: id, description: description, severity: severity, regex: regex, secretGroup: secretGroup,
                     entropy: entropy, pathScope: pathScope, allow: allow, keywords: keywords)
    }

    private mutating func parseAllowlist(_ t: TOMLTable, context: String, ruleID: String, global: Bool) throws -> Effect {
        warnUnknown(t, known: Set(["description", "condition", "commits", "paths", "regexTarget", "regexes", "stopwords"]
                        + (global ? ["targetRules"] : [])), in: context)
        let conditionText = (try Self.string(t, "condition", "\(context) condition") ?? "OR").uppercased()
        let and: Bool
        switch conditionText {
        case "", "OR", "||": and = false
        case "AND", "&&": and = true
        default: throw SecretsError.config("\(context): condition \"\(conditionText)\" is not OR or AND")
        }
        let target = try Self.string(t, "regexTarget", "\(context) regexTarget") ?? "secret"
        switch target {
        case "", "secret": break
        case "match", "line":
            warnings.append("\(context): regexTarget \"\(target)\" is matched against the secret")
        default: throw SecretsError.config("\(context): regexTarget \"\(target)\" is not secret, match or line")
        }
        let commits = try Self.strings(t, "commits", "\(context) commits")
        let paths = try Self.strings(t, "paths", "\(context) paths").map {
            try Self.checked(Self.translate(goRegex: $0, ruleID: "\(ruleID) (allowlist path)"), ruleID: "\(ruleID) (allowlist path)")
        }
        let regexes = try Self.strings(t, "regexes", "\(context) regexes").map {
            try Self.checked(Self.translate(goRegex: $0, ruleID: "\(ruleID) (allowlist)"), ruleID: "\(ruleID) (allowlist)")
        }
        let stopwords = try Self.strings(t, "stopwords", "\(context) stopwords").filter { !$0.isEmpty }

        if !commits.isEmpty && and {
            warnings.append("\(context): AND allowlist with commits never matches in an image; ignored")
            return Effect()
        }
        let kinds = [!paths.isEmpty, !regexes.isEmpty, !stopwords.isEmpty].filter { $0 }.count
        if kinds == 0 {
            if commits.isEmpty { warnings.append("\(context): empty allowlist ignored") }
            return Effect()
        }
        if !and || kinds == 1 {
            // OR, or AND over a single kind of check (any entry of that kind).
            return Effect(secretRegexes: regexes, stopwords: stopwords, paths: paths)
        }
        if !paths.isEmpty {
            warnings.append("\(context): AND of paths with regexes/stopwords is not supported; allowlist ignored")
            return Effect()
        }
        // AND of regexes and stopwords: one pattern, both checked by lookahead on the secret.
        let anyRegex = regexes.map { "(?:\($0))" }.joined(separator: "|")
        let anyStopword = stopwords.map(Self.literal).joined(separator: "|")
        let combined = "\\A(?=[\\s\\S]*?(?:\(anyRegex)))(?=[\\s\\S]*?(?i:\(anyStopword)))"
        return Effect(secretRegexes: [try Self.checked(combined, ruleID: "\(ruleID) (allowlist)")])
    }

    private mutating func warnUnknown(_ t: TOMLTable, known: Set<String>, in context: String) {
        for key in t.keys where !known.contains(key) {
            warnings.append("\(context): unknown key \(key) ignored")
        }
    }

    // MARK: - TOML values

    private static func string(_ t: TOMLTable, _ key: String, _ what: String) throws -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw SecretsError.config("\(what) must be a string") }
        return s
    }

    private static func bool(_ t: TOMLTable, _ key: String, _ what: String) throws -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { throw SecretsError.config("\(what) must be true or false") }
        return b
    }

    private static func int(_ t: TOMLTable, _ key: String, _ what: String) throws -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int else { throw SecretsError.config("\(what) must be an integer") }
        return i
    }

    private static func double(_ t: TOMLTable, _ key: String, _ what: String) throws -> Double? {
        guard let v = t[key] else { return nil }
        if let d = v.double { return d }
        if let i = v.int { return Double(i) }
        throw SecretsError.config("\(what) must be a number")
    }

    private static func strings(_ t: TOMLTable, _ key: String, _ what: String) throws -> [String] {
        guard let v = t[key] else { return [] }
        guard let a = v.array else { throw SecretsError.config("\(what) must be an array of strings") }
        return try a.map { e in
            guard let s = e.string else { throw SecretsError.config("\(what) must be an array of strings") }
            return s
        }
    }

    private static func checked(_ pattern: String, ruleID: String) throws -> String {
        _ = try PCRE2Regex(pattern, ruleID: ruleID)
        return pattern
    }

    /// `s` as a PCRE2 literal (every non-alphanumeric byte hex-escaped).
    static func literal(_ s: String) -> String {
        s.utf8.map { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                ? String(UnicodeScalar(b)) : "\\x" + [b].hexString
        }.joined()
    }

    /// Go RE2 syntax to PCRE2 (see `GoRegex.translation`).
    static func translate(goRegex: String, ruleID: String) throws -> String {
        try GoRegex.translation(goRegex, ruleID: ruleID).pattern
    }

    static func translation(goRegex: String, ruleID: String) throws -> (pattern: String, captureGroups: Int) {
        try GoRegex.translation(goRegex, ruleID: ruleID)
    }
}
