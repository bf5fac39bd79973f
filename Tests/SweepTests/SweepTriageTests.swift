import Foundation
import ImageBuilder
import OCI
import Sweep
import Testing
import TestSupport

/// Issue 21 in the sweep: acceptances kept in the store (`sweep accept`) and the config's ignore file, the
/// `accepted` status beside new/open/resolved, expiry with the clock moved by STOWAWAY_NOW, and the reports.
@Suite
struct SweepTriageTests {
    /// One image with a fresh token in a file; returns the token.
    private func pushSecret(_ h: SweepHarness, prefix: String) async throws -> String {
        let secret = FakeSecret.githubToken()
        try await Images.push([Images.base, Images.file("app/.env", "GITHUB_TOKEN=\(secret)\n")], to: h.anonymous, as: "\(prefix)/api", tag: "v1")
        return secret
    }

    private func stowaway(_ run: SweepRun, _ args: [String], now: String) throws -> ProcessResult {
        try Run.command(Run.stowaway, args, environment: run.environment.merging(["STOWAWAY_NOW": now]) { $1 })
    }

    @Test(arguments: StoreKind.available)
    func anAcceptedFindingIsAcceptedOnTheNextRunAndOpenAgainAfterItsExpiry(_ kind: StoreKind) async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("accept")
        let secret = try await pushSecret(h, prefix: prefix)
        var run = try SweepRun()
        run.store = try kind.freshLocation()
        try run.writeRegistry(h.anonymous, prefix: prefix)

        let first = try run.sweep(env: ["STOWAWAY_NOW": "2027-01-01"])
        #expect(first.status == 1, "\(first.stderr)")
        let fp = try #require(first.report.findings("new").first?["secretSHA256"] as? String)

