import Core
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CVectorscan
import Crypto
import Synchronization

/// A rule set compiled once: one Vectorscan streaming database for all rules plus a PCRE2 regex per rule.
/// Shared by every thread; each thread scans through its own `FileMatcher`.
public final class MatchEngine: @unchecked Sendable {
    public let rules: [Rule]
    /// `sha256:` over every rule's definition and the global allowlist: identifies the rule set in reports and caches.
    public let fingerprint: String
    /// Whether the Vectorscan database came from the on-disk cache rather than being compiled.
    public let databaseWasCached: Bool
    /// Whether any rule has a `pathScope` or `pathAllowlist`, i.e. whether `ruleApplies` can ever say no.
    public let hasPathConditions: Bool
    let database: VectorscanDatabase
    /// The database for binary documents (a NUL in the first kilobyte): the rules that apply to them, those not
    /// `textOnly`. Half the bytes of an image are executables and libraries, where the keyword rows and the generic
    /// rules only ever found strings tables: their candidates there were confirmed by PCRE2 and then dropped. nil
    /// when every rule applies to binary documents.
    let binaryDatabase: VectorscanDatabase?
    /// Per rule: its regex compiled up front (a rule set compiled now), else nil: matchers compile it on first
    /// use (`makeRegex`). Always nil for rules whose detector is not `.regex`.
    let regexes: [PCRE2Regex?]
    /// Per rule, read on every candidate: how far before a match end the secret may start and its capture group.
    let lookBehinds: [Int64]
    /// Per rule: its `lineSpan`.
    let lineSpans: [Int?]
    /// Per rule: its `nameLead`.
    let nameLeads: [NameLead?]
    let secretGroups: [Int]
    /// Per rule: its severity's `rank` (0 low … 3 critical), for caps that keep the most severe.
    public let severityRanks: [Int]
    /// Per rule: which of two rules reporting the same bytes keeps them (higher wins): the severity rank, except
    /// that a rule judging the value alone (`minimumScore`) yields to any rule that knows the format.
    let spanRanks: [Int]
    /// The index of the rule of each non-regex detector the rule set has.
    private let detectorRules: [Detector: Int]
    let ruleAllowlists: [[PCRE2Regex]]
    /// Per rule: its `base64Allowlist`, compiled.
    let base64Allowlists: [[PCRE2Regex]]
    /// Per rule: whether it is `textOnly`.
    let textOnly: [Bool]
    let placeholders: [PCRE2Regex]
    let globalAllowlistRegexes: [PCRE2Regex]
    /// Per rule: its stopwords followed by the global ones, ASCII-lowercased.
    let stopwords: [[[UInt8]]]
    let pathScopes: [PCRE2Regex?]
    let pathAllowlists: [[PCRE2Regex]]
    /// Identifies the exact Vectorscan database (see `databaseInputs`).
    let databaseKey: String
    /// Per rule: the index of its `weakerRule`, if the rule set has it.
    let weakerRules: [Int?]
    /// The rules with a `keywordShape`: the rule's index, its keywords of four or more letters as they may be written
    /// (lower case, `_` as `_`, `-`, `.` or nothing) and the shape, compiled.
    let keywordShapes: [(rule: Int, words: [[UInt8]], regexes: ShapeRegexes)]
    /// `keywordShapes` indices by the first three bytes of each of their words: the rows a context may name, found in
    /// one pass over it rather than a search per row (a thousand rows for each generic candidate).
    let keywordShapesByPrefix: [UInt32: [Int]]
    /// The rules' `tokenPrefix`es by their first byte, each with its token at any length (`keywordNearShape`).
    let tokenPrefixes: [UInt8: [(prefix: [UInt8], near: ShapeRegexes)]]
    /// Per rule: whether it judges the value alone (`minimumScore`: the generic rules).
    let judgesValue: [Bool]
    /// Per rule found by its keywords: those keywords of five or more letters, lower case. A candidate token that
    /// spells one is the provider's name in an identifier (`ringcentral-extensible`, `ElasticAPMSourceMapPlugin`),
    /// not its token: a drawn body spells five given letters about never.
    let namingKeywords: [[[UInt8]]]

