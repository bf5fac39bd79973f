import Foundation
import ImageBuilder
import Testing
import TestSupport

/// The sweep's SARIF as GitHub code scanning reads it: valid against the SARIF 2.1.0 schema, one automation run per
/// sweep run, and each result's baseline state from what the sweep knows (new, open, resolved).
@Suite
struct SweepSARIFTests {
    /// The SARIF of one more sweep run, checked by testdata/sarif/check.py.
    func sweepSARIF(_ run: SweepRun) throws -> [String: Any] {
        let output = run.dir + "/run.sarif"
        let r = try Run.command(Run.stowaway, ["sweep", "--config", run.config, "--db", run.db, "--format", "sarif", "--quiet",
                                               "--output", output], environment: run.environment)
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let check = try Run.command(Run.packageRoot.path + "/.build/venv/bin/python", [Run.packageRoot.path + "/testdata/sarif/check.py", output])
        #expect(check.status == 0, "the sweep's SARIF does not validate:\n\(check.stderr)")
        return try #require(try JSONDocument.object(String(contentsOfFile: output, encoding: .utf8)).objects("runs").first)
    }

    /// (rule, baselineState, fingerprint, remediation fix) of every result.
    func results(_ run: [String: Any]) throws -> [(rule: String, state: String?, fingerprint: String?, fix: String?)] {
        try run.objects("results").map { r in
            (r["ruleId"] as? String ?? "?", r["baselineState"] as? String,
             (r["partialFingerprints"] as? [String: Any])?["secretAtPlace/v1"] as? String,
             ((r["properties"] as? [String: Any])?["remediation"] as? [String: Any])?["fix"] as? String)
        }
    }

    @Test func newOpenAndResolvedFindingsAreNewUnchangedAndAbsent() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("sarif")
        let old = FakeSecret.stripeKey(), fresh = FakeSecret.githubToken()
        try await Images.push([Images.base, Images.file("app/settings.txt", "STRIPE=\(old)\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        let sweep = try SweepRun()
        defer { try? FileManager.default.removeItem(atPath: sweep.dir) }
        try sweep.writeRegistry(h.anonymous, prefix: prefix)

        let first = try sweepSARIF(sweep)
        let firstResults = try results(first)
        #expect(firstResults.map(\.rule) == ["stripe-live-key"] && firstResults.map(\.state) == ["new"], "\(firstResults)")
        #expect(firstResults.first?.fix?.contains("/app/settings.txt") == true, "\(firstResults)")
        let firstID = try #require((first["automationDetails"] as? [String: Any])?["id"] as? String)
        #expect(firstID.hasPrefix("stowaway/sweep/"), "\(firstID)")

        // v1 rebuilt without its key, v2 with another secret.
        try await Images.push([Images.base, Images.file("app/settings.txt", "STRIPE=from-the-vault\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        try await Images.push([Images.base, Images.file("app/config.py", "TOKEN = '\(fresh)'\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v2")
        let second = try results(try sweepSARIF(sweep))
        #expect(second.first { $0.rule == "github-token" }?.state == "new", "\(second)")
        let fixed = try #require(second.first { $0.rule == "stripe-live-key" }, "\(second)")
        #expect(fixed.state == "absent")
        #expect(fixed.fingerprint == firstResults.first?.fingerprint, "a resolved finding keeps its fingerprint")

        let third = try sweepSARIF(sweep)
        let thirdResults = try results(third)
        #expect(thirdResults.map(\.rule) == ["github-token"] && thirdResults.map(\.state) == ["unchanged"], "\(thirdResults)")
        #expect(thirdResults.first?.fingerprint == second.first { $0.rule == "github-token" }?.fingerprint)
        // Each run is its own automation run of the same category.
        let thirdID = try #require((third["automationDetails"] as? [String: Any])?["id"] as? String)
        #expect(thirdID != firstID && thirdID.hasPrefix("stowaway/sweep/"), "\(firstID) \(thirdID)")
    }
}