        let accept = try stowaway(run, ["sweep", "accept", fp, "--reason", "test token, revoked", "--until", "2027-01-31", "--db", run.db],
                                  now: "2027-01-01")
        #expect(accept.status == 0, "\(accept.stderr)")
        let listed = try stowaway(run, ["sweep", "accepted", "--db", run.db, "--format", "json"], now: "2027-01-01")
        let rows = try JSONDocument.object(listed.stdout).objects("acceptances")
        #expect(rows.count == 1 && rows.first?["fingerprint"] as? String == fp && rows.first?["reason"] as? String == "test token, revoked"
                && rows.first?["until"] as? String == "2027-01-31" && rows.first?["expired"] as? Bool == false, "\(listed.stdout)")

        // The next run: accepted, neither new nor open, and the exit code is 0.
        let second = try run.sweep(env: ["STOWAWAY_NOW": "2027-01-31"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.report.findings("new").isEmpty && second.report.findings("open").isEmpty)
        let accepted = second.report.findings("accepted")
        #expect(accepted.count == 1 && (accepted.first?["acceptance"] as? [String: Any])?["origin"] as? String == "sweep store",
                "\(second.report)")
        let text = try stowaway(run, ["sweep", "report", "--db", run.db, "--no-color"], now: "2027-01-31")
        #expect(text.stdout.contains("0 new, 0 open, 0 resolved, 1 accepted (not shown: --show-suppressed shows them)"), "\(text.stdout)")
        #expect(!text.stdout.contains("/app/.env"))
        let shown = try stowaway(run, ["sweep", "report", "--db", run.db, "--no-color", "--show-suppressed"], now: "2027-01-31")
        #expect(shown.stdout.contains("ACCEPTED") && shown.stdout.contains("accepted (sweep store, until 2027-01-31): test token, revoked"),
                "\(shown.stdout)")
        // The metrics count it accepted, not open.
        let prom = run.dir + "/sweep.prom"
        let metrics = try stowaway(run, ["sweep", "report", "--db", run.db, "--format", "prometheus", "--output", prom], now: "2027-01-31")
        let lines = try String(contentsOfFile: prom, encoding: .utf8).split(separator: "\n")
        #expect(metrics.status == 0 && lines.contains("stowaway_sweep_findings_accepted 1"), "\(metrics.stderr)")
        #expect(lines.filter { $0.hasPrefix("stowaway_sweep_open_findings{") && !$0.hasSuffix(" 0") }.isEmpty, "\(lines)")
        let md = try stowaway(run, ["sweep", "report", "--db", run.db, "--format", "markdown"], now: "2027-01-31")
        #expect(md.stdout.contains("1 accepted (not shown: `--show-suppressed` shows them)"), "\(md.stdout)")

        // After the expiry: open again, and the report says since when.
        let third = try run.sweep(env: ["STOWAWAY_NOW": "2027-02-01"])
        #expect(third.report.findings("accepted").isEmpty)
        let open = third.report.findings("open")
        #expect(open.count == 1 && (open.first?["acceptance"] as? [String: Any])?["expired"] as? Bool == true, "\(third.report)")
        let expired = try stowaway(run, ["sweep", "report", "--db", run.db, "--no-color"], now: "2027-02-01")
        #expect(expired.stdout.contains("OPEN") && expired.stdout.contains("acceptance expired on 2027-01-31 (sweep store)"), "\(expired.stdout)")
        let after = try stowaway(run, ["sweep", "accepted", "--db", run.db], now: "2027-02-01")
        #expect(after.stdout.contains("expired on 2027-01-31"), "\(after.stdout)")

        // `sweep report` without flags is the latest run; `sweep history` shows each run's date and duration.
        let latest = try stowaway(run, ["sweep", "report", "--db", run.db, "--format", "json"], now: "2027-02-01")
        #expect(try JSONDocument.object(latest.stdout).int("run", "id") == third.report.int("run", "id"), "\(latest.stderr)")
        let history = try stowaway(run, ["sweep", "history", "--db", run.db], now: "2027-02-01")
        #expect(history.stdout.contains("DURATION") && history.stdout.contains(" RESOLVED") && history.stdout.split(separator: "\n").filter { $0.contains(" s ") }.count >= 3,
                "\(history.stdout)")
        for out in [first.report.description, second.report.description, text.stdout, shown.stdout, md.stdout, listed.stdout] {
            #expect(!out.contains(secret))
        }
    }

    @Test func theConfigsIgnoreFileAppliesToSweepAsToScan() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("ignore")
        _ = try await pushSecret(h, prefix: prefix)
        let run = try SweepRun()
        let image = "\(h.anonymous)/\(prefix)/api:v1"
        let before = try Run.command(Run.stowaway, ["scan", image, "-f", "json", "-q", "--insecure-registry", h.anonymous],
                                     environment: run.environment)
        let found = try JSONDocument.findings(before.stdout)
        let fp = try #require(found.first?["secretSHA256"] as? String)

        let ignore = run.dir + "/triage/.stowawayignore"
        try FileManager.default.createDirectory(atPath: run.dir + "/triage", withIntermediateDirectories: true)
        let add = try Run.command(Run.stowaway, ["ignore", "add", fp, "--reason", "known test token", "--image", "\(h.anonymous)/\(prefix)/*",
                                                 "--file", ignore])
        #expect(add.status == 0, "\(add.stderr)")
        // The same file, relative to the config's directory.
        try run.writeRegistry(h.anonymous, prefix: prefix, extra: "")
        let config = try String(contentsOfFile: run.config, encoding: .utf8)
        try run.write("ignore_file = \"triage/.stowawayignore\"\n" + config)

        let swept = try run.sweep()
        #expect(swept.status == 0, "\(swept.stderr)")
        #expect(swept.report.findings("new").isEmpty && swept.report.findings("accepted").count == 1, "\(swept.report)")
        let scanned = try Run.command(Run.stowaway, ["scan", image, "-f", "json", "-q", "--insecure-registry", h.anonymous, "--ignore-file", ignore],
                                      environment: run.environment)
        let left = try JSONDocument.findings(scanned.stdout)
        #expect(scanned.status == 0 && left.isEmpty, "\(scanned.stderr)")
        #expect((try JSONDocument.object(scanned.stdout).object("summary"))["baselined"] as? Int == 1)
    }

    @Test func badInputsAreOneLineWithExitCode2() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("triagebad")
        _ = try await pushSecret(h, prefix: prefix)
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let first = try run.sweep()
        let fp = try #require(first.report.findings("new").first?["secretSHA256"] as? String)

        let unknown = String(repeating: "ab", count: 32)
        let r = try stowaway(run, ["sweep", "accept", unknown, "--reason", "x", "--db", run.db], now: "2027-01-01")
        #expect(r.status == 2 && r.stderr.hasPrefix("stowaway: \(unknown): no finding in the sweep store") && r.stderr.split(separator: "\n").count == 1,
                "\(r.stderr)")
        let past = try stowaway(run, ["sweep", "accept", fp, "--reason", "x", "--until", "2026-12-31", "--db", run.db], now: "2027-01-01")
        #expect(past.status == 2 && past.stderr == "stowaway: --until 2026-12-31: the day is in the past (today is 2027-01-01, UTC)\n", "\(past.stderr)")
        let none = try stowaway(run, ["sweep", "accepted", "--db", run.db], now: "2027-01-01")
        #expect(none.stdout.hasPrefix("0 acceptances"), "nothing was kept: \(none.stdout)")

        try Data("\(fp) reason=ok\n\(fp) until=soon\n".utf8).write(to: URL(fileURLWithPath: run.dir + "/bad.ignore"))
        let config = try String(contentsOfFile: run.config, encoding: .utf8)
        try run.write("ignore_file = \"bad.ignore\"\n" + config)
        let bad = try run.sweep()
        #expect(bad.status == 2 && bad.stderr.hasPrefix("stowaway: " + run.dir + "/bad.ignore:2: until=soon is not a day"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(try run.history().count == 1, "a sweep with a broken ignore file does not run")
    }
}

