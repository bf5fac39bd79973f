import Foundation
import ImageBuilder
import Testing
import TestSupport

/// What a leaked token can do, as the reports say it: Fly tokens minted at test time (real HMAC chains), a JWT and a
/// GitHub token, scanned end to end through the CLI.
@Suite struct ForensicsReportTests {
    struct Sample {
        let org = UInt64.random(in: 1...9_999_999), app = UInt64.random(in: 1...9_999_999)
        let now = Int64(Date().timeIntervalSince1970)
        let deploy: FakeFly, deployEnd: Int64, orgToken: FakeFly
        let envBundle: String, labelToken: String, configTokens: String, jwt: String, github: String
        let path: String, dir: String

        init() throws {
            deployEnd = now + 90 * 86_400
            let (p, d) = try FakeFly.deployBundle(org: org, app: app, notAfter: deployEnd)
            deploy = p
            envBundle = "FlyV1 \(p.token()),\(d.token())"
            orgToken = FakeFly.orgToken(org: org)
            labelToken = "FlyV1 " + orgToken.token()
            // ~/.fly/config.yml keeps the tokens comma-joined without a scheme; this pair's discharge has expired.
            let (oldP, oldD) = try FakeFly.deployBundle(org: org, app: app, notAfter: now - 30 * 86_400)
            configTokens = "\(oldP.token()),\(oldD.token())"
            func b64url(_ s: String) -> String {
                Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: "")
            }
            jwt = b64url(#"{"alg":"HS256","typ":"JWT"}"#) + "." + b64url(#"{"sub":"ci","exp":\#(now - 400 * 86_400)}"#) + "."
                + FakeSecret.random(43, FakeSecret.alnum + ["-", "_"])
            github = FakeSecret.checksummedToken("ghp_")
            dir = try Run.tempDirectory()
            path = dir + "/image.tar"
            try ImageBuilder.build(ImageSpec(
                format: .ociTar, compression: "gzip", tag: "forensics:1",
                config: .init(Env: ["PATH=/usr/bin", "FLY_API_TOKEN=\(envBundle)"], Labels: ["deploy.org": labelToken]),
                history: [.init("COPY . / # buildkit")],
                layers: [.init(files: [.init(path: "root/.fly/config.yml", content: "access_token: \(configTokens)\n"),
                                       .init(path: "app/config.json", content: "{\"token\": \"\(jwt)\", \"gh\": \"\(github)\"}\n")])]),
                at: path)
        }

        var secrets: [String] { [envBundle, labelToken, configTokens, jwt, github] }
    }

    /// A token whose power sits in an IfPresent with a caveat that cannot be read offline is rated by what the
    /// readable caveats allow (here, all of the org): `--fail-on medium` fails the build, as it must.
    @Test func anUnreadableIfPresentFailsTheBuild() throws {
        var t = FakeFly.orgToken(org: UInt64.random(in: 1...9_999_999))
        t.add(FakeFly.ifPresent([(UInt64.random(in: 40...999), .arr([.uint(7)]))], else: 0))
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "gzip", layers: [
            .init(files: [.init(path: "app/.env", content: "FLY_API_TOKEN=\"FlyV1 \(t.token())\"\n")])]), at: dir + "/image.tar")
        let r = try Run.command(Run.stowaway, ["scan", dir + "/image.tar", "--format", "json", "--fail-on", "medium"])
        #expect(r.status == 1, "\(r.stderr)")
        let f = try #require(try JSONDocument.findings(r.stdout).first { $0["ruleID"] as? String == "flyio-macaroon-bundle" })
        #expect(f["severity"] as? String == "critical")
        let summary = (f["details"] as? [String: Any])?["summary"] as? String ?? ""
        #expect(summary.contains("cannot be read offline; at most: org-wide write token"), "\(summary)")
    }

    @Test func jsonCarriesDetailsAndSeverityFollowsTheDecodedPower() throws {
        let s = try Sample()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try Run.command(Run.stowaway, ["scan", s.path, "--format", "json", "--fail-on", "critical"])
        #expect(r.status == 1, "the org-wide token is critical: \(r.stderr)")
        for secret in s.secrets { #expect(!r.stdout.contains(secret), "a secret leaked into the JSON report") }
        let findings = try JSONDocument.findings(r.stdout)
        func one(_ source: String, _ rule: String) throws -> [String: Any] {
            let matching = findings.filter { $0["source"] as? String == source && $0["ruleID"] as? String == rule }
            #expect(matching.count == 1, "\(source) \(rule): \(matching.count) findings")
            return try #require(matching.first)
        }

        let env = try one("env", "flyio-macaroon-bundle")
        #expect(env["severity"] as? String == "high", "app-scoped write")
        let day = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(s.deployEnd)))
        #expect(env["details"] as? NSDictionary == [
            "summary": "app token for org \(s.org): app \(s.app) (rwcdC), rest of the org read-only, expires \(day.prefix(10))",
            "fly": ["scope": "app", "organization": s.org, "apps": [["id": s.app, "access": "rwcdC"]], "appCount": 1, "access": "r", "expires": day,
                    "expired": false, "tokenID": s.deploy.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)

        let label = try one("label", "flyio-macaroon-bundle")
        #expect(label["severity"] as? String == "critical")
        #expect(try label.object("details").object("fly")["scope"] as? String == "organization")

        // One finding for the comma-joined pair, so the discharge is paired with its token; expired, so low even
        // in a credential file (whose rule severity would otherwise be raised).
        let config = try one("file", "flyio-macaroon")
        #expect(config["path"] as? String == "/root/.fly/config.yml")
        #expect(config["severity"] as? String == "low")
        let configFly = try config.object("details").object("fly")
        #expect(configFly["discharged"] as? Bool == true && configFly["expired"] as? Bool == true)

        let jwt = try one("file", "jwt")
        #expect(jwt["severity"] as? String == "low", "expired more than a year ago")
        #expect(try jwt.object("details").object("jwt")["sub"] as? String == "ci")

        let github = try one("file", "github-token")
        #expect(github["severity"] as? String == "critical")
        #expect(try github.object("details")["checksumValid"] as? Bool == true)
    }

    @Test func textReportSaysWhatEachTokenCanDo() throws {
        let s = try Sample()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try Run.command(Run.stowaway, ["scan", s.path, "--no-color"])
        #expect(r.status == 1)
        for secret in s.secrets { #expect(!r.stdout.contains(secret), "a secret leaked into the text report") }
        #expect(r.stdout.contains("(org-wide write token for org \(s.org), no expiry)"), "\(r.stdout)")
        #expect(r.stdout.contains("(app token for org \(s.org): app \(s.app) (rwcdC), rest of the org read-only, expires "))
        #expect(r.stdout.contains("(GitHub personal access token, checksum valid)"))
        #expect(r.stdout.contains("(JWT (alg HS256) for ci, expired "))
    }

    @Test func sarifCarriesDetailsInProperties() throws {
        let s = try Sample()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try Run.command(Run.stowaway, ["scan", s.path, "--format", "sarif"])
        #expect(r.status == 1)
        let results = try #require(try JSONDocument.object(r.stdout).objects("runs").first).objects("results")
        let scopes = try results.compactMap { try $0.object("properties")["details"] as? [String: Any] }
            .compactMap { ($0["fly"] as? [String: Any])?["scope"] as? String }
        #expect(scopes.sorted() == ["app", "app", "organization"])
        let low = results.filter { ($0["properties"] as? [String: Any])?["severity"] as? String == "low" }
        #expect(low.count == 2 && low.allSatisfy { $0["level"] as? String == "note" })
    }
}
