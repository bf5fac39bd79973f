import Foundation
import Testing
import TestSupport
@testable import Secrets

/// gitleaks-format rule files. Secret bodies are random, generated at run time.
@Suite struct GitleaksConfigTests {
    static let lower = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    private func engine(_ config: GitleaksConfig, defaults: [Rule] = BuiltinRules.all) throws -> MatchEngine {
        try MatchEngine(rules: config.rules(defaults: defaults), globalAllowlist: config.globalAllowlist,
                        globalStopwords: config.globalStopwords, cache: nil)
    }

    private func found(_ engine: MatchEngine, _ text: String) throws -> [(String, String)] {
        try engine.makeMatcher().scan(text).map { (engine.rules[$0.ruleIndex].id, String(decoding: $0.secret, as: UTF8.self)) }
    }

    static let acmeConfig = #"""
    title = "acme"

    [extend]
    useDefault = true

    [[rules]]
    id = "acme-api-key"
    description = "Acme API key"
    regex = '''(?i)acme[_-]?key\s*[:=]\s*["']?(acme_[a-z0-9]{32})\b'''
    secretGroup = 1
    entropy = 2.5
    keywords = ["ACME"]
    tags = ["internal", "critical"]

      [[rules.allowlists]]
      stopwords = ["deadbeef"]

      [[rules.allowlists]]
      regexes = ['''^acme_0000''']

