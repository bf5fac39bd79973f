import Foundation
import ImageBuilder
import Testing
import TestSupport

/// The scan's flags as people coming from trivy, gitleaks and skopeo type them: short names, any case, several
/// outputs from one run, a severity filter apart from the exit threshold, and the environment for CI.
@Suite struct FlagTests {
    let planted = PlantedImage()

    func image() throws -> (path: String, dir: String) {
        let dir = try Run.tempDirectory()
        var spec = planted.spec(.docker25, compression: "gzip")
        // A finding less severe than the planted ones, which are all critical.
        spec.layers.append(.init(files: [.init(path: "srv/ids.txt", content: "id = \(FakeSecret.awsKeyID())\n")]))
        spec.history?.append(ImageSpec.History("COPY ids.txt /srv/"))
        try ImageBuilder.build(spec, at: dir + "/image.tar")
        return (dir + "/image.tar", dir)
    }

    func severities(_ json: String) throws -> [String] { try JSONDocument.findings(json).compactMap { $0["severity"] as? String } }

    @Test func shortNamesAnyCaseAndSeveralOutputsFromOneRun() throws {
        let (path, dir) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = try Run.command(Run.stowaway, ["scan", path, "-f", "JSON", "--fail-on", "CRITICAL", "-q"])
        #expect(json.status == 1, "\(json.stderr)")
        let all = try severities(json.stdout)
        #expect(all.count == planted.expected.count + 1)

        // The text report on standard output, JSON and SARIF in files: one scan, the same findings in each.
        let r = try Run.command(Run.stowaway, ["scan", path, "-o", "json=\(dir)/r.json", "--output", "sarif=\(dir)/r.sarif", "-q"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("\(all.count) findings"), "\(r.stdout.suffix(300))")
        #expect(try severities(try String(contentsOfFile: dir + "/r.json", encoding: .utf8)).sorted() == all.sorted())
        let sarif = try JSONDocument.object(try String(contentsOfFile: dir + "/r.sarif", encoding: .utf8))
        #expect(try sarif.objects("runs").first.map { ($0["results"] as? [Any])?.count } == all.count)

        // A plain -o PATH takes the --format report; two of them are a usage error.
        let plain = try Run.command(Run.stowaway, ["scan", path, "-f", "sarif", "-o", "\(dir)/plain.sarif", "-q"])
        #expect(plain.status == 1 && plain.stdout.isEmpty)
        #expect(FileManager.default.fileExists(atPath: dir + "/plain.sarif"))
        let two = try Run.command(Run.stowaway, ["scan", path, "-o", "\(dir)/a", "-o", "\(dir)/b"])
        #expect(two.status == 64 && two.stderr.contains("more than one --output PATH"), "\(two.stderr)")
    }

    @Test func severityFiltersTheReportAndFailOnStillJudgesEveryFinding() throws {
        let (path, dir) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let all = try severities(try Run.command(Run.stowaway, ["scan", path, "-f", "json"]).stdout)
        #expect(Set(all).count > 1, "the planted image has findings of several severities: \(all)")
        let r = try Run.command(Run.stowaway, ["scan", path, "-f", "json", "--severity", "Critical,LOW"])
        #expect(r.status == 1)
        let kept = try severities(r.stdout)
        #expect(!kept.isEmpty && kept.allSatisfy { $0 == "critical" || $0 == "low" } && all.contains("high"))
        #expect(kept.count < all.count)
        #expect(try JSONDocument.object(r.stdout).object("summary")["filtered"] as? Int == all.count - kept.count)

        // Nothing of the asked severities: not "No secrets found", and the exit code still says there are findings.
        let none = try Run.command(Run.stowaway, ["scan", path, "--severity", "low", "--fail-on", "medium", "--no-color"])
        if !all.contains("low") {
            #expect(none.stdout.contains("No findings of the severities asked for."), "\(none.stdout.suffix(300))")
            #expect(!none.stdout.contains("No secrets found"))
        }
        #expect(none.stdout.contains("of other severities not shown (--severity)"))
        #expect(none.status == 1)
        let bad = try Run.command(Run.stowaway, ["scan", path, "--severity", "high,urgent"])
        #expect(bad.status == 64 && bad.stderr.contains("--severity"), "\(bad.stderr)")
    }

    @Test func theEnvironmentSetsWhatNoFlagSays() throws {
        let (path, dir) = try image()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["STOWAWAY_FORMAT": "json", "STOWAWAY_OUTPUT": "sarif=\(dir)/env.sarif", "STOWAWAY_FAIL_ON": "Critical"]
        let r = try Run.command(Run.stowaway, ["scan", path, "-q"], environment: env)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(try !severities(r.stdout).isEmpty, "JSON on standard output")
        #expect(FileManager.default.fileExists(atPath: dir + "/env.sarif"))
        let flagWins = try Run.command(Run.stowaway, ["scan", path, "-q", "-f", "text"], environment: env)
        #expect(flagWins.stdout.contains("findings"))
        let bad = try Run.command(Run.stowaway, ["scan", path], environment: ["STOWAWAY_FAIL_ON": "urgent"])
        #expect(bad.status == 64 && bad.stderr.contains("STOWAWAY_FAIL_ON"), "\(bad.stderr)")
    }

    @Test func rulesRefusesAReportFormatItDoesNotPrint() throws {
        let r = try Run.command(Run.stowaway, ["rules", "--format", "sarif"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(try Run.command(Run.stowaway, ["rules", "-f", "JSON"]).status == 0)
    }

    @Test func helpStatesEachDefaultOnce() throws {
        let r = try Run.command(Run.stowaway, ["scan", "--help"])
        #expect(!r.stdout.contains("(default 4). (default: 4)") && r.stdout.contains("(default: 4)"), "\(r.stdout)")
        #expect(r.stdout.contains("64"))
    }
}