    /// Secrets that look like documentation or templates rather than credentials.
    static let placeholderPatterns = [
        placeholderWords,
        #"(?i)your[_-]?(?:api[_-]?)?(?:key|token|secret|password)"#,
        #"(?i)x{8,}|\*{6,}|0{16,}|(?:abcdef|123456){2}"#,
        #"\$\{|\{\{|%\(|%s|<[A-Za-z_-]+>"#,
        // Example values of the specifications every OAuth and JWT library quotes in its documentation and tests:
        // RFC 6749's access and refresh tokens and client, RFC 5849's nonce, jwt.io's and PyJWT's sample payloads.
        #"2YotnFZFEjr1zCsicMWpAA|tGzv3JOkF0XG5Qx2TlKWIA|s6BhdRkqt3|gX1fBat3bV|ad180jjd733klru7|kllo9940pd9333jh|wIwn0fIf8HSqy4"#,
        #"\.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lI|\.eyJzb21lIjoicGF5bG9hZCJ9\."#,
    ]

    /// Words that mark a template, written as people write them: all lower or all upper case anywhere
    /// (`AKIAIOSFODNN7EXAMPLE`), capitalised after a non-letter (`My_Sample_Key`). Any-case matching dropped real
    /// tokens: the base64 or base62 body of a random token spells `DummY` or `sAmPle` once in some hundred
    /// thousand, and a Fly macaroon is long enough for that to matter.
    static let placeholderWords: String = {
        let words = ["example", "dummy", "placeholder", "changeme", "change_me", "redacted", "sample", "fake"]
        let forms = words.flatMap { w in [w, w.uppercased(), "(?<![A-Za-z])" + w.prefix(1).uppercased() + w.dropFirst()] }
        return forms.joined(separator: "|")
    }()

