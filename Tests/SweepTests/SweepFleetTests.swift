import Core
import Foundation
import OCI
import Testing
import TestSupport

/// Many workers on one shared run (`--run NAME`), against the harness's real registry, through the holding
/// proxy so each worker is caught at the same point every time: the first worker is held fetching the base
/// layer every image shares, the others wait for that layer instead of scanning it, and the first is
/// SIGKILLed there; its lease runs out and the others take over its items and the layer.
@Suite
struct SweepFleetTests {
    private static let images = 21

    /// `images` tags over the shared base, each with a layer of its own, every third with a fresh secret;
    /// returns the digests of those layers of their own.
    private func pushFleet(_ h: SweepHarness, prefix: String) async throws -> [Digest] {
        var tops: [Digest] = []
        for i in 0..<Self.images {
            var top = "build \(i) \(UUID())\n"
            if i % 3 == 0 {
                top += "GITHUB_TOKEN=\(FakeSecret.githubToken())\n"
            }
            let layer = Images.file("app/build-\(i).env", top)
            try await Images.push([Images.base, layer], to: h.anonymous, as: "\(prefix)/app-\(i % 4)", tag: "v\(i)")
            tops.append(try Images.digest(of: layer))
        }
        return tops
    }

    private struct Fleet {
        let prefix: String
        let proxy: StandIn
        let holdFile: String
        let proxyLog: String
        let base: Digest
        let tops: [Digest]
        let run: SweepRun

