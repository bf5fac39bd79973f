import Foundation
import Testing
import TestSupport

/// The morning page (`sweep report --format html`, `html = "FILE"`) and `--format prometheus`, written from a
/// real SQLite store of three runs against the registry harness and checked in headless Chromium and with
/// prometheus_client by testdata/sweep-page/check.py (both from the venv `make deps` builds under .build).
@Suite
struct SweepPageTests {
    static var python: String { Run.packageRoot.path + "/.build/venv/bin/python" }
    static var checker: String { Run.packageRoot.path + "/testdata/sweep-page/check.py" }

    @Test func theMorningPageWorksInABrowserAndThePrometheusFileParses() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no \(Self.python): run `make deps`")
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("page")
        let recorder = try Recorder()
        defer { recorder.stop() }
        let run = try SweepRun()
        let page = run.dir + "/after-run.html"
        try run.write("""
            html = "after-run.html"

            [[registry]]
            host = "\(h.anonymous)"
            insecure = true

            [[target]]
            registry = "\(h.anonymous)"
            repositories = ["\(prefix)/*"]
            """)

        // Run 1: a token in a file whose name is markup.
        let markup = "<img src=x onerror=window.__stowawayPwned=1>.env"
        let secrets = [FakeSecret.githubToken(), FakeSecret.stripeKey(), FakeSecret.awsKeyID()]
        try await Images.push([Images.base, Images.file("app/\(markup)", "GITHUB_TOKEN=\(secrets[0])\n")],
                              to: h.anonymous, as: "\(prefix)/api", tag: "v1")
        #expect(try run.sweep().status == 1)
        // Run 2: a key in an env variable whose name is a script that would call the recorder.
        let hostileKey = "<script>Object.defineProperty(window,\"__stowawayPwned\",{value:1});fetch(\"http://127.0.0.1:\(recorder.port)/js\")</script>"
            + "<style>@import url(http://127.0.0.1:\(recorder.port)/css)</style>"
        try await Images.push([Images.base], env: ["\(hostileKey)=\(secrets[1])"], to: h.anonymous, as: "\(prefix)/web", tag: "v1")
        #expect(try run.sweep().status == 1)
        // Run 3: the first image rebuilt without its token (resolved), a new one with an AWS key (new).
        try await Images.push([Images.base, Images.file("app/main.py", "print('v2')\n")], to: h.anonymous, as: "\(prefix)/api", tag: "v1")
        try await Images.push([Images.base, Images.file("srv/aws.txt", "aws_access_key_id = \(secrets[2])\n")],
                              to: h.anonymous, as: "\(prefix)/worker", tag: "v1")
        let third = try run.sweep()
        #expect(third.status == 1, "\(third.stderr)")
        #expect(third.report.findings("resolved").count == 1)

        // What the page must list: the last run's findings, counted by severity from its JSON report.
        var rows: [String: Int] = [:]
        for kind in ["new", "open", "resolved"] {
            for f in third.report.findings(kind) { rows[f["severity"] as? String ?? "?", default: 0] += 1 }
        }
        let open = third.report.findings("new").count + third.report.findings("open").count

        // The page the config asks for is written after every run, with one trend point per run.
        let afterRun = try String(contentsOfFile: page, encoding: .utf8)
        #expect(afterRun.components(separatedBy: "<circle class=\"pt").count - 1 == 3)

        let html = run.dir + "/report.html"
        let report = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "html", "--output", html],
                                     environment: run.environment)
        #expect(report.status == 1, "\(report.stderr)")
        let bytes = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!secrets.contains { bytes.contains($0) } && !bytes.contains("<img") && !bytes.contains("<script>Object"),
                "a secret or markup is in the page as is")

        let screenshot = Run.packageRoot.path + "/testdata/out/sweep-page.png"
        let rowsJSON = String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
        let browser = try Run.command(Self.python, [Self.checker, "browser", "--page", html, "--screenshot", screenshot, "--runs", "3",
                                                    "--rows", rowsJSON, "--markup", markup, "--log", recorder.log])
        #expect(browser.status == 0, "\(browser.stderr)")
        #expect(FileManager.default.fileExists(atPath: screenshot))

        let prom = run.dir + "/sweep.prom"
        let metrics = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "prometheus", "--output", prom],
                                      environment: run.environment)
        #expect(metrics.status == 1, "\(metrics.stderr)")
        let parsed = try Run.command(Self.python, [Self.checker, "prometheus", "--file", prom, "--open", "\(open)", "--failed", "0"])
        #expect(parsed.status == 0, "\(parsed.stderr)")

        // A past run by number: run 2 saw the stripe key first and the token again.
        let second = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--id", "2", "--format", "json"],
                                     environment: run.environment)
        let doc = try JSONDocument.object(second.stdout)
        #expect(doc.int("run", "id") == 2)
        #expect(doc.findings("new").count == 1 && doc.findings("open").count == 1, "\(second.stdout)")

        // By date (UTC): the last run started that day; a day without runs is one line and exit 2.
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        f.locale = Locale(identifier: "en_US_POSIX")
        let today = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--date", f.string(from: Date()), "--format", "json"],
                                    environment: run.environment)
        #expect(try JSONDocument.object(today.stdout).int("run", "id") == 3, "\(today.stderr)")
        let none = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--date", "2001-02-03"], environment: run.environment)
        #expect(none.status == 2 && none.stdout.isEmpty)
        #expect(none.stderr.contains("no finished run started on 2001-02-03"), "\(none.stderr)")
        let bad = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--date", "yesterday"], environment: run.environment)
        #expect(bad.status == 64 && bad.stderr.contains("--date"), "\(bad.stderr)")
    }

    @Test func aStoreWithoutRunsIsAOneLineErrorWithExitCode2AndNoPage() throws {
        let run = try SweepRun()
        let page = run.dir + "/x.html"
        let r = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "html", "--output", page],
                                environment: run.environment)
        #expect(r.status == 2)
        #expect(r.stderr.contains(run.db) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: page))
    }
}

/// check.py's recorder: an HTTP server on 127.0.0.1 that logs every request it gets.
final class Recorder {
    let process: Process
    let port: Int
    let log: String

    init() throws {
        let dir = try Run.tempDirectory()
        let log = dir + "/hits.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SweepPageTests.checker, "recorder", "--port-file", dir + "/port", "--log", log]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port: Int?
        // A liveness bound, not a timing: the server writes its port as soon as it listens.
        _ = eventually(within: 20) {
            port = (try? String(contentsOfFile: dir + "/port", encoding: .utf8)).flatMap { Int($0) }
            return port != nil || !process.isRunning
        }
        guard let port else {
            process.terminate()
            throw StandInError(description: "check.py recorder did not start")
        }
        self.port = port
        self.log = log
        self.process = process
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if !eventually(within: 5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