    /// Compiles the rules; throws `SecretsError` naming the first rule that does not compile.
    /// - Parameters:
    ///   - globalAllowlist: PCRE2 patterns; a secret matching any of them is not reported, whatever the rule.
    ///   - globalStopwords: a secret containing any of these (ASCII case-insensitive) is not reported.
    ///   - cache: where compiled Vectorscan databases are kept between runs; nil compiles every time and
    ///     touches no file.
    public init(rules: [Rule], globalAllowlist: [String] = [], globalStopwords: [String] = [],
                cache: DatabaseCache? = DatabaseCache.default) throws {
        self.rules = rules
        fingerprint = MatchEngine.fingerprint(rules: rules, globalAllowlist: globalAllowlist, globalStopwords: globalStopwords)
        let inputs = MatchEngine.databaseInputs(rules: rules, fingerprint: fingerprint)
        databaseKey = inputs.key
        func ruleIDs(_ patterns: [(expression: String, flags: UInt32, id: UInt32)]) -> [String] {
            patterns.map { Int($0.id) < rules.count ? rules[Int($0.id)].id : "(none)" }
        }
        let mainCached: Bool
        if let cache, let cached = cache.load(key: inputs.key) {
            database = cached
            mainCached = true
            // The cache holds only rule sets whose every regex compiled (below): each matcher compiles a rule's
            // regex when the rule first has a candidate, so a start from the cache costs no PCRE2 compile for
            // the hundreds of rules a scan never confirms.
            regexes = Array(repeating: nil, count: rules.count)
        } else {
            database = try VectorscanDatabase(patterns: inputs.patterns, ruleIDs: ruleIDs(inputs.patterns))
            mainCached = false
            regexes = try rules.map { $0.detector == .regex ? try PCRE2Regex($0.regex, ruleID: $0.id) : nil }
            cache?.store(database, key: inputs.key)
        }
        if MatchEngine.hasTextOnlyRules(rules) {
            let binary = MatchEngine.databaseInputs(rules: rules, fingerprint: fingerprint, binary: true)
            if let cache, let cached = cache.load(key: binary.key) {
                binaryDatabase = cached
                databaseWasCached = mainCached
            } else {
                let compiled = try VectorscanDatabase(patterns: binary.patterns, ruleIDs: ruleIDs(binary.patterns))
                binaryDatabase = compiled
                databaseWasCached = false
                cache?.store(compiled, key: binary.key)
            }
        } else {
            binaryDatabase = nil
            databaseWasCached = mainCached
        }
        lookBehinds = rules.map { Int64($0.lookBehind) }
        lineSpans = rules.map(\.lineSpan)
        nameLeads = rules.map(\.nameLead)
        secretGroups = rules.map(\.secretGroup)
        severityRanks = rules.map(\.severity.rank)
        spanRanks = rules.map { $0.minimumScore == nil ? $0.severity.rank : -1 }
        var detectors: [Detector: Int] = [:]
        for (i, r) in rules.enumerated() where r.detector != .regex && detectors[r.detector] == nil { detectors[r.detector] = i }
        detectorRules = detectors
        ruleAllowlists = try rules.map { r in try r.allowlist.map { try PCRE2Regex($0, ruleID: r.id + " (allowlist)") } }
        base64Allowlists = try rules.map { r in try r.base64Allowlist.map { try PCRE2Regex($0, ruleID: r.id + " (base64 allowlist)") } }
        textOnly = rules.map(\.textOnly)
        placeholders = try MatchEngine.placeholderPatterns.map { try PCRE2Regex($0, ruleID: "placeholder") }
        globalAllowlistRegexes = try globalAllowlist.map { try PCRE2Regex($0, ruleID: "global allowlist") }
        let global = globalStopwords.map(MatchEngine.lowercased).filter { !$0.isEmpty }
        stopwords = rules.map { r in r.stopwords.map(MatchEngine.lowercased).filter { !$0.isEmpty } + global }
        pathScopes = try rules.map { r in try r.pathScope.map { try PCRE2Regex($0, ruleID: r.id + " (path)") } }
        pathAllowlists = try rules.map { r in try r.pathAllowlist.map { try PCRE2Regex($0, ruleID: r.id + " (path allowlist)") } }
        hasPathConditions = rules.contains { $0.pathScope != nil || !$0.pathAllowlist.isEmpty }
        let indexOfID = Dictionary(rules.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        weakerRules = rules.map { $0.weakerRule.flatMap { indexOfID[$0] } }
        judgesValue = rules.map { $0.minimumScore != nil }
        var prefixes: [UInt8: [(prefix: [UInt8], near: ShapeRegexes)]] = [:]
        for r in rules {
            guard let p = r.tokenPrefix.map({ Array($0.utf8) }), let b = p.first, let near = r.keywordNearShape else { continue }
            // The anchored pattern is its own whole shape: `ShapeRegexes.exact` anchors it again, which changes nothing.
            prefixes[b, default: []].append((p, ShapeRegexes(ruleID: r.id + " (prefix)", shape: near, near: nil)))
        }
        tokenPrefixes = prefixes
        namingKeywords = rules.map { r in
            // Not a keyword the token's own shape spells (`shippo_test_…`); `_` as written in identifiers too.
            guard let shape = r.keywordShape.map(MatchEngine.lowercased) else { return [] }
            return r.keywords.map { $0.lowercased() }
                .filter { $0.utf8.count >= 5 && !MatchEngine.containsAny(lowered: shape, [MatchEngine.lowercased($0)]) }
                .flatMap { CatalogEntry.spellings(of: $0).map(MatchEngine.lowercased) }
        }
        // Compiled here when the database was (a rule set's first start checks every pattern), else when a generic
        // candidate first asks about the row: a thousand rows' three regexes, JIT-compiled, were most of a start
        // from the cache, and a scan asks about a few rows.
        keywordShapes = try rules.enumerated().compactMap { i, r in
            guard let shape = r.keywordShape else { return nil }
            let words = r.keywords.filter { $0.count >= 4 }.flatMap { CatalogEntry.spellings(of: $0.lowercased()).map(MatchEngine.lowercased) }
            guard !words.isEmpty else { return nil }
            let regexes = ShapeRegexes(ruleID: r.id, shape: shape, near: r.keywordNearShape)
            if !mainCached { _ = try regexes.compiled() }
            return (i, words, regexes)
        }
        var byPrefix: [UInt32: [Int]] = [:]
        for (k, entry) in keywordShapes.enumerated() {
            for w in entry.words {
                // A word of under three bytes (a keyword of four with two separators left out) is looked for always.
                let key = w.count >= 3 ? MatchEngine.prefix(w, 0) : MatchEngine.always
                if byPrefix[key]?.last != k { byPrefix[key, default: []].append(k) }
            }
        }
        keywordShapesByPrefix = byPrefix
    }

    /// Whether `secret` is a provider's token prefix and the token's alphabets at any length (`Rule.tokenPrefix`):
    /// that provider's token, which its own rule reports when it is one, or one cut short or padded.
    func carriesTokenPrefix(_ secret: [UInt8]) -> Bool {
        guard let first = secret.first, let candidates = tokenPrefixes[first] else { return false }
        let value = String(decoding: secret, as: UTF8.self)
        let data = PCRE2MatchData()
        return candidates.contains { c in
            guard secret.count > c.prefix.count, secret.starts(with: c.prefix), let regexes = try? c.near.compiled() else { return false }
            return regexes.exact.matches(value, data: data)
        }
    }

    /// What the text before a generic finding's value says of it (see `providerContext`).
    enum ProviderContext: Equatable {
        /// No provider is named whose token the value is or nearly is.
        case none
        /// A provider is named whose token shape the value fits: the index of that provider's rule, which reports the
        /// value instead of the generic rule (`[INFO] calling the acme API` and then `[DEBUG] using key=…` on the next
        /// line: the name and the value are on different lines, which keyword proximity does not join).
        case provider(Int)
        /// A provider is named whose token the value is, cut short or padded by a few characters, and none whose
        /// token shape it fits.
        case nearMiss
    }

    /// What `context` (the text before a generic finding's value, back a few lines) says of `secret`: whether its
    /// line, or one just before it that assigns nothing (no `=` or `:`: `[INFO] calling the acme API`,
    /// `func validateAcmeKey() {`, not another setting of a `.env` file), names a provider whose token the value is, a
    /// character short or long; and whether its line or the line just before (assigning nothing) names a provider
    /// whose token shape the whole value fits (the first such, its own line first). The YAML mapping or JSON object a
    /// value's line is indented under (`mailgun:` or `"mailgun": {` above `  domain: …` and `  key: …`), or the INI or
    /// TOML section it stands in (`[mailgun]`), counts as a line just before.
    func providerContext(of secret: [UInt8], context: [UInt8]) -> ProviderContext {
        guard !keywordShapes.isEmpty else { return .none }
        // Lowered once here: the loop below asks about a thousand rows.
        let lowered = MatchEngine.lowercased(bytes: context)
        let all = lowered.split(separator: 0x0A, omittingEmptySubsequences: false)
        var lines = Array(all.suffix(4))
        let current = Array(lines.popLast() ?? [])
        let parent = MatchEngine.mappingParent(of: all)
        let before = Array((lines.filter { !$0.contains(0x3D) && !$0.contains(0x3A) } + [parent[...]]).joined(separator: [0x0A]))
        // Only a name on the value's line or the line just before joins a value to a provider's row: further up, with
        // other lines between, the name is the log's or the file's subject, not this value's.
        let previous = lines.last.map { Array($0) } ?? []
        let adjacent = (previous.contains(0x3D) || previous.contains(0x3A) ? [] : previous) + [0x0A] + parent
        var near = false
        var fits: Int?
        let value = String(decoding: secret, as: UTF8.self)
        let data = PCRE2MatchData()
        // The rows a word of which starts somewhere on these lines; the search below tells which really stand there.
        var named = [Bool](repeating: false, count: keywordShapes.count)
        for k in keywordShapesByPrefix[MatchEngine.always] ?? [] { named[k] = true }
        for text in [current, before] where text.count >= 3 {
            for i in 0...(text.count - 3) {
                for k in keywordShapesByPrefix[MatchEngine.prefix(text, i)] ?? [] { named[k] = true }
            }
        }
        for (k, entry) in keywordShapes.enumerated() where named[k] {
            let onLine = MatchEngine.containsAny(lowered: current, entry.words)
            guard onLine || MatchEngine.containsAny(lowered: before, entry.words),
                  let regexes = try? entry.regexes.compiled() else { continue }
            if regexes.exact.matches(value, data: data) {
                if onLine { return .provider(entry.rule) }
                if MatchEngine.containsAny(lowered: adjacent, entry.words) { fits = fits ?? entry.rule }
            } else if regexes.shape.matches(value, data: data) {
                // The provider's token inside a longer value: its own rule reports it where it is.
                return fits.map(ProviderContext.provider) ?? .none
            } else if let n = regexes.near, n.matches(value, data: data) {
                near = true
            }
        }
        if let fits { return .provider(fits) }
        return near ? .nearMiss : .none
    }

    /// The name that opens the mapping the last of `lines` belongs to: for an indented line, the nearest line above
    /// indented less, when it is a name and a `:` alone (YAML's `mailgun:`, `  stripe:  # live`) or a name opening an
    /// object (JSON's `"mailgun": {`, HCL's `mailgun = {`); for a line that is not indented, the INI or TOML section
    /// header above it (`[mailgun]`, `[profile prod]`) when only settings, comments and blank lines stand between.
    /// Else nothing. Blank lines are skipped. The first of `lines` may be the end of a longer line, cut where the
    /// context starts; ending in a name and a `:` alone, it is still one.
    static func mappingParent(of lines: [ArraySlice<UInt8>]) -> [UInt8] {
        guard let current = lines.last, lines.count >= 2 else { return [] }
        let indent = current.prefix { $0 == 0x20 || $0 == 0x09 }.count
        guard indent > 0 else { return sectionHeader(above: lines.dropLast()) }
        for line in lines.dropLast().reversed() {
            let lead = line.prefix { $0 == 0x20 || $0 == 0x09 }.count
            guard lead < line.count else { continue }
            guard lead < indent else { continue }
            var text = trimmed(line.dropFirst(lead))
            if let hash = text.firstIndex(of: 0x23) { text = trimmed(text[..<hash]) }
            // An object opened by its name: `"mailgun": {`, `mailgun = {`.
            var opens = false
            if text.last == 0x7B {
                text = trimmed(text.dropLast())
                opens = true
            }
            guard text.last == 0x3A || (opens && text.last == 0x3D), text.count > 1 else { return [] }
            let name = trimmed(text.dropLast())
            guard !name.isEmpty, name.allSatisfy({ NameLead.isIdentifier($0) || $0 == 0x22 || $0 == 0x27 }) else { return [] }
            return Array(name)
        }
        return []
    }

    /// The INI or TOML section header the lines end under: the nearest `[name]` line above, when every line between
    /// is a setting (`=` or `:`), a comment (`#`, `;`) or blank. Its name: letters, digits, `_`, `.`, `-`, blanks and
    /// quotes (`[remote "origin"]`).
    static func sectionHeader(above lines: ArraySlice<ArraySlice<UInt8>>) -> [UInt8] {
        for line in lines.reversed() {
            let text = trimmed(line.drop { $0 == 0x20 || $0 == 0x09 })
            guard let first = text.first else { continue }
            if first == 0x5B {
                guard text.last == 0x5D, text.count > 2 else { return [] }
                let name = text.dropFirst().dropLast()
                guard name.allSatisfy({ NameLead.isIdentifier($0) || $0 == 0x20 || $0 == 0x22 || $0 == 0x27 }) else { return [] }
                return Array(name)
            }
            if first == 0x23 || first == 0x3B || text.contains(0x3D) || text.contains(0x3A) { continue }
            return []
        }
        return []
    }

    /// `text` without trailing blanks and carriage returns.
    private static func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var t = text
        while let last = t.last, last == 0x20 || last == 0x09 || last == 0x0D { t = t.dropLast() }
        return t
    }

