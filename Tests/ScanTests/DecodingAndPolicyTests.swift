import Foundation
import ImageBuilder
import Testing
import TestSupport
import Reports
@testable import Scan
import OCI
import Secrets

/// Decoded secrets, credential files, custom rules, baselines and the ignore file, as a user sees them.
@Suite struct DecodingAndPolicyTests {
    func build(_ spec: ImageSpec) throws -> String {
        let path = try Run.tempDirectory() + "/image.tar"
        try ImageBuilder.build(spec, at: path)
        return path
    }

    func scan(_ path: String, _ extra: [String] = []) throws -> (ProcessResult, [[String: Any]]) {
        let r = try Run.command(Run.stowaway, ["scan", path, "--format", "json", "--show-secrets"] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        let findings = ((json["images"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]]) ?? []
        return (r, findings)
    }

    @Test func dockerConfigAuthsKubernetesSecretsAndBase64EnvAreDecoded() throws {
        let fly = FakeSecret.flyToken()
        let ghcrPassword = FakeSecret.random(24)
        let stripe = FakeSecret.stripeKey()
        let github = FakeSecret.githubToken()
        // flyctl writes URL-safe base64 of "x:<token>".
        let flyAuth = Data("x:\(fly)".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let ghcrAuth = Data("octocat:\(ghcrPassword)".utf8).base64EncodedString()
        let dockerConfig = """
        {
          "auths": {
            "registry.fly.io": {"auth": "\(flyAuth)"},
            "ghcr.io": {"auth": "\(ghcrAuth)"}
          }
        }
        """
        let secretYAML = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: payments
        type: Opaque
        data:
          stripe-key: \(Data(stripe.utf8).base64EncodedString())
          region: \(Data("eu-west-1".utf8).base64EncodedString())
        """
        let path = try build(ImageSpec(format: .docker25, config: .init(Env: ["APP_CONFIG=" + Data("token=\(github)\n".utf8).base64EncodedString()]),
            layers: [.init(files: [.init(path: "root/.docker/config.json", content: dockerConfig),
                                   .init(path: "deploy/secret.yaml", content: secretYAML)])]))
        let (r, findings) = try scan(path)
        #expect(r.status == 1, "\(r.stderr)")
        func one(_ rule: String) -> [String: Any]? { findings.first { $0["ruleID"] as? String == rule } }
        let flyFinding = try #require(one("flyio-access-token"))
        #expect(flyFinding["key"] as? String == "registry.fly.io")
        #expect(flyFinding["secret"] as? String == fly)
        #expect(flyFinding["path"] as? String == "/root/.docker/config.json")
        #expect(flyFinding["line"] as? Int == 3)
        let ghcr = try #require(one("docker-registry-credential"))
        #expect(ghcr["key"] as? String == "ghcr.io")
        #expect(ghcr["secretSHA256"] as? String == Redaction.sha256(ghcrPassword))
        #expect(ghcr["severity"] as? String == "critical", "raised: a Docker config is a credential file")
        #expect(one("docker-config-auth") == nil, "the base64 blob is not reported beside its decoded credential")
        let k8s = try #require(one("stripe-live-key"))
        #expect(k8s["key"] as? String == "stripe-key")
        #expect(k8s["line"] as? Int == 7)
        #expect(k8s["secret"] as? String == stripe)
        let env = try #require(one("github-token"))
        #expect(env["source"] as? String == "env")
        #expect(env["key"] as? String == "APP_CONFIG")
        #expect((env["description"] as? String)?.contains("base64") == true)
        #expect(findings.count == 4, "\(findings.map { $0["ruleID"]! })")
    }

    /// A key stored base64-encoded under a secret-like name is reported once, decoded, wherever a decoder reads it;
    /// the blob itself (which the generic rule takes where no decoder runs) is not reported beside it.
    @Test func aDecodedKeySupersedesItsBase64Blob() throws {
        // Keys the generic rule takes (a fresh draw now and then spells fill it rightly drops).
        let envKey = try TakenSecrets.draw(for: "generic-secret-assignment") { FakeSecret.random(28) + "7Qz9" }
        let yamlKey = try TakenSecrets.draw(for: "generic-secret-assignment") { FakeSecret.random(28) + "4Kp2" }
        let password = try TakenSecrets.draw(for: "docker-registry-credential") { FakeSecret.random(24) }
        let (envBlob, yamlBlob) = (Data(envKey.utf8).base64EncodedString(), Data(yamlKey.utf8).base64EncodedString())
        let authBlob = Data("ci-bot:\(password)".utf8).base64EncodedString()
        let secretYAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  api-token: \(yamlBlob)\n"
        let path = try build(ImageSpec(format: .docker25, config: .init(Env: ["API_TOKEN=" + envBlob]),
            layers: [.init(files: [.init(path: "deploy/secret.yaml", content: secretYAML),
                                   .init(path: "root/.docker/config.json", content: "{\"auths\": {\"r.test\": {\"auth\": \"\(authBlob)\"}}}\n"),
                                   .init(path: "app/settings.py", content: "API_TOKEN = '\(yamlBlob)'\n")])]))
        let (r, findings) = try scan(path)
        #expect(r.status == 1, "\(r.stderr)")
        let secrets = findings.map { ($0["path"] as? String ?? $0["source"] as? String ?? "", $0["secret"] as? String ?? "") }
        #expect(secrets.contains { $0 == ("env", envKey) }, "\(secrets)")
        #expect(secrets.contains { $0 == ("/deploy/secret.yaml", yamlKey) }, "\(secrets)")
        #expect(secrets.contains { $0 == ("/root/.docker/config.json", password) }, "\(secrets)")
        #expect(!secrets.contains { [envBlob, yamlBlob, authBlob].contains($0.1) && $0.0 != "/app/settings.py" }, "\(secrets)")
        // Where nothing decodes it, the blob is the finding.
        #expect(secrets.contains { $0 == ("/app/settings.py", yamlBlob) }, "\(secrets)")
    }

    /// A password the generic judgement takes for drawn at random (a draw now and then reads as a word).
    static func randomPassword() -> String {
        while true {
            let p = FakeSecret.random(7) + "!" + FakeSecret.random(3) + "$" + FakeSecret.random(3) + "="
            if Decoders.kubernetesCredential(p, key: "password") { return p }
        }
    }

    @Test func aKubernetesSecretsPasswordIsReportedWhateverTheManifestsLayout() throws {
        // `data:` before `kind:`, tab-indented, quoted kind; a `|` block; `stringData:`. The username is no credential.
        let (a, b, c) = (Self.randomPassword(), Self.randomPassword(), Self.randomPassword())
        let manifests = [
            "apiVersion: v1\ndata:\n\tpassword: \(Data(a.utf8).base64EncodedString())\n\tusername: \(Data("app".utf8).base64EncodedString())\nkind: 'Secret'\nmetadata:\n\tname: db\n",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  api-key: |\n    \(Data(b.utf8).base64EncodedString())\n",
            "apiVersion: v1\nkind: secret\nstringData:\n  token: \"\(c)\"\n",
        ]
        let path = try build(ImageSpec(format: .docker25, layers: [.init(files: manifests.enumerated().map { i, m in
            .init(path: "deploy/secret-\(i).yaml", content: m)
        })]))
        let (r, findings) = try scan(path)
        #expect(r.status == 1, "\(r.stderr)")
        let reported = findings.filter { $0["ruleID"] as? String == "kubernetes-secret-data" }
        #expect(Set(reported.compactMap { $0["secret"] as? String }) == [a, b, c], "\(findings)")
        #expect(Set(reported.compactMap { $0["key"] as? String }) == ["password", "api-key", "token"])
        #expect(reported.first { $0["key"] as? String == "password" }?["line"] as? Int == 3)
    }

    @Test func credentialFilesAreReportedByNameAndRaiseTheirFindings() throws {
        let body = FakeSecret.random(300)
        let path = try build(ImageSpec(format: .docker25, layers: [.init(files: [
            .init(path: "root/.ssh/id_ed25519", content: body),
            .init(path: "app/.env", content: "SESSION_SECRET=\(try TakenSecrets.draw(for: "generic-secret-assignment") { FakeSecret.random(32) })\n"),
            .init(path: "app/.env.example", content: "SESSION_SECRET=\n"),
            .init(path: "root/.pgpass", content: "db.internal:5432:app:app:\(try TakenSecrets.draw(for: "pgpass-password") { FakeSecret.random(24) })\n"),
        ])]))
        let (r, findings) = try scan(path)
        #expect(r.status == 1)
        let file = try #require(findings.first { $0["path"] as? String == "/root/.ssh/id_ed25519" })
        #expect(file["ruleID"] as? String == "credential-file")
        #expect(file["severity"] as? String == "low")
        #expect(file["secretSHA256"] as? String == Redaction.sha256(body), "the hash of the whole file")
        #expect(file["secret"] is NSNull)
        let env = try #require(findings.first { $0["path"] as? String == "/app/.env" })
        #expect(env["ruleID"] as? String == "generic-secret-assignment")
        #expect(env["severity"] as? String == "high", "medium raised to high inside a .env file")
        #expect(!findings.contains { $0["path"] as? String == "/app/.env.example" })
        let pgpass = try #require(findings.first { $0["path"] as? String == "/root/.pgpass" })
        #expect(pgpass["ruleID"] as? String == "pgpass-password")
        #expect(pgpass["severity"] as? String == "high", "medium raised to high inside a .pgpass file")
    }

    @Test func aGitleaksRulesFileAddsRulesAndAllowlists() throws {
        let internalToken = "acme_" + FakeSecret.random(30)
        let allowed = FakeSecret.githubToken()
        let dir = try Run.tempDirectory()
        let toml = dir + "/gitleaks.toml"
        try Data("""
        title = "acme"
        [extend]
        useDefault = true
        [[rules]]
        id = "acme-internal-token"
        description = "ACME internal token"
        regex = '''\\b(acme_[A-Za-z0-9]{30})\\b'''
        keywords = ["acme_"]
        [allowlist]
        paths = ['''^vendor/''']
        stopwords = ["\(allowed.suffix(20))"]
        """.utf8).write(to: URL(fileURLWithPath: toml))
        let path = try build(ImageSpec(format: .docker25, layers: [.init(files: [
            .init(path: "app/settings.py", content: "TOKEN = '\(internalToken)'\nGH = '\(allowed)'\n"),
            .init(path: "vendor/lib.py", content: "TOKEN = '\("acme_" + FakeSecret.random(30))'\n"),
        ])]))
        let (plain, plainFindings) = try scan(path)
        #expect(plain.status == 1)
        #expect(!plainFindings.contains { $0["ruleID"] as? String == "acme-internal-token" })
        let (r, findings) = try scan(path, ["--rules", toml])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(findings.map { $0["ruleID"] as? String } == ["acme-internal-token"], "\(findings)")
        #expect(findings.first?["path"] as? String == "/app/settings.py")

        try Data("[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n".utf8).write(to: URL(fileURLWithPath: toml))
        let bad = try Run.command(Run.stowaway, ["scan", path, "--rules", toml])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("broken"), "\(bad.stderr)")
    }

    @Test func baselineAndIgnoreFileLeaveOutKnownFindings() throws {
        let a = FakeSecret.stripeKey(), b = FakeSecret.githubToken()
        let path = try build(ImageSpec(format: .docker25, layers: [.init(files: [
            .init(path: "app/a.txt", content: a), .init(path: "app/b.txt", content: b)])]))
        let dir = try Run.tempDirectory()
        let first = try Run.command(Run.stowaway, ["scan", path, "--format", "json", "--output", dir + "/baseline.json"])
        #expect(first.status == 1)
        let again = try Run.command(Run.stowaway, ["scan", path, "--format", "json", "--baseline", dir + "/baseline.json"])
        #expect(again.status == 0, "everything is in the baseline")
        let summary = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["summary"] as? [String: Any]
        #expect(summary?["baselined"] as? Int == 2)

        try Data("# reviewed: a test key\n\(Redaction.sha256(a))\n".utf8).write(to: URL(fileURLWithPath: dir + "/ignore"))
        let (ignored, findings) = try scan(path, ["--ignore-file", dir + "/ignore"])
        #expect(ignored.status == 1)
        #expect(findings.map { $0["secret"] as? String } == [b])

        try Data("not-a-hash\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad"))
        let bad = try Run.command(Run.stowaway, ["scan", path, "--ignore-file", dir + "/bad"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(dir + "/bad:1:"), "\(bad.stderr)")
    }
}
