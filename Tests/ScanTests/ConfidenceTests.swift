import Foundation
import ImageBuilder
import Testing
import TestSupport

/// A finding's `confidence` as a user reads it: high for a prefixed token whose checksum holds, medium for a
/// provider keyword next to a body of its shape, for a generic value that scores as random and for a token whose
/// checksum fails (which is then not critical either); `--confidence` decides what is reported.
@Suite struct ConfidenceTests {
    struct Sample {
        let valid = FakeSecret.checksummedToken("ghp_")
        /// The same format with a tail that is not its CRC-32 (the odds that a random tail is are 1 in 62^6).
        let invalid = "ghp_" + FakeSecret.random(36)
        let twilio: String
        let generic: String
        let dir: String
        let path: String

        init() throws {
            // A digit on each side of the `#`: a letters-only half reads as an identifier and is rightly weaker (one
            // draw in about 150 failed this test); and a value the generic rule takes (a draw now and then is not).
            generic = try TakenSecrets.draw(for: "generic-secret-assignment") { FakeSecret.random(9) + "4#" + FakeSecret.random(10) + "7q" }
            twilio = try TakenSecrets.draw(for: "twilio-auth-token") { FakeSecret.random(32, Array("0123456789abcdef")) }
            dir = try Run.tempDirectory()
            path = dir + "/image.tar"
            let env = "GH_TOKEN=\(valid)\nOLD_GH=\(invalid)\nTWILIO_AUTH_TOKEN=\(twilio)\nDB_PASSWORD=\(generic)\n"
            try ImageBuilder.build(ImageSpec(
                format: .ociTar, compression: "none", tag: "confidence:1",
                history: [.init("COPY . /app # buildkit")],
                layers: [.init(files: [.init(path: "app/.env", content: env)])]),
                at: path)
        }

        var secrets: [String] { [valid, invalid, twilio, generic] }
    }