    static func fingerprint(rules: [Rule], globalAllowlist: [String], globalStopwords: [String]) -> String {
        var h = SHA256()
        for r in rules {
            var fields = [r.id, r.severity.rawValue, r.regex, String(r.secretGroup), r.prefilter ?? "", String(r.lookBehind),
                          r.entropy.map { String($0) } ?? "", r.allowlist.joined(separator: "\u{1}")]
            // Appended only when used, so rule sets without them keep their fingerprints.
            if r.pathScope != nil || !r.stopwords.isEmpty || !r.pathAllowlist.isEmpty {
                fields += ["scope:" + (r.pathScope ?? ""), r.stopwords.joined(separator: "\u{1}"),
                           r.pathAllowlist.joined(separator: "\u{1}")]
            }
            if r.detector != .regex || !r.supersedes.isEmpty {
                fields += ["detector:" + r.detector.rawValue, r.supersedes.joined(separator: "\u{1}")]
            }
            if r.confidence != .high || r.mixedCharacters || r.textOnly || !r.base64Allowlist.isEmpty || r.binaryCap != nil {
                fields += ["confidence:" + r.confidence.rawValue, r.mixedCharacters ? "mixed" : "", r.textOnly ? "text" : "",
                           r.base64Allowlist.joined(separator: "\u{1}"), r.binaryCap?.rawValue ?? ""]
            }
            if let score = r.minimumScore { fields += ["score:" + String(score) + "/v" + String(SecretScore.version)] }
            if let structure = r.structure { fields += ["structure:" + structure.rawValue] }
            if let lead = r.nameLead {
                fields += ["lead:\(lead.maxLength)/\(lead.wordReach)", lead.notWorking.joined(separator: "\u{1}"),
                           lead.notAfter.joined(separator: "\u{1}")]
            }
            if r.keywordShape != nil || r.weakerRule != nil {
                fields += ["shape:" + (r.keywordShape ?? ""), "near:" + (r.keywordNearShape ?? ""), "weaker:" + (r.weakerRule ?? "")]
            }
            if let prefix = r.tokenPrefix { fields += ["prefix:" + prefix, "near:" + (r.keywordNearShape ?? "")] }
            h.update(data: Array(fields.joined(separator: "\u{0}").utf8) + [0x1e])
        }
        if !globalAllowlist.isEmpty || !globalStopwords.isEmpty {
            let fields = ["global", globalAllowlist.joined(separator: "\u{1}"), globalStopwords.joined(separator: "\u{1}")]
            h.update(data: Array(fields.joined(separator: "\u{0}").utf8) + [0x1d])
        }
        return "sha256:" + h.finalize().hexString
    }

