import Foundation
import ImageBuilder
import Testing
import TestSupport
import Secrets

/// One image with a secret in every place a finding can come from, and the reports a user reads for it.
///
/// The text and SARIF reports are compared with golden files in `testdata/golden/`. The secrets are fresh on every
/// run, so each one's redacted form and SHA-256 are replaced by a stable name before comparing, and so are
/// digests and the elapsed time. `STOWAWAY_RECORD_GOLDEN=1 swift test --filter ReportFormatTests` re-records them.
@Suite struct ReportFormatTests {
    struct Sample {
        let secrets: [(name: String, value: String)]
        let path: String
        let dir: String

        init() throws {
            let github = FakeSecret.githubToken(), stripe = FakeSecret.stripeKey(), npm = FakeSecret.npmToken()
            let aws = FakeSecret.awsKeyID(), fly = FakeSecret.flyToken(), githubCmd = FakeSecret.githubToken()
            let npmNote = FakeSecret.npmToken(), stripeUser = FakeSecret.stripeKey(), npmHistory = FakeSecret.npmToken()
            secrets = [("file-github", github), ("env-stripe", stripe), ("label-npm", npm), ("cmd-github", githubCmd),
                       ("entrypoint-aws", aws), ("healthcheck-fly", fly), ("annotation-npm", npmNote),
                       ("config-stripe", stripeUser), ("history-npm", npmHistory)]
            dir = try Run.tempDirectory()
            path = dir + "/image.tar"
            try ImageBuilder.build(ImageSpec(
                format: .ociTar, compression: "none", tag: "golden:1",
                config: .init(Env: ["PATH=/usr/bin", "STRIPE_KEY=\(stripe)"], Labels: ["deploy.npm": npm],
                              Cmd: ["/app/run", "--token", githubCmd], Entrypoint: ["/bin/env", "AWS_ACCESS_KEY_ID=\(aws)"],
                              Healthcheck: .init(["CMD", "curl", "-H", "Authorization: Bearer \(fly)", "http://localhost/"])),
                history: [.init("COPY . /app # buildkit"), .init("RUN |1 NPM_TOKEN=\(npmHistory) /bin/sh -c rm /app/.env # buildkit")],
                layers: [.init(files: [.init(path: "app/.env", content: "# settings\nGITHUB_TOKEN=\(github)\n"),
                                       .init(path: "app/run", content: "#!/bin/sh\nexec true\n")]),
                         .init(files: [.init(path: "app/.wh..env", content: "")])],
                annotations: ["org.example.note": "publish with \(npmNote)"],
                containerExtras: ["User": stripeUser]),
                at: path)
        }