        func proxyLines() -> [String] {
            ((try? String(contentsOfFile: proxyLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// Blob GETs of `digest` the proxy forwarded (or held).
        func fetches(of digest: Digest) -> Int {
            proxyLines().filter { $0.hasPrefix("GET ") && $0.hasSuffix("/blobs/\(digest)") }.count
        }
    }

    private func setUp(_ h: SweepHarness, _ name: String, store: String) async throws -> Fleet {
        let prefix = uniquePrefix(name)
        let tops = try await pushFleet(h, prefix: prefix)
        let dir = try Run.tempDirectory()
        let holdFile = dir + "/hold", proxyLog = dir + "/proxy.log"
        let base = try Images.digest(of: Images.base)
        try base.description.write(toFile: holdFile, atomically: true, encoding: .utf8)
        let proxy = try StandIn(["proxy", "--upstream", h.anonymous, "--hold-file", holdFile, "--log", proxyLog])
        var run = try SweepRun()
        run.store = store
        try run.writeRegistry(proxy.host, prefix: prefix)
        return Fleet(prefix: prefix, proxy: proxy, holdFile: holdFile, proxyLog: proxyLog, base: base, tops: tops, run: run)
    }

    private func finish(_ p: Process) -> Bool {
        let done = eventually(within: 300) { !p.isRunning }
        if !done { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return done
    }

    private func report(_ path: String) throws -> [String: Any] {
        try JSONDocument.object(try String(contentsOfFile: path, encoding: .utf8))
    }

    /// The findings of a report as comparable lines (image, rule, path, secret hash).
    private func shapes(_ r: [String: Any]) -> Set<String> {
        Set((r.findings("new") + r.findings("open")).map { f in
            ["image", "ruleID", "path", "secretSHA256", "status"].map { (f[$0] as? String) ?? "-" }.joined(separator: " ")
        })
    }

    @Test(arguments: StoreKind.available)
    func threeWorkersOneKilledCoverEveryImageOnceAndScanTheBaseOnce(_ kind: StoreKind) async throws {
        let h = try SweepHarness.require()
        let store = try kind.freshLocation()
        let f = try await setUp(h, "fleet-\(kind.rawValue)", store: store)
        defer { f.proxy.stop() }
        let name = "nightly-\(UUID().uuidString.prefix(8))"
        let args = ["--run", name, "--lease", "5", "--jobs", "2"]

        // The first worker expands the run and is caught fetching the base layer.
        let first = try f.run.start(args, output: f.run.dir + "/w1.json")
        #expect(eventually { f.proxyLines().contains("holding \(f.base)") }, "the first worker never reached the base layer")
        let second = try f.run.start(args, output: f.run.dir + "/w2.json")
        let third = try f.run.start(args, output: f.run.dir + "/w3.json")
        // The others have claimed items and are waiting for the base layer's result, not fetching it.
        #expect(eventually { f.proxyLines().contains { $0.contains("/manifests/") && !$0.contains("holding") } })
        try await Task.sleep(for: .seconds(1))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)
        try FileManager.default.removeItem(atPath: f.holdFile)

        #expect(finish(second) && finish(third), "a worker did not finish")
        let w2 = try report(f.run.dir + "/w2.json"), w3 = try report(f.run.dir + "/w3.json")
        // Each worker's exit code speaks for its own images: 1 when one of them holds a secret new in this run.
        #expect(second.terminationStatus == (w2.findings("new").isEmpty ? 0 : 1), "\(second.terminationStatus)")
        #expect(third.terminationStatus == (w3.findings("new").isEmpty ? 0 : 1), "\(third.terminationStatus)")

        // Every image covered once: the two live workers' items add up to the run, none done twice.
        #expect(w2.int("images", "scanned") + w3.int("images", "scanned") == Self.images, "\(w2["images"] ?? "") \(w3["images"] ?? "")")
        #expect(w2.failed.isEmpty && w3.failed.isEmpty)
        // The base layer: fetched by the killed worker (held, never finished) and once more after its lease ran
        // out, by one of the others; every other layer once, but for at most the killed worker's in flight (two
        // items at --jobs 2) that it fetched and did not live to store.
        #expect(f.fetches(of: f.base) == 2, "\(f.proxyLines().filter { $0.contains(f.base.description) })")
        let topFetches = f.tops.map { f.fetches(of: $0) }
        #expect(topFetches.allSatisfy { $0 == 1 || $0 == 2 } && topFetches.filter { $0 == 2 }.count <= 2, "\(topFetches)")
        // No layer scanned by both live workers: at most the 22 distinct layers between them (fewer by those the
        // killed worker stored before it died, which they took from the store).
        let scanned = w2.int("layers", "scanned") + w3.int("layers", "scanned")
        #expect(scanned >= Self.images + 1 - 2 && scanned <= Self.images + 1, "\(scanned)")

        let whole = try Run.command(Run.stowaway, ["sweep", "report", "--db", store, "--run", name, "--format", "json"],
                                    environment: f.run.environment)
        #expect(whole.status == 1, "\(whole.stderr)")
        let r = try JSONDocument.object(whole.stdout)
        let run = try #require(r["run"] as? [String: Any])
        #expect(run["status"] as? String == "complete")
        #expect(run["itemsDone"] as? Int == Self.images && run["itemsTotal"] as? Int == Self.images)
        #expect(r.int("images", "scanned") == Self.images)
        #expect(r.findings("new").count == (Self.images + 2) / 3)
        if kind == .postgres {
            let pg = try PostgresHarness.require()
            let db = try #require(store.split(separator: "/").last?.split(separator: "?").first.map(String.init))
            #expect(try pg.psql(db, "SELECT count(*) FROM sweep_item WHERE state <> 'done' OR lease_until IS NOT NULL") == "0",
                    "an item is left claimed")
            #expect(try pg.psql(db, "SELECT count(DISTINCT input) FROM sweep_item") == String(Self.images))
            #expect(try pg.psql(db, "SELECT count(*) FROM sweep_layer_claim") == "0", "a layer is left claimed")
        }

        // The same images on one machine, into a store of its own: the same findings.
        var single = f.run
        single.store = try Run.tempDirectory() + "/single.db"
        let alone = try single.sweep()
        #expect(alone.status == 1, "\(alone.stderr)")
        #expect(shapes(alone.report) == shapes(r))
        #expect(shapes(w2).union(shapes(w3)) == shapes(r), "the workers' own reports add up to the run's")
    }

    @Test(arguments: StoreKind.available)
    func theReportOfAnUnfinishedRunIsMarkedIncomplete(_ kind: StoreKind) async throws {
        let h = try SweepHarness.require()
        let store = try kind.freshLocation()
        let f = try await setUp(h, "incomplete-\(kind.rawValue)", store: store)
        defer { f.proxy.stop() }
        let name = "nightly-\(UUID().uuidString.prefix(8))"
        let worker = try f.run.start(["--run", name, "--lease", "3", "--jobs", "1"], output: f.run.dir + "/w1.json")
        #expect(eventually { f.proxyLines().contains("holding \(f.base)") })

        let partial = try Run.command(Run.stowaway, ["sweep", "report", "--db", store, "--run", name, "--format", "json"],
                                      environment: f.run.environment)
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(partial.status == 2, "no verdict on a run that is not done")
        #expect(partial.stderr.contains("run \(name) is incomplete: 0 of \(Self.images) images done"), "\(partial.stderr)")
        let r = try JSONDocument.object(partial.stdout)
        let run = try #require(r["run"] as? [String: Any])
        #expect(run["status"] as? String == "incomplete")
        #expect(run["itemsTotal"] as? Int == Self.images && run["itemsDone"] as? Int == 0)

        // Another worker finishes the run once the dead one's lease is over; the report is then complete.
        try FileManager.default.removeItem(atPath: f.holdFile)
        let next = try f.run.sweep(["--run", name, "--lease", "3"])
        #expect(next.status == 1, "\(next.stderr)")
        #expect(next.report.int("images", "scanned") == Self.images)
        let whole = try Run.command(Run.stowaway, ["sweep", "report", "--db", store, "--run", name, "--format", "text"],
                                    environment: f.run.environment)
        #expect(whole.status == 1, "\(whole.stderr)")
        #expect(whole.stdout.contains("sweep run ") && whole.stdout.contains(" complete "))
        #expect(whole.stdout.contains("\(Self.images) of \(Self.images) items done"))
    }
}

/// PostgreSQL refusals a user sees: one line, exit code 2, the password nowhere.
@Suite
struct SweepPostgresErrorTests {
    @Test func aWrongPasswordIsOneLineWithoutThePassword() throws {
        let pg = try PostgresHarness.require()
        let wrong = "Wr0ng-\(UUID().uuidString.prefix(12))"
        let url = pg.url("postgres", password: wrong)
        var run = try SweepRun()
        run.store = url
        try run.write("""
            [[target]]
            image = "127.0.0.1:1/nothing/here:v1"
            """)
        let commands: [[String]] = [
            ["sweep", "--config", run.config, "--db", url, "--run", "r1", "--quiet"],
            ["sweep", "report", "--db", url, "--run", "r1"],
            ["sweep", "history", "--db", url],
        ]
        for args in commands {
            let r = try Run.command(Run.stowaway, args, environment: run.environment)
            #expect(r.status == 2, "\(args)")
            #expect(!r.stdout.contains(wrong) && !r.stderr.contains(wrong), "the password is shown by \(args)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("postgres://\(pg.user):***@") && r.stderr.contains("password authentication failed"), "\(r.stderr)")
        }
    }
}