    /// The patterns handed to Vectorscan and the cache key of the resulting database: the rule-set
    /// fingerprint, a digest of exactly those patterns and flags, the Vectorscan version and the platform.
    /// `binary`: the database for binary documents, without the `textOnly` rules.
    public static func databaseInputs(rules: [Rule], fingerprint: String? = nil,
                                      binary: Bool = false) -> (patterns: [(expression: String, flags: UInt32, id: UInt32)], key: String) {
        // Only regex rules go to Vectorscan, each under its rule index; detectors find their secrets otherwise.
        var patterns: [(expression: String, flags: UInt32, id: UInt32)] = []
        for (i, r) in rules.enumerated() where r.detector == .regex && !(binary && r.textOnly) {
            if let p = r.prefilter {
                let approximate = r.prefilterApproximate ? UInt32(HS_FLAG_PREFILTER) : 0
                patterns.append((p, UInt32(HS_FLAG_DOTALL) | approximate, UInt32(i)))
            } else {
                patterns.append((r.regex, UInt32(HS_FLAG_PREFILTER | HS_FLAG_DOTALL), UInt32(i)))
            }
        }
        if patterns.isEmpty {
            // Vectorscan needs one pattern; this id is past every rule, so its matches are ignored.
            patterns.append(("\\x00\\xff\\x00\\xfe", 0, UInt32(rules.count)))
        }
        var h = SHA256()
        h.update(data: Array((binary ? "mode=stream;binary" : "mode=stream").utf8) + [0])
        for p in patterns { h.update(data: Array("\(p.flags)\u{0}\(p.id)\u{0}\(p.expression)".utf8) + [0x1e]) }
        let digest = h.finalize().hexString
        let fp = fingerprint ?? MatchEngine.fingerprint(rules: rules, globalAllowlist: [], globalStopwords: [])
        return (patterns, "rules=\(fp);db=\(digest);hs=\(VectorscanDatabase.version);platform=\(VectorscanDatabase.platform)")
    }

