import Foundation
import ImageBuilder
import Testing
import TestSupport
import Reports
import Scan
import Secrets

/// What a user is told to do about each finding (text, JSON, SARIF), the order of the text report, and SARIF as
/// GitHub code scanning reads it: schema-valid, URI references, stable fingerprints, consistent severities.
@Suite struct RemediationTests {
    /// An image with a fresh fake secret at every kind of place a remediation distinguishes.
    struct EveryPlace {
        let fly = FakeSecret.flyToken(), label = FakeSecret.npmToken(), cmd = FakeSecret.githubToken()
        let annotation = FakeSecret.npmToken(), config = FakeSecret.stripeKey(), buildArg = FakeSecret.npmToken()
        let deleted = FakeSecret.awsKeyID(), present = FakeSecret.stripeKey(), member = FakeSecret.githubToken()
        let testData = FakeSecret.githubToken(), database = FakeSecret.random(24)
        /// A Fly macaroon whose body is not MessagePack: damaged.
        let damagedFly = "fm2_" + Data([0x01] + (0..<119).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

        /// (name, secret, place, what the fix names, rotate or nil).
        var expected: [(name: String, secret: String, place: String, names: String, rotate: String?)] {
            [
                ("env", fly, "environment", "ENV FLY_API_TOKEN", "fly tokens revoke"),
                ("label", label, "label", "LABEL deploy.npm", "npm token revoke"),
                ("cmd", cmd, "command", "CMD", "https://github.com/settings/tokens"),
                ("annotation", annotation, "annotation", "org.example.note", "npm token revoke"),
                ("config", config, "config", "config.User", "https://dashboard.stripe.com/apikeys"),
                ("build-arg", buildArg, "history", "RUN --mount=type=secret,id=NPM_TOKEN", "npm token revoke"),
                ("deleted", deleted, "removed-file", "/app/.env", "https://console.aws.amazon.com/iam/home#/security_credentials"),
                ("present", present, "layer-file", "/app/config.yml", "https://dashboard.stripe.com/apikeys"),
                ("member", member, "archive-member", "/app/app.jar", "https://github.com/settings/tokens"),
            ]
        }

        /// The spec; `padding` puts an extra layer (and history entry) first, as a rebuild with one more step would.
        func spec(_ format: ImageSpec.Format, padding: Bool = false) throws -> ImageSpec {
            var jar = ZipWriter()
            try jar.add("META-INF/MANIFEST.MF", Array("Manifest-Version: 1.0\n".utf8))
            try jar.add("config.properties", Array("github.token=\(member)\n".utf8))
            var layers: [ImageSpec.Layer] = [
                // The test-data file (low) comes first in the layer, the database URL (high) first in ENV: the text
                // report must still put the critical findings of each group first.
                .init(files: [
                    .init(path: "app/spec/support/token.rb", content: "TOKEN = '\(testData)'\n"),
                    .init(path: "app/.env", content: "AWS_ACCESS_KEY_ID=\(deleted)\n"),
                    .init(path: "app/config.yml", content: "stripe_key: \(present)\n"),
                    .init(path: "app/app.jar", bytes: Data(jar.finish())),
                ]),
                .init(files: [.init(path: "app/.wh..env", content: "")]),
            ]
            var history: [ImageSpec.History] = [
                .init("COPY . /app # buildkit"),
                .init("RUN |1 NPM_TOKEN=\(buildArg) /bin/sh -c rm /app/.env # buildkit"),
            ]
            if padding {
                layers.insert(.init(files: [.init(path: "etc/motd", content: "hello\n")]), at: 0)
                history.insert(.init("COPY motd /etc/motd # buildkit"), at: 0)
            }
            return ImageSpec(
                format: format, compression: "gzip", tag: "everyplace:1",
                config: .init(Env: ["PATH=/usr/bin", "DATABASE_URL=postgres://app:\(database)@db.internal/app", "FLY_API_TOKEN=\(fly)", "FLY_BROKEN=\(damagedFly)"],
                              Labels: ["deploy.npm": label], Cmd: ["/app/run", "--token", cmd]),
                history: history, layers: layers,
                annotations: ["org.example.note": "publish with \(annotation)"],
                containerExtras: ["User": config])
        }

        func build(_ format: ImageSpec.Format = .ociTar, padding: Bool = false, name: String = "image.tar") throws -> (path: String, dir: String) {
            let dir = try Run.tempDirectory()
            let path = dir + "/" + name
            try ImageBuilder.build(try spec(format, padding: padding), at: path)
            return (path, dir)
        }
    }