        /// The report with every run-specific value replaced by a stable name.
        func normalise(_ report: String) -> String {
            var s = report
            for (name, value) in secrets {
                s = s.replacingOccurrences(of: Redaction.sha256(value), with: "<sha256:\(name)>")
                s = s.replacingOccurrences(of: Redaction.redact(value), with: "<redacted:\(name)>")
            }
            s = s.replacingOccurrences(of: #"sha256:[0-9a-f]{64}"#, with: "sha256:<digest>", options: .regularExpression)
            s = s.replacingOccurrences(of: #"sha256:[0-9a-f]{12}"#, with: "sha256:<short>", options: .regularExpression)
            s = s.replacingOccurrences(of: #"in [0-9]+\.[0-9]+ s"#, with: "in <seconds> s", options: .regularExpression)
            s = s.replacingOccurrences(of: dir, with: "<dir>")
            // SARIF fingerprints hash a fresh secret with its place.
            s = s.replacingOccurrences(of: #""secretAtPlace/v1" : "[0-9a-f]{64}""#, with: #""secretAtPlace/v1" : "<fingerprint>""#,
                                       options: .regularExpression)
            // The AWS account decoded from the (random) key ID.
            s = s.replacingOccurrences(of: #"account [0-9]{12}"#, with: "account <account>", options: .regularExpression)
            s = s.replacingOccurrences(of: #""account" : "[0-9]{12}""#, with: #""account" : "<account>""#, options: .regularExpression)
            return s
        }
    }

    func compareWithGolden(_ actual: String, _ name: String) throws {
        let golden = Run.packageRoot.appendingPathComponent("testdata/golden/\(name)")
        if ProcessInfo.processInfo.environment["STOWAWAY_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: golden)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(actual == expected, "\(name) differs from testdata/golden/\(name) (STOWAWAY_RECORD_GOLDEN=1 re-records it)")
    }

    @Test func textReportMatchesItsGoldenFile() throws {
        let sample = try Sample()
        defer { try? FileManager.default.removeItem(atPath: sample.dir) }
        let r = try Run.command(Run.stowaway, ["scan", sample.path, "--no-color"])
        #expect(r.status == 1, "\(r.stderr)")
        try compareWithGolden(sample.normalise(r.stdout), "report.txt")
    }

    @Test func sarifReportMatchesItsGoldenFile() throws {
        let sample = try Sample()
        defer { try? FileManager.default.removeItem(atPath: sample.dir) }
        let r = try Run.command(Run.stowaway, ["scan", sample.path, "--format", "sarif"])
        #expect(r.status == 1, "\(r.stderr)")
        try compareWithGolden(sample.normalise(r.stdout), "report.sarif")
    }

    @Test func jsonReportMatchesItsGoldenFile() throws {
        let sample = try Sample()
        defer { try? FileManager.default.removeItem(atPath: sample.dir) }
        let r = try Run.command(Run.stowaway, ["scan", sample.path, "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let report = r.stdout.replacingOccurrences(of: #""seconds" : [0-9.eE+-]+"#, with: #""seconds" : 0"#, options: .regularExpression)
        try compareWithGolden(sample.normalise(report), "report.json")
    }

    /// A JSON report as the earlier release wrote it (before `confidence`, `details`, `remediation` and the counts
    /// of what was left out), given as `--baseline`, still leaves out every finding it holds, at every kind of place.
    @Test func aBaselineOfTheEarlierReleaseStillMatchesEveryPlace() throws {
        let sample = try Sample()
        defer { try? FileManager.default.removeItem(atPath: sample.dir) }
        let first = try Run.command(Run.stowaway, ["scan", sample.path, "--format", "json"])
        #expect(first.status == 1, "\(first.stderr)")
        var report = try JSONDocument.object(first.stdout)
        var images = try report.objects("images")
        for i in images.indices {
            for key in ["suppressed", "baselined", "truncated", "warnings"] { images[i][key] = nil }
            images[i]["findings"] = try images[i].objects("findings").map { f in
                f.filter { !["confidence", "details", "remediation"].contains($0.key) }
            }
        }
        report["images"] = images
        report["summary"] = try report.object("summary").filter {
            ["critical", "high", "medium", "low", "layers", "files", "bytes", "seconds"].contains($0.key)
        }
        let old = sample.dir + "/old-report.json"
        try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: old))
        let again = try Run.command(Run.stowaway, ["scan", sample.path, "--format", "json", "--baseline", old])
        #expect(again.status == 0, "\(again.stdout)")
        #expect(try JSONDocument.object(again.stdout).object("summary")["baselined"] as? Int == sample.secrets.count)
        #expect(try JSONDocument.findings(again.stdout).isEmpty)
    }

    /// The baseline matches a finding where the sweep's ledger does: a rebuild that adds a layer and a build step
    /// before the secrets moves their layer and history entries, not their places.
    @Test func aBaselineMatchesAcrossARebuildThatMovesLayersAndHistory() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inFile = FakeSecret.stripeKey(), inArg = FakeSecret.npmToken(), inStep = FakeSecret.githubToken()
        func build(_ name: String, extraStep: Bool) throws -> String {
            let extraHistory: [ImageSpec.History] = extraStep ? [.init("RUN /bin/sh -c apt-get update # buildkit")] : []
            let extraLayer: [ImageSpec.Layer] = extraStep ? [.init(files: [.init(path: "etc/motd", content: "hello\n")])] : []
            let path = dir + "/" + name
            try ImageBuilder.build(ImageSpec(
                format: .ociTar, compression: "none",
                history: extraHistory + [.init("RUN |1 NPM_TOKEN=\(inArg) /bin/sh -c true # buildkit", empty: true),
                                         .init("RUN /bin/sh -c echo \(inStep) > /dev/null # buildkit", empty: true),
                                         .init("COPY . /app # buildkit")],
                layers: extraLayer + [.init(files: [.init(path: "app/key.txt", content: "STRIPE=\(inFile)\n")])]),
                at: path)
            return path
        }
        let before = try build("before.tar", extraStep: false), after = try build("after.tar", extraStep: true)
        let first = try Run.command(Run.stowaway, ["scan", before, "--format", "json", "--output", dir + "/baseline.json"])
        #expect(first.status == 1, "\(first.stderr)")
        let found = try JSONDocument.findings(try String(contentsOfFile: dir + "/baseline.json", encoding: .utf8))
        #expect(Set(found.compactMap { $0["source"] as? String }) == ["file", "history"], "\(found)")
        #expect(found.contains { $0["source"] as? String == "history" && $0["key"] is NSNull }, "a secret in a step, not a build argument")
        let again = try Run.command(Run.stowaway, ["scan", after, "--format", "json", "--baseline", dir + "/baseline.json"])
        #expect(again.status == 0, "\(again.stdout)")
        #expect(try JSONDocument.object(again.stdout).object("summary")["baselined"] as? Int == found.count)
    }

    @Test func everySourceOfAFindingIsNamed() throws {
        let sample = try Sample()
        defer { try? FileManager.default.removeItem(atPath: sample.dir) }
        let r = try Run.command(Run.stowaway, ["scan", sample.path, "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let findings = try #require((json["images"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]])
        func place(_ name: String) -> [String: Any]? {
            let value = try? #require(sample.secrets.first { $0.name == name }?.value)
            return findings.first { $0["secretSHA256"] as? String == Redaction.sha256(value ?? "") }
        }
        let expected: [(String, String, String?)] = [
            ("file-github", "file", nil), ("env-stripe", "env", "STRIPE_KEY"), ("label-npm", "label", "deploy.npm"),
            ("cmd-github", "cmd", nil), ("entrypoint-aws", "entrypoint", nil), ("healthcheck-fly", "healthcheck", nil),
            ("annotation-npm", "annotation", "org.example.note"), ("config-stripe", "config", "config.User"),
            ("history-npm", "history", "NPM_TOKEN"),
        ]
        for (name, source, key) in expected {
            let f = try #require(place(name), "no finding for \(name)")
            #expect(f["source"] as? String == source, "\(name)")
            #expect(f["key"] as? String == key, "\(name)")
        }
        let file = try #require(place("file-github"))
        #expect(file["path"] as? String == "/app/.env")
        #expect(file["line"] as? Int == 2)
        #expect(file["status"] as? String == "deleted")
        #expect(file["removedInLayer"] as? Int == 1)
        #expect(file["layerIndex"] as? Int == 0)
        #expect(try #require(place("history-npm"))["historyIndex"] as? Int == 1)
        #expect(findings.count == sample.secrets.count, "\(findings.map { $0["ruleID"] ?? "" })")
    }
}