    /// Whether some regex rule does not apply to binary documents, so that they get a database of their own.
    static func hasTextOnlyRules(_ rules: [Rule]) -> Bool {
        rules.contains { $0.detector == .regex && $0.textOnly }
    }

    /// The cache keys of the databases a `MatchEngine` for `rules` loads (see `databaseInputs`).
    public static func databaseKeys(rules: [Rule]) -> [String] {
        [databaseInputs(rules: rules).key] + (hasTextOnlyRules(rules) ? [databaseInputs(rules: rules, binary: true).key] : [])
    }

    /// Rule `index`'s regex, compiled now; nil for a rule whose detector is not `.regex`.
    func makeRegex(_ index: Int) throws -> PCRE2Regex? {
        let r = rules[index]
        return r.detector == .regex ? try PCRE2Regex(r.regex, ruleID: r.id) : nil
    }

    /// A matcher for one thread.
    public func makeMatcher() throws -> FileMatcher {
        try FileMatcher(engine: self)
    }

    /// Whether rule `ruleIndex` applies to a document at `path` (absolute path in the image; nil for
    /// documents without one: config values, history entries). A rule with a `pathScope` applies only
    /// where the scope matches, and never to path-less documents; a rule's `pathAllowlist` excludes paths.
    /// Patterns are tried on the path as given and without its leading "/", so gitleaks-style relative
    /// patterns (`^config/`) work. Scanners filter `RawHit`s through this; thread-safe.
    public func ruleApplies(_ ruleIndex: Int, toPath path: String?) -> Bool {
        let scope = pathScopes[ruleIndex], allow = pathAllowlists[ruleIndex]
        if scope == nil && allow.isEmpty { return true }
        guard let path else { return scope == nil }
        let data = PCRE2MatchData()
        let forms = path.hasPrefix("/") ? [path, String(path.dropFirst())] : [path]
        if let scope, !forms.contains(where: { scope.matches($0, data: data) }) { return false }
        return !allow.contains { re in forms.contains { re.matches($0, data: data) } }
    }

