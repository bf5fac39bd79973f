import Core
import Foundation
import OCI
import Testing
import TestSupport

/// Stopping a sweep: SIGKILL mid-layer, then a run that resumes from what was stored; SIGINT, which lets the
/// work in flight finish and store; two sweeps on one store at once. A proxy in front of the registry holds
/// one layer's blob so each sweep is caught at the same point every time.
@Suite
struct SweepStopTests {
    /// v0 = [L0], v1 = [L1], v2 = [L0, L1, B], v3 = [L3]: swept in tag order with --jobs 1, so when B is
    /// held, v0 and v1 (and so L0 and L1) are done and stored.
    private struct Setup {
        let prefix: String
        let held: Digest
        let shared: [Digest]
        let proxy: StandIn
        let holdFile: String
        let proxyLog: String
        let run: SweepRun
    }

    private func setUp(_ h: SweepHarness, _ name: String) async throws -> Setup {
        let prefix = uniquePrefix(name)
        let l0 = Images.file("data/l0.txt", "l0 \(UUID())\n"), l1 = Images.file("data/l1.txt", "l1 \(UUID())\n")
        let b = Images.file("data/b.txt", "b \(UUID())\n"), l3 = Images.file("data/l3.txt", "l3 \(UUID())\n")
        try await Images.push([l0], to: h.anonymous, as: "\(prefix)/app", tag: "v0")
        try await Images.push([l1], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        try await Images.push([l0, l1, b], to: h.anonymous, as: "\(prefix)/app", tag: "v2")
        try await Images.push([l3], to: h.anonymous, as: "\(prefix)/app", tag: "v3")
        let dir = try Run.tempDirectory()
        let holdFile = dir + "/hold", proxyLog = dir + "/proxy.log"
        let held = try Images.digest(of: b)
        try held.description.write(toFile: holdFile, atomically: true, encoding: .utf8)
        let proxy = try StandIn(["proxy", "--upstream", h.anonymous, "--hold-file", holdFile, "--log", proxyLog])
        let run = try SweepRun()
        try run.writeRegistry(proxy.host, prefix: prefix)
        return Setup(prefix: prefix, held: held, shared: [try Images.digest(of: l0), try Images.digest(of: l1)], proxy: proxy,
                     holdFile: holdFile, proxyLog: proxyLog, run: run)
    }

    private func proxyLines(_ s: Setup) -> [String] {
        ((try? String(contentsOfFile: s.proxyLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func aSweepKilledMidLayerIsResumedFromTheLayersItStored() async throws {
        let h = try SweepHarness.require()
        let s = try await setUp(h, "kill")
        defer { s.proxy.stop() }
        let p = try s.run.start(["--jobs", "1"], output: s.run.dir + "/killed.json")
        let caught = eventually { proxyLines(s).contains("holding \(s.held)") }
        #expect(caught, "the sweep never reached the held layer")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        try FileManager.default.removeItem(atPath: s.holdFile)

        let before = proxyLines(s).count
        let second = try s.run.sweep()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.report.int("images", "scanned") == 4)
        #expect(second.report.int("images", "cached") == 2, "v0 and v1 were finished before the kill")
        #expect(second.report.int("layers", "cached") == 2, "L0 and L1 come from the store")
        #expect(second.report.int("layers", "scanned") == 2, "B and L3 only")
        let fetched = proxyLines(s).dropFirst(before).filter { $0.hasPrefix("GET ") && $0.contains("/blobs/") }
        for d in s.shared { #expect(!fetched.contains { $0.hasSuffix(d.description) }, "\(d) fetched again: \(fetched)") }
        #expect(fetched.contains { $0.hasSuffix(s.held.description) })

        let runs = try s.run.history()
        #expect(runs.map { $0["status"] as? String } == ["complete", "abandoned"])
    }

    @Test func sigintStopsAfterTheWorkInFlightAndLeavesAConsistentStore() async throws {
        let h = try SweepHarness.require()
        let s = try await setUp(h, "sigint")
        defer { s.proxy.stop() }
        let output = s.run.dir + "/interrupted.json"
        let p = try s.run.start(["--jobs", "1"], output: output)
        #expect(eventually { proxyLines(s).contains("holding \(s.held)") }, "the sweep never reached the held layer")
        kill(p.processIdentifier, SIGINT)
        // Released only once the sweep said it is stopping: B and its image finish and are stored, v3 never starts.
        #expect(eventually { ((try? String(contentsOfFile: output + ".stderr", encoding: .utf8)) ?? "").contains("stopping after the work in flight") })
        try FileManager.default.removeItem(atPath: s.holdFile)
        #expect(eventually { !p.isRunning }, "the sweep did not stop")
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 2)
        let report = try JSONDocument.object(try String(contentsOfFile: output, encoding: .utf8))
        #expect((report["run"] as? [String: Any])?["status"] as? String == "interrupted")
        #expect(report.int("images", "scanned") == 3, "v3 was never started")
        #expect(!proxyLines(s).contains { $0.contains("/\(s.prefix)/app/manifests/v3") })
        #expect(try s.run.history().first?["status"] as? String == "interrupted")

        let next = try s.run.sweep()
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.report.int("images", "cached") == 3)
        #expect(next.report.int("layers", "scanned") == 1)
    }

    @Test func twoSweepsOnOneStoreAtOnceBothComplete() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("twice")
        for t in ["a", "b", "c"] {
            try await Images.push([Images.base, Images.file("data/\(t).txt", "\(t) \(UUID())\n")], to: h.anonymous, as: "\(prefix)/app", tag: t)
        }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let one = try run.start(output: run.dir + "/one.json"), two = try run.start(output: run.dir + "/two.json")
        #expect(eventually { !one.isRunning && !two.isRunning })
        one.waitUntilExit()
        two.waitUntilExit()
        let said = { (name: String) in (try? String(contentsOfFile: run.dir + "/\(name).json.stderr", encoding: .utf8)) ?? "" }
        #expect(one.terminationStatus == 0, "\(said("one"))")
        #expect(two.terminationStatus == 0, "\(said("two"))")
        let runs = try run.history()
        #expect(runs.count == 2 && runs.allSatisfy { $0["status"] as? String == "complete" })
        let third = try run.sweep()
        #expect(third.status == 0 && third.report.int("images", "cached") == 3)
    }
}
