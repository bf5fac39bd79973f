import Foundation
import Testing
import TestSupport

/// Issue 18, the sweep's part: hostile registries, Machines APIs, webhooks and report text, each built by the
/// test, run through the CLI as a scheduler would run it, bounded in time and memory.
@Suite struct SweepHardeningTests {
    /// A Machines API stand-in for org `acme` whose one app `app` runs `machines`.
    private func flyAPI(token: String, app: String, machines: [[String: Any]], drip: Double? = nil) throws -> StandIn {
        let fixture = try Run.tempDirectory() + "/fly.json"
        let doc: [String: Any] = ["orgs": ["acme": [app]], "machines": [app: machines]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: fixture))
        return try StandIn(["fly", "--token", token, "--fixture", fixture] + (drip.map { ["--drip", String($0)] } ?? []))
    }

    private func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func theFlyTokenNeverGoesToARegistryAMachineNames() async throws {
        let token = FakeSecret.flyToken()
        let log = try Run.tempDirectory() + "/foreign.log"
        let foreign = try StandIn(["registry", "--log", log])
        defer { foreign.stop() }
        let app = "victim-app"
        // Anyone who can start a machine in the org picks its image, and so the registry it is pulled from.
        let api = try flyAPI(token: token, app: app, machines: [
            ["id": "m1", "config": ["image": "\(foreign.host)/evil/app:v1"],
             "image_ref": ["registry": foreign.host, "repository": "evil/app", "tag": "v1", "digest": "", "labels": [:]]],
            ["id": "m2", "config": ["image": "\(foreign.host)/other:latest"]],
        ])
        defer { api.stop() }
        let run = try SweepRun()
        try run.writeFlyOrg(api: api.host, registry: foreign.host)
        let r = try run.sweep(env: ["ACME_FLY_TOKEN": token])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.report.failed.count == 2, "both images fail on the registry's 401: \(r.report.failed)")

        // `scan --fly-app` finds the same machines.
        let scan = try Run.command(Run.stowaway, ["scan", "--fly-app", app, "--insecure-registry", foreign.host, "--quiet"],
                                   environment: run.environment.merging(["FLY_API_TOKEN": token, "FLY_API_HOSTNAME": "http://\(api.host)"]) { $1 })
        #expect(scan.status == 2, "\(scan.stderr)")

        let seen = lines(log)
        #expect(seen.contains { $0.hasPrefix("GET /v2/") }, "the foreign registry was asked: \(seen)")
        let basic = Data("x:\(token)".utf8).base64EncodedString()
        for line in seen {
            #expect(!line.contains(basic) && !line.contains(token), "the Fly token went to \(foreign.host): \(line)")
        }
    }

    /// Runs `stowaway sweep` under `/usr/bin/time -f %M`, waiting at most `seconds` (then kills it): exit status,
    /// peak RSS in KB, the JSON report and stderr.
    private func boundedSweep(_ run: SweepRun, _ args: [String] = [], env: [String: String] = [:], seconds: Double = 60)
        throws -> (status: Int32, finished: Bool, rssKB: Int, report: [String: Any], stderr: String) {
        let output = run.dir + "/report-\(UUID().uuidString.prefix(6)).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        p.arguments = ["-f", "%M", "-o", output + ".rss", Run.stowaway, "sweep", "--config", run.config, "--db", run.db, "--format", "json",
                       "--quiet", "--output", output] + args
        p.environment = ProcessInfo.processInfo.environment.merging(run.environment.merging(env) { $1 }) { $1 }
        p.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: output + ".stderr", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: output + ".stderr") ?? FileHandle.nullDevice
        try p.run()
        let finished = eventually(within: seconds) { !p.isRunning }
        if !finished {
            // The sweep under `time` first (its pid from /proc), then `time`.
            let children = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/task/\(p.processIdentifier)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
        let rss = Int(((try? String(contentsOfFile: output + ".rss", encoding: .utf8)) ?? "").split(separator: "\n").last ?? "") ?? -1
        let report = try JSONDocument.optionalObject(atPath: output)
        return (p.terminationStatus, finished, rss, report, (try? String(contentsOfFile: output + ".stderr", encoding: .utf8)) ?? "")
    }

    @Test func endlessCatalogPagesAreReadOneAtATimeWithinLimits() async throws {
        // Pages of ~15 MB (over the per-page limit), then pages just under it: either way the listing stops at a
        // limit named in the report, memory stays bounded, and the sweep goes on with what it got.
        for (pageBytes, limit) in [(15_000_000, "8 MiB per page"), (7_500_000, "1000000 names read per registry")] {
            let log = try Run.tempDirectory() + "/catalog.log"
            let registry = try StandIn(["catalog", "--log", log, "--page-bytes", String(pageBytes)])
            defer { registry.stop() }
            let run = try SweepRun()
            try run.write("""
                [[registry]]
                host = "\(registry.host)"
                insecure = true

                [[target]]
                registry = "\(registry.host)"
                repositories = ["p1/\(String(repeating: "n", count: 200))7"]
                """)
            let r = try boundedSweep(run)
            #expect(r.finished, "the sweep ran past 60 s on \(pageBytes)-byte pages")
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.rssKB > 0 && r.rssKB < 300_000, "peak RSS \(r.rssKB) KB on \(pageBytes)-byte pages")
            let failed = r.report.failed
            #expect(failed.contains { ($0["image"] as? String) == "\(registry.host) catalog" && (($0["error"] as? String) ?? "").contains(limit) },
                    "\(failed)")
            if pageBytes < 8 << 20 {
                // What it got: one name of page 1 matches, and its tags were listed.
                #expect(lines(log).contains { $0.hasPrefix("tags p1/") }, "the sweep did not go on with the names it had")
            }
        }
    }

    @Test func aMachinesAPIThatDripsItsAnswerFailsTheOrgInTime() async throws {
        let token = FakeSecret.flyToken()
        let api = try flyAPI(token: token, app: "slow-app", machines: [], drip: 1)
        defer { api.stop() }
        let run = try SweepRun()
        try run.writeFlyOrg(api: api.host)
        let r = try boundedSweep(run, env: ["ACME_FLY_TOKEN": token])
        #expect(r.finished, "the sweep waited on a dripping Machines API past 60 s")
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.report.failed.first?["image"] as? String == "fly org acme")
        #expect((r.report.failed.first?["error"] as? String)?.contains("no whole answer within 30 s") == true, "\(r.report.failed)")
    }

    @Test(arguments: ["catalog", "fly"])
    func theFirstSigtermStopsListingAndDiscovery(_ kind: String) async throws {
        let token = FakeSecret.flyToken()
        let log = try Run.tempDirectory() + "/catalog.log"
        let server: StandIn
        let run = try SweepRun()
        if kind == "catalog" {
            server = try StandIn(["catalog", "--log", log, "--names", "50", "--delay", "0.3"])
            try run.write("""
                [[registry]]
                host = "\(server.host)"
                insecure = true

                [[target]]
                registry = "\(server.host)"
                """)
        } else {
            server = try flyAPI(token: token, app: "slow-app", machines: [], drip: 1)
            try run.writeFlyOrg(api: server.host)
        }
        defer { server.stop() }
        let output = run.dir + "/stopped.json"
        let p = try run.start(output: output, env: ["ACME_FLY_TOKEN": token])
        let busy = kind == "catalog" ? eventually(within: 30) { lines(log).count >= 3 }
            : eventually(within: 30) { lines(server.portFile + ".log").count >= 1 }
        #expect(busy, "the sweep never got to listing")
        kill(p.processIdentifier, SIGTERM)
        let exited = eventually(within: 10) { !p.isRunning }
        #expect(exited, "still running 10 s after SIGTERM")
        if !exited { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)
        let report = try JSONDocument.optionalObject(atPath: output)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "interrupted", "\(report)")
        #expect(report.failed.isEmpty, "a stopped listing is not a failure: \(report.failed)")
        #expect(try run.history().first?["status"] as? String == "interrupted")
    }

    @Test func hostileNamesAreInertInTheMarkdownTicket() async throws {
        let token = FakeSecret.flyToken()
        // App names and machine ids come from whoever controls the org: a link, a tracking image, HTML, a bare
        // URL and a forged table row.
        let hostile = "x](http://e.example/a) ![t](http://t.example/p.png) <img src=x> http://b.example"
        let fixture = try Run.tempDirectory() + "/fly.json"
        let doc: [String: Any] = ["orgs": ["acme": ["ok-app", hostile]],
                                  "machines": ["ok-app": [["id": "[m](http://e.example/m)\n| forged |", "config": ["image": "NOT A REF::"]]]]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: fixture))
        let api = try StandIn(["fly", "--token", token, "--fixture", fixture])
        defer { api.stop() }
        let run = try SweepRun()
        try run.writeFlyOrg(api: api.host)
        let r = try Run.command(Run.stowaway, ["sweep", "--config", run.config, "--db", run.db, "--format", "markdown", "--quiet"],
                                environment: run.environment.merging(["ACME_FLY_TOKEN": token]) { $1 })
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stdout.contains("Could not be scanned"), "\(r.stdout)")
        // Outside code spans (which render nothing) and backslash escapes (literal characters), no link, image,
        // HTML or autolink survives.
        let outside = r.stdout.replacingOccurrences(of: "`[^`\n]*`", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\\\\[!-/:-@\\[-`{-~]", with: "", options: .regularExpression)
        for bad in ["](", "<img", "http://", "https://"] {
            #expect(!outside.contains(bad), "\(bad) in the ticket: \(r.stdout)")
        }
        #expect(!r.stdout.split(separator: "\n").contains { $0.hasPrefix("| forged") }, "\(r.stdout)")
    }
}