    /// The rule of detector `detector`, if the rule set has it (it may have been disabled).
    public func rule(for detector: Detector) -> Int? { detectorRules[detector] }

    /// Whether a finding of `secret` by rule `ruleID` gives way to what decoder rule `decoder` read in it: `secret` is
    /// one of the `blobs` the decoder decoded (and found something in), and the decoder `supersedes` the rule. Files
    /// and the config's environment both judge a blob so, which reports a key once, decoded.
    public func givesWay(ruleID: String, secret: String, to decoder: Int, blobs: Set<String>) -> Bool {
        blobs.contains(secret) && rules[decoder].supersedes.contains(ruleID)
    }

    /// Whether rule `index` leaves `secret` out (its allowlists, stopwords, the global allowlist, placeholders).
    public func suppresses(_ secret: String, rule index: Int) -> Bool {
        isAllowed(Array(secret.utf8), rule: index, data: PCRE2MatchData())
    }

    /// Whether a captured secret should be dropped: too little entropy, a placeholder, or allowlisted.
    func isAllowed(_ secret: [UInt8], rule index: Int, data: PCRE2MatchData) -> Bool {
        let rule = rules[index]
        // Ten digits carry at most 3.3 bits a character: a long number the score reads as drawn digits is judged by
        // the score alone, against a random number of its length.
        if let min = rule.entropy, shannonEntropy(secret) < min, rule.minimumScore == nil || !SecretScore.isDrawnNumberShape(secret) {
            return true
        }
        if rule.mixedCharacters && !MatchEngine.hasLetterAndDigit(secret) { return true }
        // Decoded once, when first asked for: by the floor below, and by the last judgement.
        lazy var decoded = base64Text(secret, rule: index, data: data)
        // Base64 of text reads less random than the text (a third of its bits are fixed by the ASCII it encodes):
        // a blob under the floor is still taken when what it wraps is a value the rule would take.
        if let floor = rule.minimumScore, SecretScore.of(secret) < floor,
           !(decoded.map { MatchEngine.wrapsDrawnValue($0, floor: floor) } ?? false) {
            return true
        }
        if SecretScore.isPublishedExample(secret) { return true }
        // Counted-out fill (`1234567`, `a1b2c3d4`, `…def456ghi789…`): a documentation value, which a random token of
        // any alphabet about never holds. A long secret (a private key, a URL) is judged by eight in a row only.
        if secret.count <= 200 ? SecretScore.isCountedFill(secret)
            : SecretScore.longestRun(secret, step: 1) >= 8 || SecretScore.longestRun(secret, step: -1) >= 8 { return true }
        if let structure = rule.structure, !structure.holds(for: secret) { return true }
        if !stopwords[index].isEmpty && MatchEngine.containsAny(secret, stopwords[index]) { return true }
        if !namingKeywords[index].isEmpty && MatchEngine.containsAny(secret, namingKeywords[index]) { return true }
        let text = String(decoding: secret, as: UTF8.self)
        if placeholders.contains(where: { $0.matches(text, data: data) }) { return true }
        if globalAllowlistRegexes.contains(where: { $0.matches(text, data: data) }) { return true }
        if ruleAllowlists[index].contains(where: { $0.matches(text, data: data) }) { return true }
        if let decoded {
            return !MatchEngine.wrapsDrawnValue(decoded, floor: rule.minimumScore)
        }
        return false
    }

