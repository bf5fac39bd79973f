import Foundation
import ImageBuilder
import Testing
import TestSupport
import Secrets

/// Credential files and decoders are rules of the catalogue: `disabledRules` turns each off and a targeted
/// allowlist reaches what each reports, like any regex rule.
@Suite struct DetectorTests {
    struct Planted {
        let ghcrPassword = FakeSecret.random(24)
        let k8sStripe = FakeSecret.stripeKey()
        let envGithub = FakeSecret.githubToken()
        let plainStripe = FakeSecret.stripeKey()
        let keyBody = FakeSecret.random(300)
        var ghcrAuth: String { Data("octocat:\(ghcrPassword)".utf8).base64EncodedString() }

        func build() throws -> String {
            let dockerConfig = "{\n  \"auths\": {\n    \"ghcr.io\": {\"auth\": \"\(ghcrAuth)\"}\n  }\n}\n"
            let secretYAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: payments\ndata:\n  stripe-key: \(Data(k8sStripe.utf8).base64EncodedString())\n"
            let path = try Run.tempDirectory() + "/image.tar"
            try ImageBuilder.build(ImageSpec(format: .docker25,
                config: .init(Env: ["APP_CONFIG=" + Data("token=\(envGithub)\n".utf8).base64EncodedString()]),
                layers: [.init(files: [
                    .init(path: "root/.docker/config.json", content: dockerConfig),
                    .init(path: "deploy/secret.yaml", content: secretYAML),
                    .init(path: "root/.ssh/id_ed25519", content: keyBody),
                    .init(path: "app/settings.py", content: "STRIPE = '\(plainStripe)'\n"),
                ])]), at: path)
            return path
        }
    }

    /// What each detector reports in `Planted`, as (ruleID, secretSHA256).
    static func detected(_ p: Planted) -> [String: (String, String)] {
        [
            "docker-registry-credential": ("docker-registry-credential", Redaction.sha256(p.ghcrPassword)),
            "kubernetes-secret-data": ("stripe-live-key", Redaction.sha256(p.k8sStripe)),
            "base64-env-value": ("github-token", Redaction.sha256(p.envGithub)),
            "credential-file": ("credential-file", Redaction.sha256(p.keyBody)),
        ]
    }

    func scan(_ image: String, rules toml: String?) throws -> (Int32, Set<String>) {
        var args = ["scan", image, "--format", "json"]
        if let toml {
            let file = try Run.tempDirectory() + "/rules.toml"
            try Data(toml.utf8).write(to: URL(fileURLWithPath: file))
            args += ["--rules", file]
        }
        let r = try Run.command(Run.stowaway, args)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        let findings = ((json["images"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]]) ?? []
        return (r.status, Set(findings.map { "\($0["ruleID"] as? String ?? "?") \($0["secretSHA256"] as? String ?? "?")" }))
    }

    @Test func everyDetectorReportsByDefault() throws {
        let p = Planted()
        let (status, found) = try scan(try p.build(), rules: nil)
        #expect(status == 1)
        for (id, (rule, hash)) in Self.detected(p) {
            #expect(found.contains("\(rule) \(hash)"), "\(id) reported nothing: \(found)")
        }
        #expect(!found.contains { $0.hasPrefix("docker-config-auth ") }, "the decoded credential supersedes its blob")
    }

    @Test(arguments: ["docker-registry-credential", "kubernetes-secret-data", "base64-env-value", "credential-file"])
    func disabledRulesTurnsADetectorOff(_ id: String) throws {
        let p = Planted()
        let image = try p.build()
        let (status, found) = try scan(image, rules: "[extend]\nuseDefault = true\ndisabledRules = [\"\(id)\"]\n")
        #expect(status == 1)
        for (other, (rule, hash)) in Self.detected(p) {
            #expect(found.contains("\(rule) \(hash)") == (other != id), "\(other) with \(id) disabled: \(found)")
        }
        #expect(found.contains("stripe-live-key \(Redaction.sha256(p.plainStripe))"))
        // Nothing decoded, nothing superseded: the base64 blob is reported by its own rule again.
        #expect(found.contains("docker-config-auth \(Redaction.sha256(p.ghcrAuth))") == (id == "docker-registry-credential"))
    }

    @Test func targetedAllowlistsReachDetectors() throws {
        let p = Planted()
        let toml = """
        [extend]
        useDefault = true
        [[allowlists]]
        targetRules = ["docker-registry-credential"]
        regexes = ['''^\(p.ghcrPassword)$''']
        [[allowlists]]
        targetRules = ["kubernetes-secret-data"]
        paths = ['''^deploy/''']
        [[allowlists]]
        targetRules = ["base64-env-value"]
        stopwords = ["\(p.envGithub.suffix(12))"]
        [[allowlists]]
        targetRules = ["credential-file"]
        paths = ['''^root/\\.ssh/''']
        """
        let (status, found) = try scan(try p.build(), rules: toml)
        #expect(status == 1)
        for (id, (rule, hash)) in Self.detected(p) {
            #expect(!found.contains("\(rule) \(hash)"), "the allowlist for \(id) did not reach it: \(found)")
        }
        #expect(!found.contains { $0.hasPrefix("docker-config-auth ") }, "an allowlisted credential still supersedes its blob")
        #expect(found.contains("stripe-live-key \(Redaction.sha256(p.plainStripe))"), "\(found)")
    }
}
