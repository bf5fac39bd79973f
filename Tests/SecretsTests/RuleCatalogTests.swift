import Testing
@testable import Secrets
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Table-driven examples for every built-in rule: at least one true positive (the rule fires with exactly the
/// expected secret) and one false positive (similar text the rule must not report). Secret bodies are random,
/// generated at test time, so nothing that looks like a real credential is committed.
struct RuleCatalogTests {
    static let all = BuiltinRules.all
    /// The regex rules; detectors (credential files, decoders) are tested by what a scan reports (DetectorTests).
    static let rules = BuiltinRules.all.filter { $0.detector == .regex }
    static let compiled = Result { try MatchEngine(rules: all) }
    static var engine: MatchEngine { get throws { try compiled.get() } }
    static let examples: [CatalogExample] = CatalogExample.all()

    @Test("every rule compiles; ids are unique; the catalogue has at least 1,200 rules")
    func catalogueShape() throws {
        let ids = Self.all.map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate ids: \(Dictionary(grouping: ids, by: { $0 }).filter { $1.count > 1 }.keys.sorted())")
        #expect(ids.count >= 1200)
        for r in Self.rules {
            #expect(!r.description.isEmpty, "\(r.id) has no description")
            #expect(!RuleLiterals.of(r).isEmpty, "\(r.id) has no literal in RuleLiterals or keywords")
            // The generic rule captures its value in the group of the name's kind (password or token alphabet).
            #expect(r.secretGroup == 1 || (r.minimumScore != nil && r.secretGroup == Rule.firstNonEmptyGroup),
                    "\(r.id) should capture the secret in group 1")
        }
        _ = try Self.engine
    }

    @Test("every rule has at least one true-positive and one false-positive example")
    func everyRuleHasExamples() {
        let tps = Set(Self.examples.filter { $0.secret != nil }.map(\.rule))
        let fps = Set(Self.examples.filter { $0.secret == nil }.map(\.rule))
        for r in Self.rules {
            #expect(tps.contains(r.id), "\(r.id) has no true-positive example")
            #expect(fps.contains(r.id), "\(r.id) has no false-positive example")
        }
        let known = Set(Self.rules.map(\.id))
        for e in Self.examples {
            #expect(known.contains(e.rule), "example for unknown rule \(e.rule)")
        }
    }

    /// Whether `text` holds `literal` ignoring case, and ignoring `_`, `-` and `.` as a keyword does (`new_relic`
    /// is in `newRelicToken`; see `CatalogEntry.keywordPattern`).
    static func mentions(_ text: String, _ literal: String) -> Bool {
        func squeezed(_ s: String) -> String { String(s.lowercased().filter { $0 != "_" && $0 != "-" && $0 != "." }) }
        return text.lowercased().contains(literal.lowercased()) || squeezed(text).contains(squeezed(literal))
    }

    @Test("true positives contain one of the rule's literals (case-insensitive)")
    func literalsAppearInTruePositives() throws {
        for e in Self.examples where e.secret != nil {
            let rule = try #require(Self.rules.first { $0.id == e.rule })
            #expect(RuleLiterals.of(rule).contains { Self.mentions(e.text, $0) }, "\(e.rule): no literal in \(e.text.prefix(60))")
        }
    }

    @Test("false positives are near misses: they carry the rule's literal, or a declared one-literal fix makes it fire")
    func falsePositivesAreNearMisses() throws {
        // A false example unlike the rule proves nothing. With the rule's literal, only the regex's shape or a
        // filter turns it away (the example test shows it is); without, the fix names the one feature it lacks.
        let matcher = try Self.engine.makeMatcher()
        for e in Self.examples where e.secret == nil {
            let rule = try #require(Self.rules.first { $0.id == e.rule })
            if let fix = e.fix {
                #expect(e.text.contains(fix.from), "\(e.rule): the fix does not apply")
                let fixed = e.text.replacing(fix.from, with: fix.to)
                let rules = try Self.engine.rules
                let fired = try matcher.scan(fixed).contains { rules[$0.ruleIndex].id == e.rule }
                #expect(fired, "\(e.rule) does not fire on the fixed example \(fixed.prefix(100))")
            } else {
                #expect(RuleLiterals.of(rule).contains { Self.mentions(e.text, $0) }, "\(e.rule): no literal in \(e.text.prefix(80))")
            }
        }
    }

    /// Opt-in: `STOWAWAY_CORPUS=/usr/lib/python3.11:/etc swift test --filter RuleCatalogTests` scans those
    /// trees and fails on any critical or high finding (clean Debian and Python's test suite must have none).
    @Test(.enabled(if: getenv("STOWAWAY_CORPUS") != nil))
    func cleanCorpusHasNoSevereFindings() throws {
        let roots = String(cString: getenv("STOWAWAY_CORPUS")!).split(separator: ":").map(String.init)
        let matcher = try Self.engine.makeMatcher()
        var files = 0
        for root in roots {
            for path in CorpusWalker.files(under: root) {
                guard let bytes = CorpusWalker.read(path) else { continue }
                files += 1
                try matcher.begin()
                try bytes.withUnsafeBytes { try matcher.feed($0) }
                for h in try matcher.end() {
                    let rule = try Self.engine.rules[h.ruleIndex]
                    let secret = String(decoding: h.secret.prefix(80), as: UTF8.self)
                    print("corpus: \(rule.severity.rawValue) \(rule.id) \(path):\(h.line) \(secret)")
                    #expect(rule.severity < .high, "\(rule.id) in \(path):\(h.line): \(secret)")
                }
            }
        }
        print("corpus: scanned \(files) files")
    }

    @Test(arguments: RuleCatalogTests.examples)
    func example(_ e: CatalogExample) throws {
        let matcher = try Self.engine.makeMatcher()
        let hits = try matcher.scan(e.text)
        let rules = try Self.engine.rules
        let found = hits.filter { rules[$0.ruleIndex].id == e.rule }.map { String(decoding: $0.secret, as: UTF8.self) }
        let all = hits.map { "\(rules[$0.ruleIndex].id)=\(String(decoding: $0.secret, as: UTF8.self).prefix(40))" }
        if let secret = e.secret {
            #expect(found.contains(secret), "\(e.rule) did not report \(secret.prefix(60)) in \(e.text.prefix(120)); hits: \(all)")
        } else {
            #expect(found.isEmpty, "\(e.rule) fired on a false positive: \(found) in \(e.text.prefix(120))")
        }
    }
}

/// One table row: `secret == nil` means the rule must not fire on `text`.
struct CatalogExample: Sendable, CustomTestStringConvertible {
    let rule: String
    let text: String
    let secret: String?
    /// For a false example without the rule's literal: the literal to replace, and by what, for the rule to fire
    /// (the distinguishing feature the example lacks).
    var fix: (from: String, to: String)? = nil

    var testDescription: String { (secret == nil ? "FP " : "TP ") + rule + ": " + String(text.prefix(50)) }
}

// MARK: Random material

/// Random strings over an alphabet, each symbol used about equally often so entropy gates always pass.
enum Gen {
    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let lower = Array("abcdefghijklmnopqrstuvwxyz")
    static let digits = Array("0123456789")
    static let hex = Array("0123456789abcdef")
    static let letters = upper + lower
    static let alnum = upper + lower + digits
    static let upperDigits = upper + digits
    static let lowerDigits = lower + digits
    static let b64 = alnum + Array("+/")
    static let url = alnum + Array("-_")
    static let crypt = alnum + Array("./")
    static let bech32 = Array("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")

    /// `count` characters of `alphabet` drawn uniformly, with no judgement: for tests that measure how often the
    /// policy misjudges raw draws. Every other random value goes through `rand` or `judged`.
    static func raw(_ count: Int, _ alphabet: [Character]) -> String {
        var rng = SystemRandomNumberGenerator()
        var out: [Character] = []
        while out.count < count { out += alphabet.shuffled(using: &rng) }
        return String(out.prefix(count).shuffled(using: &rng))
    }

    /// `count` characters of `alphabet` that the shared scorer calls random (see `policyRejects`), holding a letter
    /// and a digit whenever the alphabet has both and the body is long enough to: catalogue rows require both (real
    /// keys of such alphabets have them), and about one random 28-character body in a hundred has no digit.
    static func rand(_ count: Int, _ alphabet: [Character]) -> String {
        let mixed = count >= 8 && alphabet.contains(where: \.isLetter) && alphabet.contains(where: \.isNumber)
        return judged({ raw(count, alphabet) }, rejects: { s in
            policyRejects(s) || (mixed && !(s.contains(where: \.isLetter) && s.contains(where: \.isNumber)))
        })
    }

    /// A draw of `make` that `rejects` (by default the shared scorer, `policyRejects`; for a catalogue row's whole
    /// token, the row's own rule) does not turn away (`FakeSecret.judged`).
    static func judged(_ make: () -> String, rejects: (String) -> Bool = policyRejects) -> String {
        FakeSecret.judged(make, rejects: rejects)
    }

    /// Whether the shared scorer judges `value` not drawn at random: fill or a placeholder (a character four or five
    /// times over, a run of consecutive characters, letters and digits counted out: `SecretScore.isPlaceholder`,
    /// `isCountedFill`), or words (`bodyReadsAsWords`).
    static func policyRejects(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        return SecretScore.isPlaceholder(bytes) || SecretScore.isCountedFill(bytes) || SecretScore.bodyReadsAsWords(bytes)
    }

    static func A(_ n: Int) -> String { rand(n, alnum) }
    static func H(_ n: Int) -> String { rand(n, hex) }
    static func W(_ n: Int) -> String { rand(n, url) }
    static func B(_ n: Int) -> String { rand(n, b64) }
    static func D(_ n: Int) -> String { rand(n, digits) }
    static func UD(_ n: Int) -> String { rand(n, upperDigits) }
    static func LD(_ n: Int) -> String { rand(n, lowerDigits) }
    static func L(_ n: Int) -> String { rand(n, letters) }
    static func uuid() -> String { "\(H(8))-\(H(4))-\(H(4))-\(H(4))-\(H(12))" }

    /// Standard base64 with padding.
    static func base64(_ s: String) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let bytes = Array(s.utf8)
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            out.append(table[Int((v >> 18) & 63)])
            out.append(table[Int((v >> 12) & 63)])
            out.append(n > 1 ? table[Int((v >> 6) & 63)] : "=")
            out.append(n > 2 ? table[Int(v & 63)] : "=")
            i += 3
        }
        return out
    }
}

/// Collects the table.
struct Catalogue {
    var rows: [CatalogExample] = []

    /// True positive: `template` with `@S@` replaced by `secret`.
    mutating func tp(_ rule: String, _ secret: String, _ template: String = "found @S@ here\n") {
        rows.append(CatalogExample(rule: rule, text: template.replacing("@S@", with: secret), secret: secret))
    }

    /// False positive: `rule` must not fire anywhere in `text`, which is a near miss: it has one of the rule's
    /// literals (`RuleLiterals`), or replacing `fix.from` by `fix.to` makes the rule fire.
    mutating func fp(_ rule: String, _ text: String, fix: (from: String, to: String)? = nil) {
        rows.append(CatalogExample(rule: rule, text: text, secret: nil, fix: fix))
    }
}


// MARK: The table