    /// What `secret` decodes to when it is base64 of the text rule `index`'s base64 allowlist describes (the
    /// generic rules': printable text, which a decoder or the decoded value judges); nil otherwise.
    func base64Text(_ secret: [UInt8], rule index: Int, data: PCRE2MatchData) -> [UInt8]? {
        guard !base64Allowlists[index].isEmpty, let decoded = Base64.decodeLenient(String(decoding: secret, as: UTF8.self)) else { return nil }
        let plain = String(decoding: decoded, as: UTF8.self)
        return base64Allowlists[index].contains(where: { $0.matches(plain, data: data) }) ? Array(decoded) : nil
    }

    /// Whether `decoded`, the text a generic rule's base64 value stands for, is itself a value the rule would take
    /// (`floor`: its `minimumScore`; nil, a rule that knows its format, never): a key kept base64-encoded, as
    /// ImageKit's `private_…` key or an `id:secret` pair for Basic auth are. Documentation's encodings (`user:pass`,
    /// `mypassword`, a word list) score below the floor and stay left out.
    static func wrapsDrawnValue(_ decoded: [UInt8], floor: Double?) -> Bool {
        guard let floor, decoded.count >= 12 else { return false }
        // An `id:secret` pair is judged by its secret, the part after the last colon.
        let value = decoded.lastIndex(of: 0x3A).map { Array(decoded[($0 + 1)...]) } ?? decoded
        guard value.count >= 12, !value.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return false }
        return SecretScore.of(value) >= floor && !SecretScore.isCountedFill(value) && !SecretScore.isPlaceholder(value)
    }

    static func hasLetterAndDigit(_ secret: [UInt8]) -> Bool {
        var letter = false, digit = false
        for b in secret {
            if b >= 0x30 && b <= 0x39 { digit = true } else if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A { letter = true }
            if letter && digit { return true }
        }
        return false
    }

    /// The key of `keywordShapesByPrefix` for rows looked for always: no three bytes give it.
    static let always = UInt32.max

    /// The three bytes of `bytes` from `i`, as one key.
    static func prefix(_ bytes: [UInt8], _ i: Int) -> UInt32 {
        UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
    }

    static func lowercased<S: StringProtocol>(_ s: S) -> [UInt8] {
        lowercased(bytes: s.utf8)
    }

    /// `bytes` with ASCII capitals lowered.
    static func lowercased<S: Sequence<UInt8>>(bytes: S) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    /// Whether `secret`, ASCII-lowercased, contains one of `words` (already lowercased, non-empty).
    static func containsAny(_ secret: [UInt8], _ words: [[UInt8]]) -> Bool {
        containsAny(lowered: lowercased(bytes: secret), words)
    }

    /// Whether `hay`, already ASCII-lowercased, contains one of `words` (lowercased, non-empty).
    static func containsAny(lowered hay: [UInt8], _ words: [[UInt8]]) -> Bool {
        let n = hay.count
        for w in words where w.count <= n {
            let first = w[0], m = w.count
            var i = 0
            while i + m <= n {
                if hay[i] == first {
                    var j = 1
                    while j < m && hay[i + j] == w[j] { j += 1 }
                    if j == m { return true }
                }
                i += 1
            }
        }
        return false
    }
}

/// A keyword row's shape as regexes (see `MatchEngine.keywordShapes`): the shape anywhere in a value, the whole value,
/// and the shape a character short or long; compiled once, by the first thread that asks.
final class ShapeRegexes: Sendable {
    typealias Compiled = (shape: PCRE2Regex, exact: PCRE2Regex, near: PCRE2Regex?)
    private let ruleID: String
    private let shape: String
    private let near: String?
    private let cache = Mutex<Result<Compiled, any Error>?>(nil)

    init(ruleID: String, shape: String, near: String?) {
        self.ruleID = ruleID
        self.shape = shape
        self.near = near
    }

    func compiled() throws -> Compiled {
        let result = cache.withLock { cached -> Result<Compiled, any Error> in
            if let cached { return cached }
            let result = Result { () throws -> Compiled in
                (try PCRE2Regex(shape, ruleID: ruleID + " (shape)"),
                 try PCRE2Regex("^(?:" + shape + ")$", ruleID: ruleID + " (whole shape)"),
                 try near.map { try PCRE2Regex($0, ruleID: ruleID + " (near shape)") })
            }
            cached = result
            return result
        }
        return try result.get()
    }
}