/// The sweep's text report without a registry: aligned columns, `scan`'s colours only when asked, and an
/// expired acceptance named on its line.
struct SweepTextTests {
    func finding(_ rule: String, _ severity: String, image: String, path: String) throws -> SweepFinding {
        let f: [String: Any] = ["ruleID": rule, "severity": severity, "description": "d", "source": "file", "layerIndex": 1, "path": path,
                                "secretSHA256": String(repeating: "b", count: 64), "redacted": "ghp_…", "image": image,
                                "repository": "reg.example/a"]
        return try JSONDecoder().decode(SweepFinding.self, from: JSONSerialization.data(withJSONObject: f))
    }

    @Test func columnsAlignAndColourIsOnlyForATerminal() throws {
        var report = try JSONDecoder.iso.decode(SweepReport.self, from: Data("""
            {"schemaVersion": 1, "run": {"id": 4, "startedAt": "2026-12-01T02:00:00Z", "finishedAt": "2026-12-01T02:07:05Z",
             "ruleset": "r", "status": "complete"}, "images": {"scanned": 2, "cached": 0, "failed": []},
             "layers": {"scanned": 1, "cached": 0, "bytesFetched": 10}, "findings": {"new": [], "open": [], "resolved": []}}
            """.utf8))
        report.findings.new = [try finding("github-pat", "critical", image: "reg.example/a:1", path: "/app/.env")]
        report.findings.open = [try finding("generic-api-key-long-name", "medium", image: "reg.example/a-much-longer-name:2", path: "/x")]
        let plain = report.text()
        #expect(plain.contains("sweep run 4 complete") && plain.contains("7 min 5 s"), "\(plain)")
        #expect(!plain.contains("\u{1B}"))
        let lines = plain.split(separator: "\n").filter { $0.hasPrefix("NEW") || $0.hasPrefix("OPEN") }.map(String.init)
        #expect(lines.count == 2)
        for column in ["reg.example/a", "/"] {
            let starts = lines.map { $0.range(of: " " + column)?.lowerBound.utf16Offset(in: $0) }
            #expect(Set(starts).count == 1, "\(column) starts in one column: \(lines)")
        }
        #expect(lines[0].contains("CRITICAL") && lines[1].contains("MEDIUM"))
        let coloured = report.text(colour: true)
        #expect(coloured.contains("\u{1B}[1;31mCRITICAL") && coloured.contains("\u{1B}[33mMEDIUM"), "\(coloured)")
    }
}