    func scan(_ path: String, _ args: [String]) throws -> ProcessResult {
        let r = try Run.command(Run.stowaway, ["scan", path] + args)
        #expect(r.status == 1, "\(r.stderr)")
        return r
    }

    /// Runs testdata/sarif/check.py (the official SARIF 2.1.0 schema and RFC 3986 URI references) on `sarif`.
    static func checkSARIF(_ sarif: String) throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try sarif.write(toFile: dir + "/log.sarif", atomically: true, encoding: .utf8)
        let r = try Run.command(Run.packageRoot.path + "/.build/venv/bin/python", [Run.packageRoot.path + "/testdata/sarif/check.py", dir + "/log.sarif"])
        #expect(r.status == 0, "SARIF does not validate:\n\(r.stderr)")
    }

    @Test func eachKindOfPlaceGetsItsRemediationInTextJSONAndSARIF() throws {
        let image = EveryPlace()
        let (path, dir) = try image.build()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let findings = try JSONDocument.findings(try scan(path, ["--format", "json"]).stdout)
        let text = try scan(path, ["--no-color"]).stdout
        let sarif = try scan(path, ["--format", "sarif"]).stdout
        let results = try JSONDocument.object(sarif).objects("runs").first?.objects("results") ?? []

        for e in image.expected {
            let f = try #require(findings.first { $0["secretSHA256"] as? String == Redaction.sha256(e.secret) }, "no finding for \(e.name)")
            let remediation = try #require(f["remediation"] as? [String: Any], "\(e.name): no remediation")
            #expect(remediation["place"] as? String == e.place, "\(e.name): \(remediation)")
            let fix = try #require(remediation["fix"] as? String)
            #expect(fix.contains(e.names), "\(e.name): \(fix)")
            #expect(remediation["rotate"] as? String == e.rotate, "\(e.name): \(remediation)")
            // The text's "What to do" block has the same sentence, once.
            #expect(text.components(separatedBy: fix).count == 2, "\(e.name): the text does not say once: \(fix)\n\(text)")
            // SARIF: the result at the same place carries it, in its message and its properties.
            let result = try #require(results.first {
                ($0["message"] as? [String: Any])?["text"] as? String != nil
                    && (($0["properties"] as? [String: Any])?["remediation"] as? [String: Any])?["fix"] as? String == fix
            }, "\(e.name): no SARIF result with its fix")
            let message = (result["message"] as? [String: Any])?["text"] as? String ?? ""
            #expect(message.contains(fix), "\(e.name): \(message)")
        }
        // What each kind of place asks for.
        let fixes = findings.compactMap { ($0["remediation"] as? [String: Any])?["fix"] as? String }.joined(separator: "\n")
        for advice in [".dockerignore", "multi-stage build", "still in layer 0's blob", "RUN --mount=type=secret", "--build-arg",
                       "the runtime's environment or a secret manager"] {
            #expect(fixes.contains(advice), "no fix says \(advice)")
        }
        #expect(text.contains("\nWhat to do\n"), "\(text)")
        #expect(text.contains("Rotate the Fly.io access token, rule flyio-access-token: fly tokens revoke\n"), "\(text)")
        #expect(text.contains(Remediation.rebuildLine))

        // Every rule that has results says what it is, how to fix it and where to read more.
        let driver = try #require(((try JSONDocument.object(sarif).objects("runs").first?["tool"] as? [String: Any])?["driver"]) as? [String: Any])
        let ruleObjects = try #require(driver["rules"] as? [[String: Any]])
        #expect(!ruleObjects.isEmpty)
        for r in ruleObjects {
            let id = r["id"] as? String ?? "?"
            #expect(((r["fullDescription"] as? [String: Any])?["text"] as? String)?.isEmpty == false, "\(id)")
            let help = try #require(r["help"] as? [String: Any], "\(id)")
            #expect((help["text"] as? String)?.contains("RUN --mount=type=secret") == true, "\(id)")
            #expect((help["markdown"] as? String)?.contains("`RUN --mount=type=secret`") == true, "\(id)")
            #expect((r["helpUri"] as? String)?.hasPrefix("https://") == true, "\(id)")
        }
        let github = try #require(ruleObjects.first { $0["id"] as? String == "github-token" })
        #expect(github["helpUri"] as? String == "https://github.com/settings/tokens")
        try Self.checkSARIF(sarif)
    }

    @Test func aDamagedFlyTokenIsDescribedWithoutParserInternals() throws {
        let image = EveryPlace()
        let (path, dir) = try image.build()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try scan(path, ["--no-color"]).stdout
        let line = try #require(text.split(separator: "\n").first { $0.contains("FLY_BROKEN") }, "\(text)")
        #expect(line.contains("damaged or cut short"), "\(line)")
        for word in ["byte", "expected", "MessagePack"] { #expect(!line.contains(word), "\(line)") }
    }

    @Test func findingsOfAGroupAreMostSevereFirst() throws {
        let (path, dir) = try EveryPlace().build()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try scan(path, ["--no-color"]).stdout
        let ranks = ["LOW": 0, "MEDIUM": 1, "HIGH": 2, "CRITICAL": 3]
        var groups: [[Int]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            let indent = line.count - trimmed.count
            if indent == 2 { groups.append([]) }
            guard indent == 4, let word = trimmed.split(separator: " ").first, let rank = ranks[String(word)] else { continue }
            if groups.isEmpty { groups.append([]) }
            groups[groups.count - 1].append(rank)
        }
        #expect(groups.filter { Set($0).count > 1 }.count == 2, "the image must mix severities in both groups:\n\(text)")
        for g in groups { #expect(g == g.sorted(by: >), "not most severe first: \(g)\n\(text)") }
    }

    @Test func whatToDoSaysEachActionOnce() throws {
        // The planted image has the same Fly token in ENV and in the history, the same npm token in two history entries.
        let planted = PlantedImage()
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(planted.spec(.docker25, compression: "gzip"), at: dir + "/image.tar")
        let text = try scan(dir + "/image.tar", ["--no-color"]).stdout
        let block = try #require(text.components(separatedBy: "\nWhat to do\n").dropFirst().first, "\(text)")
        let lines = block.split(separator: "\n").prefix { $0.hasPrefix("  ") }.map(String.init)
        #expect(lines.count == Set(lines).count, "a line repeats:\n\(lines.joined(separator: "\n"))")
        #expect(lines.filter { $0.contains("rule flyio-access-token:") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("id=NPM_TOKEN") }.count == 1, "\(lines)")
        // Rotation comes first, then the fixes, then the rebuild.
        #expect(lines.first?.hasPrefix("  Rotate the ") == true)
        #expect(lines.last == "  " + Remediation.rebuildLine)
        // No secret in the block.
        for s in planted.allSecrets { #expect(!block.contains(s)) }
    }

    /// Fingerprint by (rule, uri) of every result of a SARIF log, and the log's automation id.
    func fingerprints(_ sarif: String) throws -> (byPlace: [String: String], automation: String?) {
        let run = try #require(try JSONDocument.object(sarif).objects("runs").first)
        var out: [String: String] = [:]
        for r in try run.objects("results") {
            let uri = (((r["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any])?["uri"] as? String
            let fp = (r["partialFingerprints"] as? [String: Any])?["secretAtPlace/v1"] as? String
            out["\(r["ruleId"] as? String ?? "?") \(uri ?? "?")"] = fp
        }
        return (out, (run["automationDetails"] as? [String: Any])?["id"] as? String)
    }

    @Test func sarifFingerprintsAndLocationsDoNotDependOnTheRunTheMachineOrTheLayerIndex() throws {
        let image = EveryPlace()
        let a = try image.build(.ociTar)
        let b = try image.build(.oci, padding: true, name: "image.tar")
        defer { for d in [a.dir, b.dir] { try? FileManager.default.removeItem(atPath: d) } }
        let first = try fingerprints(try scan(a.path, ["--format", "sarif"]).stdout)
        let again = try fingerprints(try scan(a.path, ["--format", "sarif"]).stdout)
        let rebuilt = try fingerprints(try scan(b.path, ["--format", "sarif"]).stdout)
        #expect(first.byPlace == again.byPlace)
        // Another directory, another format, every layer one further down: the same places, the same fingerprints.
        #expect(first.byPlace == rebuilt.byPlace, "\(first.byPlace)\n\(rebuilt.byPlace)")
        #expect(Set(first.byPlace.values).count == first.byPlace.count, "two places share a fingerprint")
        for expected in ["files/app/.env", "files/app/config.yml", "files/app/app.jar!/config.properties", "config/env/FLY_API_TOKEN",
                         "config/label/deploy.npm", "config/cmd", "config/annotation/org.example.note", "config/config/config.User",
                         "history/NPM_TOKEN"] {
            #expect(first.byPlace.keys.contains { $0.hasSuffix(" " + expected) }, "no result at \(expected): \(first.byPlace.keys.sorted())")
        }
        #expect(first.automation == "stowaway/scan/image.tar/", "\(first.automation ?? "nil")")
        #expect(rebuilt.automation == "stowaway/scan/image.tar/", "\(rebuilt.automation ?? "nil")")
        #expect(!(first.automation ?? "").contains(a.dir))
    }

    @Test func securitySeverityOfARuleIsItsWorstResultsAndEachResultCarriesItsOwn() throws {
        let image = EveryPlace()
        let (path, dir) = try image.build()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sarif = try scan(path, ["--format", "sarif"]).stdout
        let run = try #require(try JSONDocument.object(sarif).objects("runs").first)
        let scores = ["critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"]
        let levels = ["critical": "error", "high": "error", "medium": "warning", "low": "note"]
        var worst: [String: Double] = [:]
        var severities: [String: Set<String>] = [:]
        for r in try run.objects("results") {
            let p = try #require(r["properties"] as? [String: Any])
            let severity = try #require(p["severity"] as? String)
            #expect(p["security-severity"] as? String == scores[severity], "\(p)")
            #expect(r["level"] as? String == levels[severity])
            let rule = r["ruleId"] as? String ?? "?"
            worst[rule] = max(worst[rule] ?? 0, Double(scores[severity] ?? "0") ?? 0)
            severities[rule, default: []].insert(severity)
        }
        // The test-data path caps one GitHub token: one rule, results of two severities.
        #expect(severities["github-token"]?.count ?? 0 > 1, "\(severities)")
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        for r in rules {
            let id = r["id"] as? String ?? "?"
            let score = ((r["properties"] as? [String: Any])?["security-severity"] as? String).flatMap(Double.init)
            #expect(score == worst[id], "\(id): rule \(score ?? -1), worst result \(worst[id] ?? -1)")
        }
    }

    /// A Fly macaroon finding as the JSON report spells it, with `fields` (source, key, details) added.
    static func finding(_ fields: String) throws -> Finding {
        let json = #"{"ruleID": "flyio-macaroon", "severity": "critical", "description": "Fly.io token (macaroon)", "#
            + #""secretSHA256": "00", "redacted": "fm2_ab…", "# + fields + "}"
        return try JSONDecoder().decode(Finding.self, from: Data(json.utf8))
    }

    @Test func aFlyAppSetsItsSecretsWithFlyAndAFlyTokenIsRevokedByItsID() throws {
        let rule = try #require(BuiltinRules.all.first { $0.id == "flyio-macaroon" })
        let env = try Self.finding(#""source": "env", "key": "FLY_API_TOKEN""#)
        #expect(Remediation(finding: env, rule: rule, flyApp: true).fix.contains("`fly secrets set FLY_API_TOKEN=…`"))
        #expect(!Remediation(finding: env, rule: rule, flyApp: false).fix.contains("fly secrets"))
        #expect(Remediation(finding: env, rule: rule, flyApp: false).rotate == "fly tokens revoke")
        let named = try Self.finding(#""source": "label", "key": "t", "details": {"summary": "org-wide write token", "fly": "#
            + #"{"scope": "organization", "apps": [], "appCount": 0, "expired": false, "tokenID": "5f0c2a9e-1111-5222-8333-444455556666"}}"#)
        #expect(named.details?.fly?.tokenID != nil, "the test's finding must carry a token ID")
        #expect(Remediation(finding: named, rule: rule, flyApp: true).rotate == "fly tokens revoke 5f0c2a9e-1111-5222-8333-444455556666")
        // A rule with no known provider: rotate where it was issued.
        var generic = rule
        generic.revoke = nil
        #expect(Remediation(finding: env, rule: generic, flyApp: false).rotate == nil)
    }

    /// A Kubernetes Secret's data value is any credential: the advice is to rotate it where it was issued and
    /// replace the Secret, not to delete a service account's token, which is the advice for that token's own rule.
    @Test func aKubernetesSecretValueIsRotatedWhereItWasIssuedAndTheSecretReplaced() throws {
        let data = try #require(BuiltinRules.all.first { $0.id == "kubernetes-secret-data" }?.revoke)
        #expect(data.contains("where the credential its key names was issued") && data.contains("kubectl apply"), "\(data)")
        #expect(!data.contains("service-account"), "\(data)")
        let token = try #require(BuiltinRules.all.first { $0.id == "kubernetes-service-account-token" }?.revoke)
        #expect(token.contains("service-account"), "\(token)")
    }
}