extension CatalogExample {
    static func all() -> [CatalogExample] {
        var c = Catalogue()
        existing(&c)
        cloud(&c)
        devTools(&c)
        saas(&c)
        ai(&c)
        files(&c)
        connections(&c)
        catalogue(&c)
        mechanisms(&c)
        generic(&c)
        return c.rows
    }

    /// Rules in BuiltinRules.all.
    static func existing(_ c: inout Catalogue) {
        typealias G = Gen
        let m1 = "fm2_" + G.B(120), m2 = "fm2_" + G.B(120)
        c.tp("flyio-macaroon-bundle", "FlyV1 \(m1),\(m2)", "ENV FLY_API_TOKEN=\"@S@\"\n")
        c.fp("flyio-macaroon-bundle", "FLY_API_TOKEN=\"FlyV1 fm2_short\"\n")
        c.fp("flyio-macaroon-bundle", "FlyV2 fm2_\(G.B(30))\n", fix: ("FlyV2", "FlyV1"))
        c.tp("flyio-macaroon", "fm2_" + G.B(140), "password: @S@\n")
        c.fp("flyio-macaroon", "fm2_\(G.B(40))\n")
        c.tp("flyio-access-token", "fo1_" + G.W(43), "FLY_ACCESS_TOKEN=@S@\n")
        c.fp("flyio-access-token", "fo1_" + String(repeating: "x", count: 43) + "\n")
        c.fp("flyio-access-token", "fo1_\(G.W(30))\n")
        c.tp("aws-access-key-id", "AKIA" + G.rand(16, Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")), "aws_access_key_id = @S@\n")
        c.fp("aws-access-key-id", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
        c.fp("aws-access-key-id", "AKIA\(G.rand(16, Gen.lower))\n")
        c.tp("aws-secret-access-key", G.rand(40, Gen.b64), "aws_secret_access_key = @S@\n")
        c.fp("aws-secret-access-key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
        c.tp("github-token", "ghp_" + G.A(36), "GH_PAT=@S@\n")
        c.fp("github-token", "ghp_\(G.A(35)) \n")
        c.tp("github-fine-grained-pat", "github_pat_" + G.rand(82, Gen.alnum + ["_"]), "token: @S@\n")
        c.fp("github-fine-grained-pat", "github_pat_\(G.A(40))\n")
        c.tp("gitlab-pat", "glpat-" + G.W(20), "CI_TOKEN=@S@\n")
        c.fp("gitlab-pat", "glpat-\(G.W(12))\n")
        c.tp("stripe-live-key", "sk_live_" + G.A(24), "stripe.api_key = \"@S@\"\n")
        c.fp("stripe-live-key", "sk_live_\(G.A(10))\n")
        c.tp("slack-token", "xoxb-\(G.D(12))-\(G.D(12))-\(G.A(24))")
        c.fp("slack-token", "xoxq-\(G.D(12))-\(G.D(12))-\(G.A(24))\n", fix: ("xoxq-", "xoxb-"))
        c.tp("slack-webhook-url", "https://hooks.slack.com/services/T\(G.UD(8))/B\(G.UD(8))/\(G.A(24))")
        c.fp("slack-webhook-url", "https://hooks.slack.com/services/T000/B000/short\n")
        c.tp("slack-webhook-url", "https://hooks.slack.com/workflows/T\(G.UD(9))/A\(G.UD(10))/\(G.D(18))/\(G.A(24))")
        c.fp("slack-webhook-url", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n")
        c.tp("npm-access-token", "npm_" + G.A(36), "//registry.npmjs.org/:_authToken=@S@\n")
        c.fp("npm-access-token", "npm_\(G.A(20))\n")
        c.tp("sendgrid-api-key", "SG.\(G.W(22)).\(G.W(43))")
        c.fp("sendgrid-api-key", "SG.\(G.W(10)).\(G.W(43))\n")
        let pem = (0..<8).map { _ in G.B(64) }.joined(separator: "\n")
        c.tp("private-key", "-----BEGIN RSA PRIVATE KEY-----\n\(pem)\n-----END RSA PRIVATE KEY-----", "@S@\n")
        c.fp("private-key", "-----BEGIN PUBLIC KEY-----\n\(pem)\n-----END PUBLIC KEY-----\n", fix: ("PUBLIC KEY", "RSA PRIVATE KEY"))
        // Its newlines taken out, as an environment variable holds it; a run too short to be a key is not one.
        let run = (0..<8).map { _ in G.B(64) }.joined()
        c.tp("private-key", "-----BEGIN PRIVATE KEY-----\(run)-----END PRIVATE KEY-----", "PRIVATE_KEY=\"@S@\"\n")
        c.fp("private-key", "PRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\(G.B(40))-----END PRIVATE KEY-----\"\n")
        c.tp("database-url-password", G.A(16), "DATABASE_URL=postgres://app:@S@@db.internal:5432/app\n")
        c.fp("database-url-password", "DATABASE_URL=postgres://app:password@db/app\n")
        // A short password people chose, one letter twice (`risima`): 2.25 bits a character, all six can carry.
        let chosen = G.judged({ let l = Array(Gen.lower.shuffled().prefix(5)); return String((l + [l[2]]).shuffled()) })
        c.tp("database-url-password", chosen, "mongodb://shop:@S@@db1.corp.test:27017,db2.corp.test:27017/shop\n")
        c.fp("database-url-password", "mongodb://shop:abab@db1.corp.test:27017/shop\n")
        // A driver after the scheme (SQLAlchemy), other databases and brokers, and Redis's password without a user.
        c.tp("database-url-password", G.A(16), "SQLALCHEMY_DATABASE_URI = 'mysql+pymysql://app:@S@@db/app'\n")
        c.tp("database-url-password", G.A(16), "mssql+pyodbc://sa:@S@@db:1433/app?driver=ODBC+Driver+18\n")
        c.tp("database-url-password", G.A(16), "clickhouse://default:@S@@ch.internal:9000/default\n")
        c.tp("database-url-password", G.A(24), "CELERY_BROKER_URL=redis://:@S@@redis:6379/0\n")
        c.fp("database-url-password", "CELERY_BROKER_URL=redis://redis:6379/0\n")
    }

    static func cloud(_ c: inout Catalogue) {
        typealias G = Gen
        c.tp("aws-session-token", G.B(300), "AWS_SESSION_TOKEN=@S@\n")
        c.tp("aws-session-token", G.B(200), "x-amz-security-token: @S@\n")
        c.fp("aws-session-token", "AWS_SESSION_TOKEN=\(G.B(50))\n")
        c.tp("aws-mws-auth-token", "amzn.mws.\(G.uuid())")
        c.fp("aws-mws-auth-token", "amzn.mws.1234\n")
        c.tp("aws-bedrock-api-key", "ABSKQmVkcm9ja0FQSUtleS" + G.B(120), "AWS_BEARER_TOKEN_BEDROCK=@S@\n")
        c.fp("aws-bedrock-api-key", "ABSKQmVkcm9ja0FQSUtleS\(G.B(30))\n")
        c.tp("aws-bedrock-short-term-key", "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + G.B(200))
        c.fp("aws-bedrock-short-term-key", "bedrock-api-key-\(G.B(60))\n")
        c.tp("gcp-api-key", "AIza" + G.W(35), "\"api_key\": \"@S@\"\n")
        c.fp("gcp-api-key", "AIza\(G.W(30))\n")
        c.tp("gcp-service-account-key-id", G.H(40), "{\"type\": \"service_account\", \"private_key_id\": \"@S@\",\n")
        c.fp("gcp-service-account-key-id", "\"private_key_id\": \"\(G.H(20))\"\n")
        c.tp("gcp-oauth-client-secret", "GOCSPX-" + G.W(28), "\"client_secret\":\"@S@\"\n")
        c.fp("gcp-oauth-client-secret", "GOCSPX-\(G.W(20))\n")
        c.tp("google-oauth-refresh-token", "1//0" + G.W(100), "refresh_token: @S@\n")
        c.fp("google-oauth-refresh-token", "x = 1//0\nassertRaises(ZeroDivisionError, lambda: 1//0)\n")
        c.tp("google-oauth-access-token", "ya29." + G.W(120))
        c.fp("google-oauth-access-token", "ya29.\(G.W(10))\n")
        c.tp("azure-storage-account-key", G.B(86) + "==",
             "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=@S@;EndpointSuffix=core.windows.net\n")
        c.fp("azure-storage-account-key", "AccountKey=\(G.B(40))==\n")
        c.tp("azure-shared-access-key", G.B(42) + "A=",
             "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=@S@\n")
        c.fp("azure-shared-access-key", "SharedAccessKey=\(G.B(20))=\n")
        c.tp("azure-sas-token", G.A(43) + "%3D",
             "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=@S@\n")
        c.fp("azure-sas-token", "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&sig=short\n")
        c.fp("azure-sas-token", "<code>sp=r&amp;sv=2021-08-06&amp;sr=c&amp;sig=\(G.A(43))%3D</code>\n")
        c.tp("azure-sas-token", G.A(43) + "%3D", "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=@S@\n")
        c.tp("azure-ad-client-secret", G.A(3) + G.D(1) + "Q~" + G.A(34), "AZURE_CLIENT_SECRET=\"@S@\"\n")
        c.fp("azure-ad-client-secret", "\(G.A(3))\(G.D(1))Q~\(G.A(10))\n")
        c.tp("azure-devops-pat", G.rand(52, Array("abcdefghijklmnopqrstuvwxyz234567")), "AZURE_DEVOPS_PAT=@S@\n")
        c.fp("azure-devops-pat", "AZURE_DEVOPS_PAT=\(G.rand(40, Array("abcdefghijklmnopqrstuvwxyz234567")))\n")
        c.tp("azure-devops-pat-v2", G.A(76) + "AZDO" + G.A(4))
        c.fp("azure-devops-pat-v2", "\(G.A(70))AZDO\(G.A(4))\n")
        c.tp("azure-openai-key", G.H(32), "AZURE_OPENAI_API_KEY=@S@\n")
        c.fp("azure-openai-key", "AZURE_OPENAI_API_KEY=\(G.H(16))\n")
        c.tp("azure-app-configuration-secret", G.B(43) + "=",
             "Endpoint=https://cfg.azconfig.io;Id=\(G.A(4))-l0-s0:\(G.A(20));Secret=@S@\n")
        c.fp("azure-app-configuration-secret", "Endpoint=https://cfg.azconfig.io;Id=abc;Secret=\(G.B(10))\n")
        c.tp("alibaba-access-key-id", "LTAI" + G.A(20))
        c.fp("alibaba-access-key-id", "LTAI\(G.A(8))\n")
        c.tp("alibaba-access-key-secret", G.A(30), "ALIBABA_CLOUD_ACCESS_KEY_SECRET=@S@\n")
        c.fp("alibaba-access-key-secret", "ALIBABA_CLOUD_REGION=cn-hangzhou\n")
        c.tp("ibm-cloud-api-key", G.W(44), "IBMCLOUD_API_KEY=@S@\n")
        c.fp("ibm-cloud-api-key", "IBMCLOUD_API_KEY=\(G.W(20))\n")
        c.tp("digitalocean-pat", "dop_v1_" + G.H(64))
        c.fp("digitalocean-pat", "dop_v1_\(G.H(63))\n")
        c.tp("digitalocean-oauth-token", "doo_v1_" + G.H(64))
        c.fp("digitalocean-oauth-token", "doo_v1_\(G.H(40))\n")
        c.tp("digitalocean-refresh-token", "dor_v1_" + G.H(64))
        c.fp("digitalocean-refresh-token", "dor_v1_\(G.H(40))\n")
        c.tp("linode-token", G.H(64), "LINODE_TOKEN=@S@\n")
        c.fp("linode-token", "LINODE_TOKEN=\(G.H(32))\n")
        c.tp("vultr-api-key", G.UD(36), "VULTR_API_KEY=@S@\n")
        c.fp("vultr-api-key", "VULTR_API_KEY=\(G.LD(36))\n")
        c.tp("hetzner-cloud-token", G.A(64), "HCLOUD_TOKEN=@S@\n")
        c.fp("hetzner-cloud-token", "HCLOUD_TOKEN=\(G.A(32))\n")
        c.tp("scaleway-secret-key", G.uuid(), "SCW_SECRET_KEY=@S@\n")
        c.fp("scaleway-secret-key", "SCW_ACCESS_KEY=SCW\(G.UD(17))\n")
        c.tp("heroku-api-key", G.uuid(), "HEROKU_API_KEY=@S@\n")
        c.fp("heroku-api-key", "HEROKU_APP_NAME=my-app\n")
        c.tp("heroku-api-key-v2", "HRKU-AA" + G.W(58))
        c.fp("heroku-api-key-v2", "HRKU-AB\(G.W(58))\n")
        c.tp("cloudflare-api-token", G.W(40), "CLOUDFLARE_API_TOKEN=@S@\n")
        c.fp("cloudflare-api-token", "CLOUDFLARE_API_TOKEN=\(G.W(30))\n")
        c.tp("cloudflare-global-api-key", G.H(37), "CLOUDFLARE_API_KEY=@S@\n")
        c.fp("cloudflare-global-api-key", "CLOUDFLARE_EMAIL=ops@corp.test\n")
        c.tp("cloudflare-origin-ca-key", "v1.0-\(G.H(24))-\(G.H(146))")
        c.fp("cloudflare-origin-ca-key", "v1.0-\(G.H(24))-\(G.H(100))\n")
        c.tp("vercel-token", G.A(24), "VERCEL_TOKEN=@S@\n")
        c.fp("vercel-token", "VERCEL_ORG_ID=team_\(G.A(24))\n")
        c.tp("netlify-token", G.W(43), "NETLIFY_AUTH_TOKEN=@S@\n")
        c.fp("netlify-token", "NETLIFY_AUTH_TOKEN=\(G.W(20))\n")
        c.tp("netlify-pat", "nfp_" + G.A(36))
        c.fp("netlify-pat", "nfp_\(G.A(20))\n")
        c.tp("render-api-key", "rnd_" + G.A(32))
        c.fp("render-api-key", "rnd_\(G.A(31))\n")
        c.tp("scalingo-api-token", "tk-us-" + G.W(48))
        c.fp("scalingo-api-token", "tk-us-\(G.W(20))\n")
        c.tp("tailscale-key", "tskey-auth-\(G.A(12))-\(G.A(33))")
        c.fp("tailscale-key", "tskey-foo-\(G.A(12))-\(G.A(33))\n")
        c.tp("ngrok-authtoken", G.A(27) + "_" + G.A(21), "NGROK_AUTHTOKEN=@S@\n")
        c.fp("ngrok-authtoken", "NGROK_AUTHTOKEN=\(G.A(10))\n")
        c.tp("vault-service-token", "hvs." + G.W(95), "VAULT_TOKEN=@S@\n")
        c.fp("vault-service-token", "hvs.\(G.W(10))\n")
        c.tp("vault-batch-token", "hvb." + G.W(140))
        c.fp("vault-batch-token", "hvb.\(G.W(50))\n")
        c.tp("vault-legacy-token", "s." + G.A(24), "VAULT_TOKEN=@S@\n")
        c.fp("vault-legacy-token", "VAULT_TOKEN=s.\(G.A(10))\n")
        c.tp("terraform-cloud-token", "\(G.A(14)).atlasv1.\(G.W(67))")
        c.fp("terraform-cloud-token", "\(G.A(14)).atlasv2.\(G.W(67))\n", fix: (".atlasv2.", ".atlasv1."))
        c.tp("kubernetes-service-account-token", "eyJ\(G.W(30)).eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50\(G.W(100)).\(G.W(86))",
             "token: @S@\n")
        c.fp("kubernetes-service-account-token", "eyJ\(G.W(30)).eyJ\(G.W(60)).\(G.W(43))\n", fix: (".eyJ", ".eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50"))
        c.tp("openshift-user-token", "sha256~" + G.W(43))
        c.fp("openshift-user-token", "sha256~\(G.W(20))\n")
        c.tp("docker-hub-token", "dckr_pat_" + G.W(27), "docker login -u ci -p @S@\n")
        c.fp("docker-hub-token", "dckr_pat_\(G.W(10))\n")
        c.tp("jfrog-api-key", "AKCp" + G.A(69))
        c.fp("jfrog-api-key", "AKCp\(G.A(30))\n")
        c.tp("jfrog-reference-token", "cmVmdGtuOjAxOjE" + G.A(49))
        c.fp("jfrog-reference-token", "cmVmdGtuOjAxOjE\(G.A(20))\n")
    }

    static func devTools(_ c: inout Catalogue) {
        typealias G = Gen
        c.tp("github-oauth-client-secret", G.H(40), "GITHUB_CLIENT_SECRET=@S@\n")
        c.fp("github-oauth-client-secret", "GITHUB_CLIENT_SECRET=\(G.H(20))\n")
        c.tp("github-legacy-token", G.H(40), "GITHUB_TOKEN=@S@\n")
        c.fp("github-legacy-token", "GITHUB_TOKEN=\(G.H(39))\n")
        c.tp("gitlab-pat-routable", "glpat-\(G.W(30)).01\(G.LD(7))")
        c.fp("gitlab-pat-routable", "glpat-\(G.W(30)).01\(G.LD(3))\n")
        c.tp("gitlab-deploy-token", "gldt-" + G.W(20))
        c.fp("gitlab-deploy-token", "gldt-\(G.W(10))\n")
        c.tp("gitlab-runner-token", "glrt-" + G.W(20))
        c.fp("gitlab-runner-token", "glrt-\(G.W(10))\n")
        c.tp("gitlab-runner-registration-token", "GR1348941" + G.W(20))
        c.fp("gitlab-runner-registration-token", "GR1348941\(G.W(10))\n")
        c.tp("gitlab-pipeline-trigger-token", "glptt-" + G.H(40))
        c.fp("gitlab-pipeline-trigger-token", "glptt-\(G.H(10))\n")
        c.tp("gitlab-oauth-app-secret", "gloas-" + G.W(64))
        c.fp("gitlab-oauth-app-secret", "gloas-\(G.W(30))\n")
        c.tp("gitlab-feed-token", "glft-" + G.W(20))
        c.fp("gitlab-feed-token", "glft-\(G.W(10))\n")
        c.tp("gitlab-incoming-mail-token", "glimt-" + G.W(25))
        c.fp("gitlab-incoming-mail-token", "glimt-\(G.W(10))\n")
        c.tp("gitlab-agent-token", "glagent-" + G.W(50))
        c.fp("gitlab-agent-token", "glagent-\(G.W(30))\n")
        c.tp("gitlab-scim-token", "glsoat-" + G.W(20))
        c.fp("gitlab-scim-token", "glsoat-\(G.W(10))\n")
        c.tp("gitlab-feature-flag-token", "glffct-" + G.W(20))
        c.fp("gitlab-feature-flag-token", "glffct-\(G.W(10))\n")
        c.tp("gitlab-cicd-job-token", "glcbt-\(G.A(3))_\(G.W(20))")
        c.fp("gitlab-cicd-job-token", "glcbt-\(G.A(3))-\(G.W(20))\n")
        c.tp("gitlab-session-cookie", G.LD(32), "Cookie: _gitlab_session=@S@\n")
        c.fp("gitlab-session-cookie", "Cookie: _gitlab_session=\(G.LD(16))\n")
        c.tp("bitbucket-app-password", "ATBB" + G.A(32))
        c.fp("bitbucket-app-password", "ATBB\(G.A(10))\n")
        c.tp("bitbucket-client-secret", G.A(48), "BITBUCKET_CLIENT_SECRET=@S@\n")
        c.fp("bitbucket-client-secret", "BITBUCKET_CLIENT_SECRET=\(G.A(16))\n")
        c.tp("git-credentials-url", G.A(20), "https://deploy:@S@@github.com\n")
        c.fp("git-credentials-url", "https://deploy:\(G.A(20))@git.internal.test\n", fix: ("@git.internal.test", "@github.com"))
        c.tp("atlassian-api-token", "ATATT3" + G.W(186))
        c.fp("atlassian-api-token", "ATATT3\(G.W(50))\n")
        c.tp("atlassian-legacy-token", G.A(24), "JIRA_API_TOKEN=@S@\n")
        c.fp("atlassian-legacy-token", "JIRA_API_TOKEN=\(G.A(12))\n")
        c.tp("circleci-pat", "CCIPAT_\(G.A(22))_\(G.H(40))")
        c.fp("circleci-pat", "CCIPAT_\(G.A(22))_\(G.H(20))\n")
        c.tp("circleci-token", G.H(40), "CIRCLE_TOKEN=@S@\n")
        c.fp("circleci-token", "CIRCLE_SHA1=\(G.H(40))\n")
        c.fp("circleci-token", "[![CircleCI](https://circleci.com/gh/o/r.svg?style=svg&circle-token=\(G.H(40)))](https://circleci.com/gh/o/r)\n")
        c.tp("buildkite-token", "bkua_" + G.H(40))
        c.fp("buildkite-token", "bkua_\(G.H(20))\n")
        c.tp("travis-ci-token", G.A(22), "TRAVIS_TOKEN=@S@\n")
        c.fp("travis-ci-token", "TRAVIS_TOKEN=\(G.A(10))\n")
        c.tp("codecov-token", G.uuid(), "CODECOV_TOKEN=@S@\n")
        c.fp("codecov-token", "CODECOV_TOKEN=\(G.H(16))\n")
        c.tp("sonarqube-token", "sqp_" + G.H(40))
        c.fp("sonarqube-token", "sqx_\(G.H(40))\n", fix: ("sqx_", "sqp_"))
        c.tp("snyk-token", G.uuid(), "SNYK_TOKEN=@S@\n")
        c.fp("snyk-token", "SNYK_ORG=\(G.uuid())\n")
        c.tp("sourcegraph-token", "sgp_\(G.H(16))_\(G.H(40))")
        c.fp("sourcegraph-token", "sgp_\(G.H(20))\n")
        c.tp("harness-token", "pat.\(G.W(22)).\(G.A(24)).\(G.A(20))")
        c.fp("harness-token", "pat.\(G.W(22)).\(G.A(10))\n")
        c.tp("octopus-deploy-api-key", "API-" + G.UD(26))
        c.fp("octopus-deploy-api-key", "API-\(G.UD(10))\n")
        c.fp("octopus-deploy-api-key", "API-AAAAAAAAAAAAABBBBBBBBBBBBB\n")
        c.tp("pulumi-access-token", "pul-" + G.H(40))
        c.fp("pulumi-access-token", "pul-\(G.H(20))\n")
        c.tp("postman-api-key", "PMAK-\(G.H(24))-\(G.H(34))")
        c.fp("postman-api-key", "PMAK-\(G.H(24))\n")
        c.tp("infracost-api-key", "ico-" + G.A(32))
        c.fp("infracost-api-key", "ico-\(G.A(16))\n")
        c.tp("prefect-api-key", "pnu_" + G.A(36))
        c.fp("prefect-api-key", "pnu_\(G.A(20))\n")
        c.tp("readme-api-key", "rdme_" + G.LD(70))
        c.fp("readme-api-key", "rdme_\(G.LD(20))\n")
        c.tp("npmrc-auth-token", G.uuid(), "//registry.npmjs.org/:_authToken=@S@\n")
        c.tp("npmrc-auth-token", G.uuid(), "registry=https://npm.corp.test/\n_authToken=@S@\n")
        c.fp("npmrc-auth-token", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
        c.tp("npmrc-auth", G.B(32), "_auth=@S@\n")
        c.fp("npmrc-auth", "_auth=\(G.B(6))\n")
        c.tp("pypi-upload-token", "pypi-AgEIcHlwaS5vcmc" + G.W(150), "password = @S@\n")
        c.fp("pypi-upload-token", "pypi-AgEIcHlwaS5vcmc\(G.W(10))\n")
        c.tp("pypi-test-upload-token", "pypi-AgENdGVzdC5weXBpLm9yZw" + G.W(150))
        c.fp("pypi-test-upload-token", "pypi-AgENdGVzdC5weXBpLm9yZw\(G.W(10))\n")
        c.tp("rubygems-api-key", "rubygems_" + G.H(48))
        c.fp("rubygems-api-key", "rubygems_\(G.H(40))\n")
        c.tp("clojars-token", "CLOJARS_" + G.LD(60))
        c.fp("clojars-token", "CLOJARS_\(G.LD(30))\n")
        c.tp("nuget-api-key", "oy2" + G.LD(43))
        c.fp("nuget-api-key", "oy2\(G.LD(20))\n")
        c.tp("nuget-config-password", G.A(16), "<add key=\"ClearTextPassword\" value=\"@S@\" />\n")
        c.fp("nuget-config-password", "<add key=\"ClearTextPassword\" value=\"%NUGET_PASSWORD%\" />\n")
        c.fp("nuget-config-password", "<add key=\"Password\" value=\"ClearTextPassword1\" />\n")
    }
}

extension CatalogExample {
    static func saas(_ c: inout Catalogue) {
        typealias G = Gen
        c.tp("stripe-test-key", "sk_test_" + G.A(24))
        c.fp("stripe-test-key", "sk_test_\(G.A(10))\n")
        c.tp("stripe-webhook-secret", "whsec_" + G.A(32))
        c.fp("stripe-webhook-secret", "whsec_\(G.A(10))\n")
        c.tp("square-access-token", "EAAA" + G.W(60))
        c.fp("square-access-token", "EAAA\(G.W(30))\n")
        c.tp("square-legacy-access-token", "sq0atp-" + G.W(22))
        c.fp("square-legacy-access-token", "sq0atp-\(G.W(10))\n")
        c.tp("square-oauth-secret", "sq0csp-" + G.W(43))
        c.fp("square-oauth-secret", "sq0csp-\(G.W(20))\n")
        c.tp("braintree-access-token", "access_token$production$\(G.LD(16))$\(G.H(32))")
        c.fp("braintree-access-token", "access_token$sandbox$\(G.LD(16))$\(G.H(32))\n", fix: ("$sandbox$", "$production$"))
        c.tp("paypal-client-secret", G.W(80), "PAYPAL_CLIENT_SECRET=@S@\n")
        c.fp("paypal-client-secret", "PAYPAL_CLIENT_SECRET=\(G.W(40))\n")
        c.tp("plaid-secret", G.H(30), "PLAID_SECRET=@S@\n")
        c.fp("plaid-secret", "PLAID_SECRET=\(G.H(20))\n")
        c.tp("plaid-access-token", "access-production-" + G.uuid())
        c.fp("plaid-access-token", "access-staging-\(G.uuid())\n", fix: ("access-staging-", "access-sandbox-"))
        c.tp("gocardless-token", "live_" + G.W(40), "GOCARDLESS_ACCESS_TOKEN=@S@\n")
        c.fp("gocardless-token", "GOCARDLESS_ACCESS_TOKEN=sandbox_\(G.W(40))\n")
        c.tp("flutterwave-secret-key", "FLWSECK-\(G.H(32))-X")
        c.fp("flutterwave-secret-key", "FLWPUBK-\(G.H(32))-X\n", fix: ("FLWPUBK-", "FLWSECK-"))
        c.tp("flutterwave-test-key", "FLWSECK_TEST-\(G.H(32))-X")
        c.fp("flutterwave-test-key", "FLWSECK_TEST-\(G.H(12))\n")
        for (rule, prefix) in [("shopify-access-token", "shpat_"), ("shopify-shared-secret", "shpss_"),
                               ("shopify-custom-app-token", "shpca_"), ("shopify-private-app-token", "shppa_")] {
            c.tp(rule, prefix + G.H(32))
            c.fp(rule, "\(prefix)\(G.H(31))\n")
        }
        c.tp("shippo-live-token", "shippo_live_" + G.H(40))
        c.fp("shippo-live-token", "shippo_test_\(G.H(40))\n", fix: ("shippo_test_", "shippo_live_"))
        c.tp("easypost-api-key", "EZAK" + G.A(54))
        c.fp("easypost-api-key", "EZAK\(G.A(20))\n")
        c.tp("easypost-test-key", "EZTK" + G.A(54))
        c.fp("easypost-test-key", "EZTK\(G.A(20))\n")
        c.tp("duffel-token", "duffel_live_" + G.W(43))
        c.fp("duffel-token", "duffel_prod_\(G.W(43))\n")
        c.tp("lob-api-key", "live_" + G.H(35), "LOB_API_KEY=@S@\n")
        c.fp("lob-api-key", "LOB_API_KEY=test_\(G.H(35))\n")
        c.tp("slack-app-token", "xapp-1-A\(G.UD(10))-\(G.D(13))-\(G.H(64))")
        c.fp("slack-app-token", "xapp-1-\(G.UD(10))\n")
        c.tp("slack-config-access-token", "xoxe.xoxp-1-" + G.A(166))
        c.fp("slack-config-access-token", "xoxe.xoxp-1-\(G.A(50))\n")
        c.tp("slack-config-refresh-token", "xoxe-1-" + G.A(146))
        c.fp("slack-config-refresh-token", "xoxe-1-\(G.A(40))\n")
        c.tp("twilio-api-key", "SK" + G.H(32))
        c.fp("twilio-api-key", "SK\(G.H(31))\n")
        c.tp("twilio-auth-token", G.H(32), "TWILIO_AUTH_TOKEN=@S@\n")
        c.fp("twilio-auth-token", "TWILIO_ACCOUNT_SID=AC\(G.H(32))\n")
        c.tp("twilio-credentials-pair", G.H(32), "AC\(G.H(32)):@S@\n")
        c.fp("twilio-credentials-pair", "AC\(G.H(32)):\(G.H(16))\n")
        c.tp("mailgun-api-key", "key-" + G.H(32), "MAILGUN_API_KEY=@S@\n")
        c.fp("mailgun-api-key", "MAILGUN_DOMAIN=mg.corp.test\n")
        c.tp("postmark-server-token", G.uuid(), "POSTMARK_SERVER_TOKEN=@S@\n")
        c.fp("postmark-server-token", "POSTMARK_SERVER_TOKEN=\(G.H(20))\n")
        c.tp("mailchimp-api-key", G.H(32) + "-us12")
        c.fp("mailchimp-api-key", "\(G.H(32))-eu12\n", fix: ("-eu12", "-us12"))
        c.tp("mandrill-api-key", G.W(22), "MANDRILL_API_KEY=@S@\n")
        c.fp("mandrill-api-key", "MANDRILL_API_KEY=\(G.W(10))\n")
        c.tp("brevo-api-key", "xkeysib-\(G.H(64))-\(G.A(16))")
        c.fp("brevo-api-key", "xkeysib-\(G.H(64))\n")
        c.tp("messagebird-api-key", G.A(25), "MESSAGEBIRD_API_KEY=@S@\n")
        c.fp("messagebird-api-key", "MESSAGEBIRD_API_KEY=\(G.A(10))\n")
        c.tp("telegram-bot-token", "\(G.D(10)):AA\(G.W(33))", "https://api.telegram.org/bot@S@/sendMessage\n")
        c.fp("telegram-bot-token", "\(G.D(10)):AB\(G.W(33))\n", fix: (":AB", ":AA"))
        let discord = "M\(G.W(23)).\(G.W(6)).\(G.W(27))"
        c.tp("discord-bot-token", discord, "DISCORD_TOKEN=@S@\n")
        c.tp("discord-bot-token", "N\(G.W(23)).\(G.W(6)).\(G.W(27))", "Authorization: Bot @S@\n")
        c.fp("discord-bot-token", "DISCORD_TOKEN=A\(G.W(23)).\(G.W(6)).\(G.W(27))\n")
        c.tp("discord-webhook-url", "https://discord.com/api/webhooks/\(G.D(18))/\(G.W(68))")
        c.fp("discord-webhook-url", "https://discord.com/api/webhooks/\(G.D(18))/\(G.W(20))\n")
        c.tp("microsoft-teams-webhook-url",
             "https://corp.webhook.office.com/webhookb2/\(G.uuid())@\(G.uuid())/IncomingWebhook/\(G.A(32))/\(G.uuid())")
        c.fp("microsoft-teams-webhook-url", "https://corp.webhook.office.com/webhookb2/\(G.uuid())@\(G.uuid())/IncomingWebhook/\(G.A(10))/x\n")
        c.tp("google-chat-webhook-url",
             "https://chat.googleapis.com/v1/spaces/\(G.W(11))/messages?key=AIza\(G.W(35))&token=\(G.W(40))%3D")
        c.fp("google-chat-webhook-url", "https://chat.googleapis.com/v1/spaces/\(G.W(11))/messages?key=\(G.W(10))\n")
        c.tp("mattermost-token", G.LD(26), "MATTERMOST_TOKEN=@S@\n")
        c.fp("mattermost-token", "MATTERMOST_TOKEN=\(G.LD(10))\n")
        c.tp("intercom-token", G.W(60), "INTERCOM_ACCESS_TOKEN=@S@\n")
        c.fp("intercom-token", "INTERCOM_ACCESS_TOKEN=\(G.W(20))\n")
        c.tp("zendesk-api-token", G.A(40), "ZENDESK_API_TOKEN=@S@\n")
        c.fp("zendesk-api-token", "ZENDESK_API_TOKEN=\(G.A(20))\n")
        c.tp("hubspot-private-app-token", "pat-na1-" + G.uuid())
        c.fp("hubspot-private-app-token", "pat-xx1-\(G.uuid())\n", fix: ("pat-xx1-", "pat-na1-"))
        c.tp("twitter-bearer-token", String(repeating: "A", count: 22) + G.A(90), "TWITTER_BEARER_TOKEN=@S@\n")
        c.fp("twitter-bearer-token", "TWITTER_BEARER_TOKEN=\(G.A(40))\n")
        c.tp("facebook-access-token", "EAAB" + G.A(150))
        c.fp("facebook-access-token", "EAAB\(G.A(50))\n")
        c.tp("facebook-app-secret", G.H(32), "FACEBOOK_APP_SECRET=@S@\n")
        c.fp("facebook-app-secret", "FACEBOOK_APP_ID=\(G.D(15))\n")
        c.tp("twitch-token", G.LD(30), "TWITCH_CLIENT_SECRET=@S@\n")
        c.fp("twitch-token", "TWITCH_CLIENT_SECRET=\(G.LD(10))\n")
        c.tp("datadog-api-key", G.H(32), "DD_API_KEY=@S@\n")
        c.tp("datadog-api-key", G.H(32), "datadog:\n  datadog_api_key: \"@S@\"\n")
        c.fp("datadog-api-key", "ADD_API_KEY=\(G.H(32))\n")
        c.fp("datadog-api-key", "DD_API_KEY=\(G.H(31))\n")
        c.tp("datadog-app-key", G.H(40), "DD_APP_KEY=@S@\n")
        c.fp("datadog-app-key", "DD_APP_KEY=\(G.H(32))\n")
        c.tp("sentry-dsn", G.H(32), "SENTRY_DSN=https://@S@@o\(G.D(6)).ingest.sentry.io/\(G.D(7))\n")
        c.fp("sentry-dsn", "LOG_URL=https://\(G.H(32))@logs.corp.test/42\n", fix: ("@logs.corp.test/", "@o1.ingest.sentry.io/"))
        c.tp("sentry-org-token", "sntrys_eyJ\(G.B(120))_\(G.B(43))")
        c.fp("sentry-org-token", "sntrys_eyJ\(G.B(120))\n")
        c.tp("sentry-user-token", "sntryu_" + G.H(64))
        c.fp("sentry-user-token", "sntryu_\(G.H(32))\n")
        c.tp("sentry-legacy-token", G.H(64), "SENTRY_AUTH_TOKEN=@S@\n")
        c.fp("sentry-legacy-token", "SENTRY_AUTH_TOKEN=\(G.H(40))\n")
        c.tp("newrelic-user-api-key", "NRAK-" + G.UD(27))
        c.fp("newrelic-user-api-key", "NRAK-\(G.UD(20))\n")
        c.tp("newrelic-insert-key", "NRII-" + G.W(32))
        c.fp("newrelic-insert-key", "NRII-\(G.W(20))\n")
        c.tp("newrelic-query-key", "NRIQ-" + G.W(32))
        c.fp("newrelic-query-key", "NRIQ-\(G.W(20))\n")
        c.tp("newrelic-rest-api-key", "NRRA-" + G.H(42))
        c.fp("newrelic-rest-api-key", "NRRA-\(G.H(30))\n")
        c.tp("newrelic-license-key", G.LD(36) + "NRAL")
        c.tp("newrelic-license-key", G.H(32) + "FFFFNRAL")
        c.tp("newrelic-license-key", "eu01xx" + G.H(26) + "FFFFNRAL")
        c.fp("newrelic-license-key", "\(G.LD(36))NRAX\n", fix: ("NRAX", "NRAL"))
        c.tp("newrelic-browser-key", "NRJS-" + G.H(19))
        c.fp("newrelic-browser-key", "NRJS-\(G.H(10))\n")
        c.tp("newrelic-mobile-app-token", "AA" + G.H(40) + "-NRMA")
        c.tp("newrelic-mobile-app-token", "eu01xx" + G.H(36) + "-NRMA")
        c.fp("newrelic-mobile-app-token", "AA\(G.H(40))-NRMX\n", fix: ("-NRMX", "-NRMA"))
        c.tp("grafana-cloud-token", "glc_" + G.B(100) + "=")
        c.fp("grafana-cloud-token", "glc_\(G.B(10))\n")
        c.tp("grafana-service-account-token", "glsa_\(G.A(32))_\(G.H(8))")
        c.fp("grafana-service-account-token", "glsa_\(G.A(32))\n")
        c.tp("grafana-api-key", "eyJrIjoi" + G.A(80) + "==")
        c.fp("grafana-api-key", "eyJrIjoi\(G.A(20))\n")
        c.tp("dynatrace-token", "dt0c01.\(G.UD(24)).\(G.UD(64))")
        c.fp("dynatrace-token", "dt0c01.\(G.UD(24))\n")
        c.tp("rollbar-token", G.H(32), "ROLLBAR_ACCESS_TOKEN=@S@\n")
        c.fp("rollbar-token", "ROLLBAR_ACCESS_TOKEN=\(G.H(16))\n")
        c.tp("sumologic-access-key", G.A(64), "SUMO_ACCESS_KEY=@S@\n")
        c.fp("sumologic-access-key", "SUMO_ACCESS_ID=su\(G.A(12))\n")
        c.tp("pagerduty-token", G.W(20), "PAGERDUTY_TOKEN=@S@\n")
        c.fp("pagerduty-token", "PAGERDUTY_TOKEN=\(G.W(10))\n")
        c.tp("launchdarkly-token", "sdk-" + G.uuid(), "LAUNCHDARKLY_SDK_KEY=@S@\n")
        c.fp("launchdarkly-token", "LAUNCHDARKLY_SDK_KEY=mob-\(G.uuid())\n")
        c.tp("okta-api-token", "00" + G.W(40), "OKTA_API_TOKEN=@S@\n")
        c.fp("okta-api-token", "OKTA_API_TOKEN=11\(G.W(40))\n")
        c.tp("auth0-client-secret", G.W(64), "AUTH0_CLIENT_SECRET=@S@\n")
        c.fp("auth0-client-secret", "AUTH0_CLIENT_SECRET=\(G.W(32))\n")
        c.tp("onepassword-service-account-token", "ops_eyJ" + G.B(300), "OP_SERVICE_ACCOUNT_TOKEN=@S@\n")
        c.fp("onepassword-service-account-token", "ops_eyJ\(G.B(100))\n")
        c.tp("onepassword-secret-key", "A3-\(G.UD(6))-\(G.UD(11))-\(G.UD(5))-\(G.UD(5))-\(G.UD(5))")
        c.fp("onepassword-secret-key", "A3-\(G.UD(6))-\(G.UD(5))\n")
        c.tp("doppler-token", "dp.pt." + G.A(43))
        c.fp("doppler-token", "dp.pt.\(G.A(20))\n")
        c.tp("doppler-service-token", "dp.st.prd." + G.A(40), "DOPPLER_TOKEN=@S@\n")
        c.fp("doppler-service-token", "dp.st.\(G.A(20))\n")
        c.tp("age-secret-key", "AGE-SECRET-KEY-1" + G.rand(58, Gen.bech32))
        c.fp("age-secret-key", "AGE-SECRET-KEY-1\(G.rand(40, Gen.bech32))\n")
        c.tp("adobe-client-secret", "p8e-" + G.A(32))
        c.fp("adobe-client-secret", "p8e-\(G.A(16))\n")
        c.tp("salesforce-access-token", "00D\(G.A(15))!\(G.A(100))")
        c.fp("salesforce-access-token", "00D\(G.A(15))!\(G.A(20))\n")
        c.tp("linear-api-key", "lin_api_" + G.A(40))
        c.fp("linear-api-key", "lin_api_\(G.A(20))\n")
        c.tp("linear-client-secret", G.H(32), "LINEAR_CLIENT_SECRET=@S@\n")
        c.fp("linear-client-secret", "LINEAR_CLIENT_SECRET=\(G.H(16))\n")
        c.tp("asana-pat", "1/\(G.D(16)):\(G.H(32))", "ASANA_TOKEN=@S@\n")
        c.fp("asana-pat", "ASANA_TOKEN=1/\(G.D(16))\n")
        c.tp("notion-token", "ntn_\(G.D(11))\(G.A(35))")
        c.fp("notion-token", "ntn_\(G.L(11))\(G.A(35))\n")
        c.tp("notion-integration-secret", "secret_" + G.A(43), "NOTION_TOKEN=@S@\n")
        c.fp("notion-integration-secret", "secret_" + String(repeating: "ab", count: 21) + "a\n")
        c.tp("airtable-pat", "pat\(G.A(14)).\(G.H(64))")
        c.fp("airtable-pat", "pat\(G.A(14)).\(G.H(32))\n")
        c.tp("airtable-api-key", "key" + G.A(14), "AIRTABLE_API_KEY=@S@\n")
        c.fp("airtable-api-key", "AIRTABLE_API_KEY=key\(G.A(5))\n")
        c.tp("figma-pat", "figd_" + G.W(40))
        c.fp("figma-pat", "figd_\(G.W(20))\n")
        c.tp("frameio-token", "fio-u-" + G.W(64))
        c.fp("frameio-token", "fio-u-\(G.W(30))\n")
        c.tp("typeform-token", "tfp_" + G.W(59))
        c.fp("typeform-token", "tfp_\(G.W(30))\n")
        c.tp("contentful-pat", "CFPAT-" + G.W(43))
        c.fp("contentful-pat", "CFPAT-\(G.W(20))\n")
        c.tp("mapbox-secret-token", "sk.eyJ1Ijoi\(G.W(40)).\(G.W(22))")
        c.fp("mapbox-secret-token", "pk.eyJ1Ijoi\(G.W(40)).\(G.W(22))\n", fix: ("pk.eyJ1Ijoi", "sk.eyJ1Ijoi"))
        c.tp("algolia-admin-key", G.H(32), "ALGOLIA_ADMIN_KEY=@S@\n")
        c.fp("algolia-admin-key", "ALGOLIA_SEARCH_KEY=\(G.H(32))\n")
        c.tp("firebase-fcm-server-key", "AAAA\(G.W(7)):APA91b\(G.W(134))")
        c.fp("firebase-fcm-server-key", "AAAA\(G.W(7)):APA91b\(G.W(50))\n")
        c.tp("supabase-pat", "sbp_" + G.H(40))
        c.fp("supabase-pat", "sbp_\(G.H(20))\n")
        c.tp("supabase-secret-key", "sb_secret_" + G.W(31))
        c.fp("supabase-secret-key", "sb_publishable_\(G.W(31))\n", fix: ("sb_publishable_", "sb_secret_"))
        for (rule, prefix) in [("planetscale-token", "pscale_tkn_"), ("planetscale-password", "pscale_pw_"),
                               ("planetscale-oauth-token", "pscale_oauth_")] {
            c.tp(rule, prefix + G.W(43))
            c.fp(rule, "\(prefix)\(G.W(10))\n")
        }
        c.tp("neon-api-key", G.LD(64), "NEON_API_KEY=@S@\n")
        c.fp("neon-api-key", "NEON_API_KEY=\(G.LD(32))\n")
        c.tp("databricks-token", "dapi" + G.H(32))
        c.fp("databricks-token", "dapi\(G.H(16))\n")
        c.tp("confluent-secret", G.B(64), "CONFLUENT_CLOUD_API_SECRET=@S@\n")
        c.fp("confluent-secret", "CONFLUENT_CLOUD_API_SECRET=\(G.B(20))\n")
        c.tp("cloudinary-url", G.W(27), "CLOUDINARY_URL=cloudinary://\(G.D(15)):@S@@demo\n")
        c.fp("cloudinary-url", "CLOUDINARY_URL=cloudinary://\(G.D(15))@demo\n")
        c.tp("dropbox-short-lived-token", "sl." + G.W(140))
        c.fp("dropbox-short-lived-token", "sl.\(G.W(30))\n")
        c.tp("adafruit-io-key", "aio_" + G.A(28), "ADAFRUIT_IO_KEY=@S@\n")
        c.fp("adafruit-io-key", "ADAFRUIT_IO_KEY=aio_\(G.A(10))\n")
        c.tp("yandex-api-key", "AQVN" + G.W(36))
        c.fp("yandex-api-key", "AQVN\(G.W(10))\n")
        c.tp("yandex-iam-token", "t1.\(G.W(30)).\(G.W(86))", "YC_TOKEN=@S@\n")
        c.fp("yandex-iam-token", "YC_TOKEN=t1.\(G.W(30)).\(G.W(40))\n")
    }

    static func ai(_ c: inout Catalogue) {
        typealias G = Gen
        c.tp("openai-api-key", "sk-proj-\(G.W(74))T3BlbkFJ\(G.W(74))", "OPENAI_API_KEY=@S@\n")
        c.tp("openai-api-key", "sk-\(G.A(20))T3BlbkFJ\(G.A(20))")
        c.fp("openai-api-key", "sk-\(G.A(20))T3BlbkFX\(G.A(20))\n", fix: ("T3BlbkFX", "T3BlbkFJ"))
        c.tp("openai-project-key", "sk-proj-" + G.W(156))
        c.fp("openai-project-key", "sk-proj-\(G.W(20))\n")
        c.tp("openai-admin-key", "sk-admin-\(G.W(60))T3BlbkFJ\(G.W(60))")
        c.tp("openai-admin-key", "sk-admin-" + G.W(120))
        c.fp("openai-admin-key", "sk-admin-\(G.W(10))\n")
        // An admin key is not a project key.
        c.fp("openai-project-key", "sk-admin-\(G.W(130))\n", fix: ("sk-admin-", "sk-proj-"))
        c.tp("anthropic-api-key", "sk-ant-api03-\(G.W(93))AA", "ANTHROPIC_API_KEY=@S@\n")
        c.fp("anthropic-api-key", "sk-ant-api03-\(G.W(93))AB\n")
        c.tp("anthropic-admin-key", "sk-ant-admin01-\(G.W(93))AA")
        c.fp("anthropic-admin-key", "sk-ant-admin02-\(G.W(93))AA\n", fix: ("admin02-", "admin01-"))
        c.tp("huggingface-token", "hf_" + G.L(34), "HF_TOKEN=@S@\n")
        c.fp("huggingface-token", "hf_\(G.L(20))\n")
        c.fp("huggingface-token", "hf_" + String(repeating: "a", count: 34) + "\n")
        c.tp("huggingface-org-token", "api_org_" + G.L(34))
        c.fp("huggingface-org-token", "api_org_\(G.L(20))\n")
        c.tp("replicate-api-token", "r8_" + G.A(37))
        c.fp("replicate-api-token", "r8_\(G.A(20))\n")
        c.tp("groq-api-key", "gsk_" + G.A(52))
        c.fp("groq-api-key", "gsk_\(G.A(30))\n")
        c.tp("xai-api-key", "xai-" + G.A(80))
        c.fp("xai-api-key", "xai-\(G.A(40))\n")
        c.tp("perplexity-api-key", "pplx-" + G.A(48))
        c.fp("perplexity-api-key", "pplx-\(G.A(20))\n")
        c.tp("pinecone-api-key", "pcsk_\(G.A(6))_\(G.A(64))")
        c.fp("pinecone-api-key", "pcsk_\(G.A(6))\n")
        c.tp("langsmith-api-key", "lsv2_pt_\(G.H(32))_\(G.H(10))")
        c.fp("langsmith-api-key", "lsv2_pt_\(G.H(32))\n")
        c.tp("langfuse-secret-key", "sk-lf-" + G.uuid())
        c.fp("langfuse-secret-key", "pk-lf-\(G.uuid())\n", fix: ("pk-lf-", "sk-lf-"))
        c.tp("cohere-api-key", G.A(40), "COHERE_API_KEY=@S@\n")
        c.fp("cohere-api-key", "COHERE_API_KEY=\(G.A(20))\n")
        c.tp("mistral-api-key", G.A(32), "MISTRAL_API_KEY=@S@\n")
        c.fp("mistral-api-key", "MISTRAL_API_KEY=\(G.A(16))\n")
        c.tp("deepseek-api-key", "sk-" + G.H(32), "DEEPSEEK_API_KEY=@S@\n")
        c.fp("deepseek-api-key", "DEEPSEEK_API_KEY=sk-\(G.H(16))\n")
        c.tp("wandb-api-key", G.H(40), "WANDB_API_KEY=@S@\n")
        c.fp("wandb-api-key", "WANDB_API_KEY=\(G.H(20))\n")
    }

    static func files(_ c: inout Catalogue) {
        typealias G = Gen
        let keyPEM = "-----BEGIN RSA PRIVATE KEY-----\n" + (0..<6).map { _ in G.B(64) }.joined(separator: "\n") + "\n-----END RSA PRIVATE KEY-----\n"
        c.tp("private-key-base64", G.base64(keyPEM), "users:\n- name: admin\n  user:\n    client-key-data: @S@\n")
        let certPEM = "-----BEGIN CERTIFICATE-----\n" + (0..<6).map { _ in G.B(64) }.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
        c.fp("private-key-base64", "    client-certificate-data: \(G.base64(certPEM))\n")
        let mac = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n\(G.B(64))\n\(G.B(20))\nPrivate-Lines: 1\n\(G.B(44))\nPrivate-MAC: \(G.H(64))"
        c.tp("putty-private-key", mac, "@S@\n")
        c.fp("putty-private-key", "PuTTY-User-Key-File-3: ssh-ed25519\nPublic-Lines: 2\n\(G.B(64))\n")
        let ovpn = "-----BEGIN OpenVPN Static key V1-----\n" + (0..<16).map { _ in G.H(32) }.joined(separator: "\n") + "\n-----END OpenVPN Static key V1-----"
        c.tp("openvpn-static-key", ovpn, "<tls-auth>\n@S@\n</tls-auth>\n")
        c.fp("openvpn-static-key", "-----BEGIN OpenVPN Static key V1-----\n\(G.H(32))\n")
        c.tp("wireguard-private-key", G.B(42) + "A=", "[Interface]\nPrivateKey = @S@\nAddress = 10.0.0.1/24\n")
        c.fp("wireguard-private-key", "[Interface]\nPrivateKey = \(G.B(20))=\n")
        c.tp("laravel-app-key", "base64:" + G.B(43) + "=", "APP_KEY=@S@\n")
        c.fp("laravel-app-key", "APP_KEY=base64:\(G.B(10))\n")
        c.tp("django-insecure-secret-key", "django-insecure-" + G.A(50), "SECRET_KEY = '@S@'\n")
        c.fp("django-insecure-secret-key", "SECRET_KEY = 'django-insecure-\(G.A(10))'\n")
        let djangoAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)")
        let drawDjangoKey = { () -> String in
            var k = String((0..<49).map { _ in djangoAlphabet.randomElement()! })
            k.insert("!@#%^&*(=+)".randomElement()!, at: k.index(k.startIndex, offsetBy: Int.random(in: 0...49)))
            return k
        }
        // A key whose punctuation happens to spell a template (`%s`, `$(`) reads as one and is dropped, as every
        // rule's value would be: drawn again, as the policy rejects it by design.
        let djangoKey = { (try? TakenSecrets.draw(for: "django-secret-key", in: RuleCatalogTests.engine, drawDjangoKey)) ?? drawDjangoKey() }
        c.tp("django-secret-key", djangoKey(), "SECRET_KEY = '@S@'\n")
        c.tp("django-secret-key", djangoKey(), "DJANGO_SECRET_KEY=@S@\n")
        c.tp("django-secret-key", djangoKey(), "app.config['SECRET_KEY'] = \"@S@\"\n")
        // Letters and digits alone are the generic rule's; a key of another length is another format.
        c.fp("django-secret-key", "SECRET_KEY = '\(G.LD(50))'\n")
        c.fp("django-secret-key", "SECRET_KEY = '\(drawDjangoKey())x'\n")
        let wordpress = G.rand(1, Gen.alnum) + G.rand(62, Gen.alnum + Array("!@#$%^&*()-_ []{}<>~`+=,.;:/?|")) + G.rand(1, Gen.alnum)
        c.tp("wordpress-auth-key", wordpress, "define( 'SECURE_AUTH_KEY',  '@S@' );\n")
        c.tp("wordpress-auth-key", G.A(64), "ENV WORDPRESS_NONCE_SALT=@S@\n")
        c.fp("wordpress-auth-key", "define( 'AUTH_KEY',         'put your unique phrase here' );\n")
        c.fp("wordpress-auth-key", "define( 'LOGGED_IN_SALT',   '\(String(repeating: "x", count: 64))' );\n")
        c.tp("crypto-wallet-mnemonic", MechanismTests.phrase(12), "MNEMONIC=\"@S@\"\n")
        c.tp("crypto-wallet-mnemonic", MechanismTests.phrase(24), "seed_phrase: @S@\n")
        c.fp("crypto-wallet-mnemonic", "MNEMONIC=\"test test test test test test test test test test test junk\"\n")
        c.fp("crypto-wallet-mnemonic", "recovery_phrase: \(MechanismTests.phrase(11))\n")
        c.tp("docker-config-auth", G.base64("deploy:" + G.A(20)), "{\"auths\":{\"registry.corp.test\":{\"auth\":\"@S@\"}}}\n")
        c.fp("docker-config-auth", "{\"auth\": \"basic\"}\n")
        c.tp("htpasswd-bcrypt", "$2y$10$" + G.rand(53, Gen.crypt), "admin:@S@\n")
        c.fp("htpasswd-bcrypt", "admin:$2y$10$\(G.rand(20, Gen.crypt))\n")
        c.tp("htpasswd-apr1", "$apr1$\(G.rand(8, Gen.crypt))$\(G.rand(22, Gen.crypt))", "admin:@S@\n")
        c.fp("htpasswd-apr1", "admin:$apr1$\(G.rand(8, Gen.crypt))$\(G.rand(10, Gen.crypt))\n")
        c.tp("htpasswd-sha1", "{SHA}" + G.B(27) + "=", "admin:@S@\n")
        c.fp("htpasswd-sha1", "admin:{SHA}\(G.B(10))=\n")
        c.tp("shadow-password-hash", "$6$\(G.rand(16, Gen.crypt))$\(G.rand(86, Gen.crypt))", "root:@S@:19000:0:99999:7:::\n")
        c.fp("shadow-password-hash", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", fix: (":*:", ":$6$\(G.rand(8, Gen.crypt))$\(G.rand(43, Gen.crypt)):"))
        c.tp("url-basic-auth-password", G.A(16), "https://ci:@S@@nexus.corp.test/repository/\n")
        c.fp("url-basic-auth-password", "http_proxy=http://user:password@proxy.local:3128\n")
        c.tp("authorization-bearer", G.W(40), "curl -H \"Authorization: Bearer @S@\" https://api.corp.test\n")
        c.fp("authorization-bearer", "curl -H \"Authorization: Bearer $TOKEN\" https://api.corp.test\n")
        c.tp("authorization-basic", G.base64("svc:" + G.A(16)), "Authorization: Basic @S@\n")
        c.fp("authorization-basic", "Authorization: Basic \(G.B(8))\n")
        // Placeholders and the RFCs' examples, recognised once decoded.
        c.fp("authorization-basic", "Authorization: Basic \(G.base64("username:password"))\n")
        c.fp("authorization-basic", "Authorization: Basic \(G.base64("s6BhdRkqt3:gX1fBat3bV"))\n")
        c.fp("authorization-basic", "Authorization: Basic \(G.base64("user:pass"))\n")
        c.tp("curl-user-password", G.A(16), "RUN curl -fsSL -u deploy:@S@ https://repo.corp.test/x.tgz\n")
        c.fp("curl-user-password", "RUN curl -fsSL -u deploy:$REPO_PASSWORD https://repo.corp.test/x.tgz\n")
        c.tp("sshpass-password", G.A(14), "sshpass -p '@S@' ssh deploy@host\n")
        c.fp("sshpass-password", "sshpass -p \"$SSHPASS\" ssh deploy@host\n")
        c.tp("mysql-cli-password", G.A(14), "mysql -u root -p@S@ app < dump.sql\n")
        c.fp("mysql-cli-password", "mysql -u root -p app < dump.sql\n")
        c.tp("registry-login-password", G.A(20), "RUN docker login -u ci -p @S@ registry.example.com\n")
        c.tp("registry-login-password", G.A(20), "helm registry login registry.example.com --username ci --password '@S@'\n")
        c.fp("registry-login-password", "echo \"$CI_REGISTRY_PASSWORD\" | docker login -u ci --password-stdin registry.example.com\n")
        c.fp("registry-login-password", "docker login -u ci -p \"$CI_REGISTRY_PASSWORD\" registry.example.com\n")
        c.tp("mysql-cli-password", G.A(14), "mysqldump -p@S@ --all-databases > all.sql\n")
        // Each tool with its password option, and the same line reading the password from elsewhere (a variable,
        // a prompt, another option) or with the option one letter off.
        c.tp("psexec-password", G.A(14), "psexec \\\\srv01 -u CORP\\admin -p @S@ cmd.exe\n")
        c.fp("psexec-password", "psexec \\\\srv01 -u CORP\\admin -p $env:PSEXEC_PASSWORD cmd.exe\n")
        c.tp("sqlcmd-password", G.A(14), "sqlcmd -S db -U sa -P @S@ -Q \"SELECT 1\"\n")
        c.fp("sqlcmd-password", "sqlcmd -S db -U sa -p \(G.A(14)) -Q \"SELECT 1\"\n", fix: ("-p", "-P"))
        c.tp("redis-cli-password", G.A(14), "redis-cli -h cache -a @S@ ping\n")
        c.fp("redis-cli-password", "redis-cli -h cache -a \"$REDIS_PASSWORD\" ping\n")
        c.tp("mongo-cli-password", G.A(14), "mongosh mongodb://db:27017/app -u admin -p @S@\n")
        c.tp("mongo-cli-password", G.A(14), "mongodump --username admin --password=@S@ --out /backup\n")
        c.fp("mongo-cli-password", "mongosh mongodb://db:27017/app -u admin -p\n")
        c.tp("ldap-cli-password", G.A(14), "ldapsearch -x -D cn=admin,dc=corp -w @S@ -b dc=corp\n")
        c.fp("ldap-cli-password", "ldapsearch -x -D cn=admin,dc=corp -W -b dc=corp\n")
        c.tp("keytool-password", G.A(14), "keytool -genkeypair -alias app -keystore app.jks -storepass @S@\n")
        c.fp("keytool-password", "keytool -genkeypair -alias app -keystore app.jks -storepass:env STOREPASS\n")
        c.tp("archive-password", G.A(14), "zip -P @S@ backup.zip dump.sql\n")
        c.tp("archive-password", G.A(14), "7z a -p@S@ backup.7z data\n")
        c.fp("archive-password", "zip -p \(G.A(14)) backup.zip dump.sql\n", fix: ("-p", "-P"))
        c.tp("smb-user-password", G.A(14), "smbclient //fs/share -U backup%@S@ -c ls\n")
        c.fp("smb-user-password", "smbclient //fs/share -U backup -c ls\n")
        c.tp("lftp-password", G.A(14), "lftp -u deploy,@S@ sftp://files.corp\n")
        c.fp("lftp-password", "lftp -u deploy sftp://files.corp\n")
        c.tp("azure-cli-password", G.A(14), "az login --service-principal -u app -p @S@ --tenant corp\n")
        c.fp("azure-cli-password", "az login --service-principal -u app -p \"$AZURE_CLIENT_SECRET\" --tenant corp\n")
        c.tp("htpasswd-cli-password", G.A(14), "htpasswd -b -c /etc/nginx/.htpasswd admin @S@\n")
        c.tp("htpasswd-cli-password", G.A(14), "htpasswd -Bbc .htpasswd admin @S@\n")
        c.fp("htpasswd-cli-password", "htpasswd -c .htpasswd admin \(G.A(14))\n", fix: ("-c", "-cb"))
        c.tp("mosquitto-passwd-password", G.A(14), "mosquitto_passwd -c -b /etc/mosquitto/passwd sensor @S@\n")
        c.fp("mosquitto-passwd-password", "mosquitto_passwd -c /etc/mosquitto/passwd sensor\n")
        c.tp("rabbitmqctl-password", G.A(14), "rabbitmqctl add_user admin @S@\n")
        c.fp("rabbitmqctl-password", "rabbitmqctl add_vhost \(G.A(14))\n")
        c.tp("windows-net-user-password", G.A(14), "net user svc_backup @S@ /add\n")
        c.fp("windows-net-user-password", "net user svc_backup /add\n")
        c.fp("windows-net-user-password", "net user svc_backup * /add\n")
        c.tp("chpasswd-password", G.A(14), "RUN echo 'root:@S@' | chpasswd\n")
        c.tp("chpasswd-password", G.A(14), "echo \"deploy:@S@\" | sudo chpasswd\n")
        c.fp("chpasswd-password", "echo \"deploy:$DEPLOY_PASSWORD\" | chpasswd\n")
        c.tp("database-cli-password", G.A(14), "cqlsh db 9042 -u cassandra -p @S@\n")
        c.tp("database-cli-password", G.A(14), "rabbitmqadmin -u admin -p @S@ list queues\n")
        c.fp("database-cli-password", "cqlsh db 9042 -u cassandra -p \"$CASSANDRA_PASSWORD\"\n")
        c.tp("rdp-cli-password", G.A(14), "xfreerdp /u:admin /p:@S@ /v:host\n")
        c.fp("rdp-cli-password", "xfreerdp /u:admin /v:host\n")
        c.tp("openssl-enc-password", G.A(14), "openssl enc -aes-256-cbc -k @S@ -in a -out b\n")
        c.fp("openssl-enc-password", "openssl enc -aes-256-cbc -kfile key.txt -in a -out b\n")
        c.tp("minio-client-secret", G.A(40), "mc alias set store https://minio.corp.net \(G.UD(20)) @S@\n")
        c.fp("minio-client-secret", "mc alias set store https://minio.corp.net \(G.UD(20))\n")
        c.tp("oracle-connect-password", G.A(14), "sqlplus system/@S@@//db.corp.net:1521/ORCLPDB1\n")
        c.tp("oracle-connect-password", G.A(14), "expdp system/@S@@orcl directory=dp dumpfile=x.dmp\n")
        c.tp("oracle-connect-password", G.A(14), "jdbc:oracle:thin:app/@S@@db.corp.net:1521:ORCL\n")
        c.fp("oracle-connect-password", "sqlplus / as sysdba\n")
        c.tp("passwd-stdin-password", G.A(14), "echo \"@S@\" | passwd --stdin root\n")
        c.fp("passwd-stdin-password", "echo \"$ROOT_PASSWORD\" | passwd --stdin root\n")
        c.tp("pgpass-password", G.A(14), "db.internal:5432:app:app_user:@S@\n")
        c.tp("pgpass-password", G.A(14), "*:*:*:postgres:@S@\n")
        c.tp("pgpass-password", G.A(8) + "\\:" + G.A(8), "localhost:5432:*:postgres:@S@\n")
        // A time of day is no host.
        c.fp("pgpass-password", "12:30:5432:12:\(G.A(14))\n")
        c.fp("pgpass-password", "daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
        c.fp("pgpass-password", "www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n")
        c.tp("redis-config-password", G.A(20), "bind 0.0.0.0\nrequirepass @S@\n")
        c.tp("redis-config-password", G.A(20), "CMD [\"redis-server\", \"--requirepass\", \"@S@\"]\n")
        c.tp("redis-config-password", G.A(20), "masterauth \"@S@\"\n")
        c.fp("redis-config-password", "# requirepass foobared\nrequirepass ${REDIS_PASSWORD}\n")
        c.tp("sql-identified-by-password", G.A(16), "CREATE USER 'app'@'%' IDENTIFIED BY '@S@';\n")
        c.tp("sql-identified-by-password", G.A(16), "ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY '@S@';\n")
        c.fp("sql-identified-by-password", "GRANT USAGE ON *.* TO 'app'@'%' IDENTIFIED BY PASSWORD '*\(G.H(40).uppercased())';\n")
        c.tp("wifi-psk", G.A(20), "network={\n    ssid=\"office\"\n    psk=\"@S@\"\n}\n")
        c.tp("wifi-psk", G.H(64), "[wifi-security]\nkey-mgmt=wpa-psk\npsk=@S@\n")
        c.fp("wifi-psk", "network={\n    ssid=\"office\"\n    psk=\"short\"\n}\n")
        c.tp("netrc-password", G.A(16), "machine api.corp.test login deploy password @S@\n")
        c.fp("netrc-password", "machine api.corp.test login deploy password secret\n")
        // Documentation of the syntax (vim's netrw.vim), not a password.
        c.fp("netrc-password", "   \" Method#3: Issue an ftp : \"machine id password [path/]filename\" {{{3\n")
        c.tp("xml-password", G.A(16), "<server><id>corp</id><username>deploy</username><password>@S@</password></server>\n")
        c.fp("xml-password", "<server><password>${env.MAVEN_PASSWORD}</password></server>\n")
        c.fp("xml-password", "<server><password>{password}</password></server>\n")
        // A JWT whose header and payload are JSON (the rule decodes them), signed with a random signature.
        func b64url(_ s: String) -> String {
            G.base64(s).replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
        }
        c.tp("jwt", b64url("{\"alg\":\"RS256\",\"kid\":\"\(G.A(8))\"}") + "." + b64url("{\"sub\":\"\(G.A(16))\",\"exp\":1900000000}")
             + "." + G.W(86))
        c.fp("jwt", "eyJ\(G.W(30)).abc\(G.W(60)).\(G.W(43))\n")
        // jwt.io's and PyJWT's documentation examples, copied into every JWT library's docs.
        c.fp("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.\(G.W(43))\n")
        c.fp("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.\(G.W(43))\n")
    }

    static func generic(_ c: inout Catalogue) {
        typealias G = Gen
        // Random, but never shaped like what the rule's allowlist passes over on purpose: no leading `/` (a path),
        // no `:` (a URL), and one character an identifier cannot hold.
        func value() -> String {
            G.rand(1, Gen.alnum) + G.rand(18, Gen.alnum + Array("!#*+./@^_|~=-")) + G.rand(1, Array("!#*+@^|~=")) + G.D(1) + G.rand(1, Gen.lower)
        }
        // A key, token or secret is written in a token alphabet (the rule refuses `!`, `#`, `^`, `|`… there).
        func token() -> String {
            G.rand(1, Gen.alnum) + G.rand(18, Gen.alnum + Array("+./_=-")) + G.rand(1, Array("+/=")) + G.D(1) + G.rand(1, Gen.lower)
        }
        let rule = "generic-secret-assignment"
        c.tp(rule, value(), "DB_PASSWORD=@S@\n")
        c.tp(rule, token(), "service:\n  api_key: @S@\n")
        // `pass` as a word of its own names a password, `passphrase` too; inside another word it does not.
        c.tp(rule, value(), "DB_PASS=@S@\n")
        c.tp(rule, value(), "smtpPass: '@S@'\n")
        c.tp(rule, value(), "GPG_PASSPHRASE=@S@\n")
        c.tp(rule, token(), "PRIV_KEY=@S@\n")
        c.fp(rule, "bypass = \(value())\n", fix: ("bypass", "by_pass"))
        c.fp(rule, "compass: \(value())\n", fix: ("compass", "comPass"))
        c.tp(rule, token(), "{\"client_secret\": \"@S@\"}\n")
        c.tp(rule, token(), "export AUTH_TOKEN='@S@'\n")
        c.tp(rule, value(), "spring.datasource.password=@S@\n")
        c.fp(rule, "password = \"changeme\"\n")
        c.fp(rule, "TOKEN_URL=https://auth.corp.test/oauth2/token\n")
        c.fp(rule, "        token = self.tokenizer.next_token2\n")
        c.fp(rule, "PASSWORD_FILE=/run/secrets/db_password\n")
        c.fp(rule, "api_key: ${API_KEY}\n")
        c.fp(rule, "author = \"Guido van Rossum 1991\"\n")
        c.fp(rule, "password=aaaaaaaaaaaa1\n")
        c.fp(rule, "SECRET_KEY_BASE=short1\n")
        c.fp(rule, "auth_method: scram-sha-256\n")
        c.fp(rule, "urn:ietf:params:oauth:token-type:saml2\n")
        c.fp(rule, "SECRET_NAME=projects/123/secrets/db-password2/versions/1\n")
        c.fp(rule, "DEPS = OAUTH2CLIENT_EXTRA_DEPENDENCIES\n")
        c.fp(rule, "    \"code=sdlfkj452&state=ss345asyht&token_type=Bearer\"\n")
        // Issue 12's false-alarm families: pagination cursors, identifiers, commented-out settings, doctests,
        // RFC example values, values that name themselves.
        c.fp(rule, "{\"NextToken\": \"eyJ\(G.B(60))\"}\n")
        c.fp(rule, "next_page_token = \"\(G.A(24))\"\n")
        c.fp(rule, "    Next page token: \(G.A(25))\n")
        c.fp(rule, "kind = V1ServiceAccountTokenProjection\n")
        c.fp(rule, "flag = OAUTH2-CLIENT-SECRET\n")
        c.fp(rule, "# jetty.openid.clientSecret=\(token())\n", fix: ("# jetty", "jetty"))
        c.fp(rule, ">>> client_secret = '\(token())'\n", fix: (">>> client", "client"))
        // A token name with a value no token alphabet has, and the same value under a password name.
        c.fp(rule, "SERVICE_SECRET=\(G.A(10))^\(G.A(10))\n", fix: ("SERVICE_SECRET", "SERVICE_PASSWORD"))
        c.fp(rule, "    access_token=2YotnFZFEjr1zCsicMWpAA&token_type=example\n")
        c.fp(rule, "admin_password: 123Abpassword\n")
        c.fp(rule, "api_token = \(G.base64("{\"page\": 2, \"offset\": \"\(G.A(20))\"}"))\n")
        // Every way a name is given a value (issue 19): camelCase, XML elements, escaped JSON, log lines,
        // `.properties`, `.ini`, `export`, CLI flags, R's `<-`, a space.
        c.tp(rule, token(), "var moderationToken string = \"@S@\"\n")
        c.tp(rule, token(), "<apiToken>@S@</apiToken>\n")
        c.tp(rule, token(), "{\\\"awsSecretKey\\\":\\\"@S@\\\"}\n")
        c.tp(rule, token(), "[DEBUG] Using API_KEY=@S@ for the request\n")
        c.tp(rule, token(), "[service]\nclient_secret = @S@\n")
        c.tp(rule, token(), "deploy --api-key @S@ --region eu\n")
        c.tp(rule, token(), "api_token <- \"@S@\"\n")
        c.tp(rule, token(), "acme token - '@S@'\n")
        // Java properties spell a name's words with dots (`acme.api.key`); XML names it in an attribute (Android's
        // `<string name="…">`, a properties file's `<entry key="…">`) or gives the value in one (`<ApiKey value="…"/>`).
        c.tp(rule, token(), "acme.api.key=@S@\n")
        c.fp(rule, "acme.apix.key=\(token())\n", fix: ("apix.key", "api.key"))
        c.tp(rule, token(), "<string name=\"api_key\">@S@</string>\n")
        c.tp(rule, token(), "<entry key=\"acme.apikey\">@S@</entry>\n")
        c.fp(rule, "<string name=\"app_name\">\(token())</string>\n", fix: ("app_name", "api_key"))
        c.tp(rule, token(), "<ApiKey value=\"@S@\"/>\n")
        // A map's key (`os.environ["…"] = …`, Ruby's `||=`), a setter's argument, an HTTP client's user and password
        // pair, a JWT signing key written into the call.
        c.tp(rule, token(), "os.environ[\"ACME_API_KEY\"] = \"@S@\"\n")
        c.tp(rule, token(), "ENV[\"ACME_TOKEN\"] ||= \"@S@\"\n")
        c.tp(rule, token(), "sgMail.setApiKey(\"@S@\");\n")
        c.tp(rule, token(), "client.set_token('@S@')\n")
        c.fp(rule, "client.validateToken(\"\(token())\")\n", fix: ("validateToken", "setToken"))
        c.tp(rule, token(), "requests.get(url, auth=(\"deploy\", \"@S@\"))\n")
        c.fp(rule, "requests.get(url, author=(\"deploy\", \"\(token())\"))\n", fix: ("author=", "auth="))
        c.tp(rule, token(), "token = jwt.encode(payload, \"@S@\", algorithm=\"HS256\")\n")
        c.fp(rule, "claims = jwt.decode(payload, \"\(token())\")\n", fix: ("decode", "encode"))
        // `API key` as two words, as prose and exported settings write it; a word between them is another name.
        c.tp(rule, token(), "{\"API Key\": \"@S@\"}\n")
        c.fp(rule, "{\"API cache Key\": \"\(token())\"}\n", fix: ("API cache Key", "API Key"))
        // `<name> key` as two words with a `:` or `=` (`acme key: …`, `license key = …`), not a key that is public or
        // of a host, nor a log's `Using key=…`, nor `the key: …`.
        c.tp(rule, token(), "acme key: @S@\n")
        c.tp(rule, token(), "license key = \"@S@\"\n")
        c.fp(rule, "host key: \(token())\n", fix: ("host key", "acme key"))
        c.fp(rule, "the key: \(token())\n", fix: ("the key", "acme key"))
        c.fp(rule, "[DEBUG] Using key=\(token())\n", fix: ("Using key", "Using acme key"))
        // A URL's `key` query parameter is an API key; a parameter that only ends in `key` is something else.
        c.tp(rule, token(), "curl \"https://api.acme.test/v1/items?key=@S@\"\n")
        c.tp(rule, token(), "GET /v1/items?page=2&key=@S@&limit=10\n")
        c.fp(rule, "GET /v1/items?monkey=\(token())\n", fix: ("?monkey=", "?key="))
        // Two words with a blank after them are prose, not a command line's flag and its value.
        c.fp(rule, "No API key \(token())\n", fix: ("API key ", "API key: "))
        // A Python version (a package list: name, tab, version) is not a secret, its `.post`/`.dev` part included.
        c.fp(rule, "sentry-auth-ldap\t24.8.1.post1\n")
        c.fp(rule, "django-auth-jwt\t0.2.7.dev1689236019\n")
        // `credentials` and `creds` name what they hold, not a file or a helper; `creds` as a word of its own.
        c.tp(rule, token(), "\"credentials\" : \"@S@\"\n")
        c.tp(rule, token(), "creds = @S@\n")
        c.fp(rule, "acreds = \(token())\n", fix: ("acreds", "creds"))
        c.fp(rule, "GOOGLE_APPLICATION_CREDENTIALS=/var/run/secrets/\(G.A(12)).json\n")
        c.fp(rule, "git config --global credential.helper=store\n")
        // `page` names a pagination cursor only as a word of its own: a provider whose name ends in it keeps its tokens.
        c.tp(rule, token(), "statuspage_token = '@S@'\n")
        c.tp(rule, token(), "HOMEPAGE_TOKEN=@S@\n")
        c.fp(rule, "{\"nextPageToken\": \"\(token())\"}\n", fix: ("nextPageToken", "statusPageToken"))
        c.fp(rule, "NEXT_PAGE_TOKEN=\(token())\n", fix: ("NEXT_PAGE", "NEXTPAGE"))
        // A value of one case only is refused unless it holds digits; code and words score nothing.
        c.fp(rule, "api_token: \(G.rand(24, Gen.lower))\n")
        c.fp(rule, "token = getAccessTokenForService(ctx)\n")
        c.fp(rule, "secret_key: SomeLongerIdentifierName\n")
        c.fp(rule, "api_key <- abcdef123456abcdef\n")

        // A value with a provider's token prefix and its alphabet at another length is that token cut short or
        // padded (a test value, an example): a low note, not an alarm. Other characters after the prefix are another
        // format, judged as any value.
        c.fp(rule, "api_token = 'NRAK-\(G.UD(20))'\n", fix: ("NRAK-", "NRAB-"))
        c.tp(rule, "NRAK-" + G.LD(27), "api_token = '@S@'\n")

        let weak = "generic-secret-weak"
        c.tp(weak, "NRAK-" + G.UD(20), "api_token = '@S@'\n")
        c.tp(weak, G.A(12) + G.D(2) + "Qx", "[DEBUG] Using Key=@S@\n")
        c.fp(weak, "key = \"sshd_config.d\"\n")
    }
}

/// Regular files under a directory (no symlinks followed), read whole; for the opt-in corpus test.
enum CorpusWalker {
    static func files(under root: String) -> [String] {
        var out: [String] = []
        var st = stat()
        guard lstat(root, &st) == 0 else { return [] }
        if (st.st_mode & S_IFMT) == S_IFREG { return [root] }
        guard (st.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out += files(under: root + "/" + name)
        }
        return out
    }

    static func read(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while out.count < limit {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