    [allowlist]
    description = "global"
    paths = ['''(?:^|/)fixtures/''']
    stopwords = ["notreal"]
    commits = ["0123abcd"]
    """#

    @Test func customRuleFiresAndAllowlistsSuppress() throws {
        let config = try GitleaksConfig(toml: Self.acmeConfig)
        #expect(config.title == "acme")
        let rules = try config.rules(defaults: BuiltinRules.all)
        #expect(rules.count == BuiltinRules.all.count + 1)
        let acme = try #require(rules.last)
        #expect(acme.id == "acme-api-key" && acme.severity == .critical && acme.secretGroup == 1)
        let e = try engine(config)

        let secret = "acme_" + FakeSecret.random(32, Self.lower)
        #expect(try found(e, "ACME_KEY=\"\(secret)\"\n").map(\.1) == [secret])
        #expect(try found(e, "ACME_KEY=\"\(secret)\"\n").map(\.0) == ["acme-api-key"])
        // Rule stopword (case-insensitive), rule regex, global stopword.
        let withStopword = "acme_" + FakeSecret.random(20, Self.lower) + "DEADBEEF".lowercased() + FakeSecret.random(4, Self.lower)
        // (The generic rule may still report the value of `acme_key`, a name whose last word is `key`.)
        #expect(try !found(e, "acme_key=\(withStopword)").contains { $0.0 == "acme-api-key" })
        #expect(try !found(e, "acme_key=acme_0000\(FakeSecret.random(28, Self.lower))").contains { $0.0 == "acme-api-key" })
        #expect(try found(e, "acme_key=acme_\(FakeSecret.random(25, Self.lower))notreal").isEmpty)
        // Defaults kept (useDefault = true).
        let gh = FakeSecret.githubToken()
        #expect(try found(e, "GITHUB_TOKEN=\(gh)").map(\.1) == [gh])

        // Global paths feed PathAllowlist.
        #expect(config.globalPathAllowlist == ["(?:^|/)fixtures/"])
        let paths = try PathAllowlist(patterns: PathAllowlist.defaultPatterns + config.globalPathAllowlist)
        #expect(paths.contains("/app/test/fixtures/key.txt"))
        #expect(!paths.contains("/app/src/key.txt"))
    }

    @Test func useDefaultFalseDropsTheBuiltins() throws {
        let config = try GitleaksConfig(toml: Self.acmeConfig.replacingOccurrences(of: "useDefault = true", with: "useDefault = false"))
        let rules = try config.rules(defaults: BuiltinRules.all)
        #expect(rules.map(\.id) == ["acme-api-key"])
        let e = try engine(config)
        #expect(try found(e, "GITHUB_TOKEN=\(FakeSecret.githubToken())").isEmpty)
        // No [extend] at all: no defaults either.
        #expect(try GitleaksConfig(toml: "[[rules]]\nid = \"x\"\nregex = '''x_[0-9]{8}'''\n").rules(defaults: BuiltinRules.all).map(\.id) == ["x"])
    }

    @Test func aCustomRuleWithABuiltinIDReplacesIt() throws {
        let config = try GitleaksConfig(toml: #"""
        [extend]
        useDefault = true
        disabledRules = ["npm-access-token"]
        [[rules]]
        id = "github-token"
        regex = '''GHTOKEN=(ghp_[A-Za-z0-9]{36})'''
        secretGroup = 1
        """#)
        let rules = try config.rules(defaults: BuiltinRules.all)
        #expect(rules.filter { $0.id == "github-token" }.count == 1)
        #expect(rules.count == BuiltinRules.all.count - 1)
        let index = try #require(rules.firstIndex { $0.id == "github-token" })
        #expect(index == BuiltinRules.all.firstIndex { $0.id == "github-token" }, "replaced in place")
        #expect(rules[index].description == "github-token" && rules[index].severity == .high)
        let e = try engine(config)
        let gh = FakeSecret.githubToken()
        #expect(try !found(e, "token: \(gh)\n").contains { $0.0 == "github-token" }, "the built-in github-token regex is gone")
        #expect(try found(e, "GHTOKEN=\(gh)\n").map(\.1) == [gh])
        #expect(try !found(e, "//registry.npmjs.org/:_authToken=\(FakeSecret.npmToken())").contains { $0.0 == "npm-access-token" }, "disabled")
    }

    @Test func aRuleWithoutRegexExtendsTheBuiltin() throws {
        let config = try GitleaksConfig(toml: #"""
        [extend]
        useDefault = true
        [[rules]]
        id = "github-token"
        [rules.allowlist]
        stopwords = ["qqqq"]
        [[allowlists]]
        targetRules = ["npm-access-token"]
        regexes = ['''^npm_Z''']
        """#)
        let rules = try config.rules(defaults: BuiltinRules.all)
        let gh = try #require(rules.first { $0.id == "github-token" })
        #expect(gh.regex == BuiltinRules.all.first { $0.id == "github-token" }!.regex && gh.stopwords == ["qqqq"])
        let e = try engine(config)
        #expect(try found(e, "ghp_" + FakeSecret.random(30) + "qqqq" + FakeSecret.random(2)).isEmpty)
        #expect(try found(e, "npm_Z" + FakeSecret.random(35)).isEmpty)
        let npm = FakeSecret.npmToken()
        let npmFound = try found(e, npm).map(\.1)
        #expect(npm.hasPrefix("npm_Z") || npmFound == [npm])
        // A regex-less rule that extends nothing is an error naming it.
        let orphan = try GitleaksConfig(toml: "[[rules]]\nid = \"orphan\"\n")
        #expect(throws: SecretsError.self) { try orphan.rules(defaults: []) }
        do { _ = try orphan.rules(defaults: []) } catch { #expect("\(error)".contains("orphan")) }
    }

    @Test func anInvalidRegexNamesItsRule() throws {
        let toml = "[[rules]]\nid = \"broken-paren\"\nregex = '''key=(abc'''\n"
        #expect(throws: SecretsError.self) { try GitleaksConfig(toml: toml) }
        do { _ = try GitleaksConfig(toml: toml) } catch { #expect("\(error)".contains("broken-paren")) }
        // One PCRE2 accepts but Vectorscan rejects is reported by MatchEngine, naming the rule too.
        let config = try GitleaksConfig(toml: "[[rules]]\nid = \"never-matches\"\nregex = '''a\\bb'''\n")
        do { _ = try engine(config); Issue.record("expected a Vectorscan error") } catch {
            #expect("\(error)".contains("never-matches"))
        }
    }

    @Test func unicodeClassesAreRefusedNamingTheRule() throws {
        for regex in [#"token=(\p{L}{20})"#, #"\pN+"#, #"[\p{Greek}]"#, "[é]x"] {
            let toml = "[[rules]]\nid = \"unicode-rule\"\nregex = '''\(regex)'''\n"
            do {
                _ = try GitleaksConfig(toml: toml)
                Issue.record("\(regex) accepted")
            } catch let SecretsError.unsupportedRegex(rule, _) {
                #expect(rule == "unicode-rule")
            }
        }
    }

    /// Go refuses repetition counts above 1000; Vectorscan took over two minutes on `[\s\S]{6,30000}?`, so a rule
    /// file with one would hang the scan's start instead of failing it (found by Fuzz/rules).
    @Test func repetitionsAboveGosLimitAreRefusedAtOnce() throws {
        for regex in [#"-----BEGIN[ A-Z]*KEY-----[\s\S]{6,30000}?-----END"#, "a{1001}", "a{0001001,}", "b{1,99999999999999999999999}"] {
            let toml = "[[rules]]\nid = \"huge-repeat\"\nregex = '''\(regex)'''\n"
            do {
                _ = try GitleaksConfig(toml: toml)
                Issue.record("\(regex) accepted")
            } catch let SecretsError.unsupportedRegex(rule, message) {
                #expect(rule == "huge-repeat" && message.contains("above 1000"), "\(message)")
            }
        }
        let limit = try GitleaksConfig(toml: "[[rules]]\nid = \"at-limit\"\nregex = '''k=([a-z]{6,1000})'''\n")
        let body = "q" + FakeSecret.random(20, Array("abcdefghijklmnopqrstuvwxyz"))
        #expect(try found(engine(limit, defaults: []), "k=\(body)\n").map(\.1) == [body])
    }

    @Test func namedGroupsAreTranslatedAndCapture() throws {
        #expect(try GitleaksConfig.translate(goRegex: "(?P<a>x)(?<b>y)(?:z)", ruleID: "t") == "(x)(y)(?:z)")
        let config = try GitleaksConfig(toml: #"""
        [[rules]]
        id = "named"
        regex = '''(?P<prefix>tok_)(?P<body>[A-Za-z0-9]{24})\b'''
        secretGroup = 2
        [[rules]]
        id = "no-secret-group"
        regex = '''(?:pw|pass)=(?:"([^"]{12,40})"|([A-Za-z0-9]{12,40}))'''
        """#)
        let rules = try config.rules(defaults: [])
        #expect(rules[1].secretGroup == Rule.firstNonEmptyGroup)
        let e = try engine(config, defaults: [])
        let body = FakeSecret.random(24)
        #expect(try found(e, "x tok_\(body) y").map(\.1) == [body])
        // Without secretGroup, gitleaks reports the first non-empty group.
        let pw = FakeSecret.random(16)
        #expect(try found(e, "pass=\(pw)\n").map(\.1) == [pw])
        #expect(try found(e, "pw=\"\(pw)\"\n").map(\.1) == [pw])
        // secretGroup beyond the regex's groups is an error naming the rule.
        do { _ = try GitleaksConfig(toml: "[[rules]]\nid = \"g\"\nregex = '''(a)b'''\nsecretGroup = 2\n"); Issue.record("accepted") } catch {
            #expect("\(error)".contains("rule g"))
        }
    }

    @Test func aPathScopedRuleAppliesOnlyToMatchingFiles() throws {
        let config = try GitleaksConfig(toml: #"""
        [extend]
        useDefault = true
        [[rules]]
        id = "dotenv-secret"
        path = '''\.env$'''
        regex = '''SECRET=([A-Za-z0-9]{20,})'''
        secretGroup = 1
        [[rules]]
        id = "config-dir"
        path = '''^config/'''
        regex = '''CFG=([A-Za-z0-9]{20,})'''
        secretGroup = 1
        [rules.allowlist]
        paths = ['''test''']
        """#)
        let e = try engine(config)
        let i = try #require(e.rules.firstIndex { $0.id == "dotenv-secret" })
        #expect(e.hasPathConditions)
        #expect(e.ruleApplies(i, toPath: "/app/.env"))
        #expect(!e.ruleApplies(i, toPath: "/app/x.txt"))
        #expect(!e.ruleApplies(i, toPath: nil), "config/history documents have no path")
        let c = try #require(e.rules.firstIndex { $0.id == "config-dir" })
        #expect(e.ruleApplies(c, toPath: "/config/app.ini"), "relative gitleaks pattern tried without the leading /")
        #expect(!e.ruleApplies(c, toPath: "/config/test/app.ini"), "rule allowlist path")
        #expect(!e.ruleApplies(c, toPath: "/srv/config/app.ini"))
        let gh = try #require(e.rules.firstIndex { $0.id == "github-token" })
        #expect(e.ruleApplies(gh, toPath: nil) && e.ruleApplies(gh, toPath: "/app/x.txt"))
        // The scanner filters hits; the matcher itself still finds it.
        let hits = try e.makeMatcher().scan("SECRET=\(FakeSecret.random(24))\n")
        #expect(hits.map { e.rules[$0.ruleIndex].id } == ["dotenv-secret"])
        #expect(hits.filter { e.ruleApplies($0.ruleIndex, toPath: "/app/x.txt") }.isEmpty)
    }

    @Test func translation() throws {
        func t(_ s: String) throws -> String { try GitleaksConfig.translate(goRegex: s, ruleID: "t") }
        #expect(try t("(?U)a+b*?c{2,3}") == "a+?b*c{2,3}?")
        #expect(try t("(?iU:a+)b+") == "(?i:a+?)b+")
        #expect(try t("(?i)x") == "(?i)x")
        #expect(try t(#"\Q.+\E"#) == #"\x2e\x2b"#)
        #expect(try t("[[:alpha:]][^]x]") == "[[:alpha:]][^\\]x]")
        #expect(try t(#"\v\x41\x{e9}\101"#) == #"\x0b\x41(?:\xc3\xa9)\x41"#)
        #expect(try t("a{,5}b{2}") == "a\\{,5}b{2}")
        #expect(try t("é+") == #"(?:\xc3\xa9)+"#)
        #expect(try t(#"\z\A\b"#) == #"\z\A\b"#)
        for bad in [#"\C"#, #"\1"#, #"\pL"#, #"\q"#, "[a"] {
            #expect(throws: SecretsError.self, "\(bad)") { try t(bad) }
        }
        // Everything the translator emits compiles in both libraries.
        let samples = ["(?U)a+b*?c{2,3}", #"\Q.+\E"#, "[[:alpha:]]+[^]x]", #"\v\x41\x{e9}\101"#, "a{,5}b{2}", "é+", #"x\z"#]
        let rules = try samples.enumerated().map { Rule(id: "s\($0)", description: "", severity: .low, regex: try t($1), secretGroup: 0) }
        _ = try MatchEngine(rules: rules, cache: nil)
    }

    @Test func allowlistConditionsAndTargets() throws {
        let config = try GitleaksConfig(toml: #"""
        [[rules]]
        id = "k"
        regex = '''k=([a-z0-9]{16})'''
        secretGroup = 1
          [[rules.allowlists]]
          condition = "AND"
          regexes = ['''^aa''']
          stopwords = ["zz"]
          [[rules.allowlists]]
          regexTarget = "line"
          regexes = ['''^bb''']
          [[rules.allowlists]]
          condition = "AND"
          commits = ["abc"]
          regexes = ['''.''']
          [[rules.allowlists]]
          condition = "AND"
          paths = ['''x''']
          stopwords = ["q"]
        """#)
        #expect(config.warnings.count == 3, "\(config.warnings)")
        let e = try engine(config, defaults: [])
        func r(_ n: Int) -> String { FakeSecret.random(n, Self.lower.filter { $0 != "a" && $0 != "b" && $0 != "z" && $0 != "q" }) }
        #expect(try found(e, "k=aa\(r(10))zz\(r(2))").isEmpty, "AND: both match")
        #expect(try found(e, "k=aa\(r(14))").count == 1, "AND: only the regex")
        #expect(try found(e, "k=\(r(2))zz\(r(12))").count == 1, "AND: only the stopword")
        #expect(try found(e, "k=bb\(r(14))").isEmpty, "line target applied to the secret")
        #expect(try found(e, "k=\(r(6))q\(r(9))").count == 1, "AND with paths dropped")

        for (toml, needle) in [("[extend]\npath = \"base.toml\"\n", "path"), ("[extend]\nurl = \"https://x\"\n", "url"),
                               ("[[rules]]\nid = \"c\"\nregex = 'x'\n[[rules.required]]\nid = \"d\"\n", "rule c"),
                               ("[[rules]]\nid = \"s\"\nregex = 'x'\nseverity = \"urgent\"\n", "rule s"),
                               ("[[rules]]\nid = \"a\"\nregex = 'x'\n[rules.allowlist]\ncondition = \"XOR\"\nregexes = ['y']\n", "rule a"),
                               ("not toml = = =", "TOML")] {
            do { _ = try GitleaksConfig(toml: toml); Issue.record("accepted: \(toml)") } catch {
                #expect("\(error)".contains(needle), "\(error)")
            }
        }
        let target = try GitleaksConfig(toml: "[[rules]]\nid = \"a\"\nregex = 'a1'\n[[allowlists]]\ntargetRules = [\"nope\"]\nregexes = ['x']\n")
        do { _ = try target.rules(defaults: []); Issue.record("accepted") } catch { #expect("\(error)".contains("nope")) }
    }
}