    @Test func jsonCarriesConfidenceAndAnInvalidChecksumIsNotCritical() throws {
        let s = try Sample()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try Run.command(Run.stowaway, ["scan", s.path, "--format", "json", "--confidence", "low"])
        #expect(r.status == 1, "\(r.stderr)")
        for secret in s.secrets { #expect(!r.stdout.contains(secret), "a secret leaked into the JSON report") }
        let findings = try JSONDocument.findings(r.stdout)
        func at(line: Int) throws -> [String: Any] {
            try #require(findings.first { $0["line"] as? Int == line }, "no finding on line \(line): \(findings)")
        }
        let valid = try at(line: 1), invalid = try at(line: 2), twilio = try at(line: 3), generic = try at(line: 4)
        #expect(valid["ruleID"] as? String == "github-token" && valid["severity"] as? String == "critical")
        #expect(valid["confidence"] as? String == "high")
        #expect(invalid["ruleID"] as? String == "github-token" && invalid["severity"] as? String == "medium")
        #expect(invalid["confidence"] as? String == "medium")
        #expect(twilio["ruleID"] as? String == "twilio-auth-token" && twilio["confidence"] as? String == "medium")
        #expect(generic["ruleID"] as? String == "generic-secret-assignment" && generic["confidence"] as? String == "medium")
    }

    @Test func sarifAndTextShowConfidence() throws {
        let s = try Sample()
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let sarif = try Run.command(Run.stowaway, ["scan", s.path, "--format", "sarif", "--confidence", "low"])
        let results = try #require(try JSONDocument.object(sarif.stdout).objects("runs").first).objects("results")
        let confidences = try results.map { try $0.object("properties")["confidence"] as? String ?? "none" }
        #expect(confidences.sorted() == ["high", "medium", "medium", "medium"], "\(confidences)")

        let text = try Run.command(Run.stowaway, ["scan", s.path, "--no-color", "--confidence", "low"])
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("twilio-auth-token") && $0.hasSuffix("[medium confidence]") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("generic-secret-assignment") && $0.hasSuffix("[medium confidence]") })
        #expect(lines.contains { $0.contains("github-token") && $0.hasSuffix("[medium confidence]") })
        // A prefixed token with a valid checksum needs no mark.
        #expect(lines.contains { $0.contains("github-token") && $0.contains("checksum valid") && !$0.contains("confidence]") })
    }

    /// The same private key as a leak, as a test fixture, inside an installed package and compiled into a binary:
    /// only the leak is critical.
    @Test func testDataAndPublishedPackagesAreNotCritical() throws {
        let body = (0..<8).map { _ in FakeSecret.random(64, FakeSecret.alnum + ["+", "/"]) }.joined(separator: "\n")
        let key = "-----BEGIN PRIVATE KEY-----\n\(body)\n-----END PRIVATE KEY-----\n"
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        try ImageBuilder.build(ImageSpec(
            format: .ociTar, compression: "none", tag: "paths:1",
            history: [.init("COPY . / # buildkit")],
            layers: [.init(files: [.init(path: "app/server.key", content: key),
                                   .init(path: "app/tests/fixtures/server.key", content: key),
                                   .init(path: "usr/local/lib/python3.12/site-packages/mockserver/ca.key", content: key),
                                   // A key compiled into a binary (Netty's classes carry a self-signed fallback).
                                   .init(path: "app/bin/server", content: "\u{7F}ELF\u{2}\u{1}\u{1}\u{0}\u{0}\u{0}" + key)])]),
            at: path)
        let r = try Run.command(Run.stowaway, ["scan", path, "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let findings = try JSONDocument.findings(r.stdout)
        func severity(_ p: String) -> String? { findings.first { $0["path"] as? String == p }?["severity"] as? String }
        #expect(severity("/app/server.key") == "critical")
        #expect(severity("/app/tests/fixtures/server.key") == "low")
        #expect(severity("/usr/local/lib/python3.12/site-packages/mockserver/ca.key") == "medium")
        #expect(severity("/app/bin/server") == "medium")
        // Test data lowers the key's confidence one step: still reported by default, at low severity.
        #expect(findings.first { $0["path"] as? String == "/app/tests/fixtures/server.key" }?["confidence"] as? String == "medium")
    }

    /// By default (`--confidence medium`) a low-confidence finding is not reported but counted; a comment line
    /// lowers a finding one step; `--confidence high` keeps only the surest, `--confidence low` everything.
    @Test func confidenceDecidesWhatIsReportedAndTheRestIsCounted() throws {
        let valid = FakeSecret.checksummedToken("ghp_"), commented = FakeSecret.checksummedToken("ghp_")
        // A bare `key` with a random value: the weak generic rule, low confidence.
        let weak = FakeSecret.random(24)
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/image.tar"
        let env = "GH_TOKEN=\(valid)\n# OLD_TOKEN=\(commented)\nkey=\(weak)\n"
        try ImageBuilder.build(ImageSpec(
            format: .ociTar, compression: "none", tag: "threshold:1", history: [.init("COPY . /app # buildkit")],
            layers: [.init(files: [.init(path: "app/.env", content: env)])]), at: path)

        let r = try Run.command(Run.stowaway, ["scan", path, "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let findings = try JSONDocument.findings(r.stdout)
        #expect(findings.map { $0["line"] as? Int ?? 0 }.sorted() == [1, 2], "\(findings)")
        #expect(findings.first { $0["line"] as? Int == 2 }?["confidence"] as? String == "medium", "a comment lowers high to medium")
        #expect(try JSONDocument.object(r.stdout).object("summary")["belowConfidence"] as? Int == 1)

        let high = try JSONDocument.findings(try Run.command(Run.stowaway, ["scan", path, "--format", "json", "--confidence", "high"]).stdout)
        #expect(high.map { $0["line"] as? Int ?? 0 } == [1])
        let all = try JSONDocument.findings(try Run.command(Run.stowaway, ["scan", path, "--format", "json", "--confidence", "LOW"]).stdout)
        #expect(all.count == 3)

        let text = try Run.command(Run.stowaway, ["scan", path, "--no-color"])
        #expect(text.stdout.contains("1 of lower confidence not shown (--confidence low shows them)"), "\(text.stdout)")
        let bad = try Run.command(Run.stowaway, ["scan", path, "--confidence", "certain"])
        #expect(bad.status == 64)
    }

    @Test func theRuleListHasTheCatalogue() throws {
        let r = try Run.command(Run.stowaway, ["rules", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rules = try JSONDocument.object(r.stdout).objects("rules")
        #expect(rules.count >= 800)
        let byID = Dictionary(rules.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byID["mailjet-api-secret"]?["confidence"] as? String == "medium")
        #expect(byID["mailjet-api-secret"]?["keywords"] as? [String] == ["mailjet"])
        #expect(byID["openrouter-api-key"]?["confidence"] as? String == "high")
        #expect(byID["generic-secret-assignment"]?["confidence"] as? String == "medium")
        #expect(byID["generic-secret-weak"]?["confidence"] as? String == "low")
        // Where a leaked token is revoked, for the rules whose provider is known.
        #expect((byID["stripe-live-key"]?["revoke"] as? String)?.hasPrefix("https://dashboard.stripe.com/") == true)
        #expect((byID["flyio-access-token"]?["revoke"] as? String)?.contains("fly tokens revoke") == true)
        #expect(byID["generic-secret-assignment"]?["revoke"] == nil)
        let text = try Run.command(Run.stowaway, ["rules"])
        #expect(text.stdout.split(separator: "\n").last?.hasPrefix("\(rules.count) rules, fingerprint sha256:") == true)
    }
}
