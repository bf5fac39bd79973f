import Foundation
import ImageBuilder
import OCI
import Scan
import Secrets
import Sweep
import Testing
import TestSupport

/// The store and the layer cache on their own: what is kept, what a run changes, and that stored layers give
/// the same findings as a scan.
struct SweepStoreTests {
    private func finding(_ rule: String, path: String, sha: String, severity: Severity = .high) throws -> Finding {
        let json: [String: Any] = ["ruleID": rule, "severity": severity.rawValue, "description": rule, "source": "file", "layerIndex": 1,
                                   "path": path, "line": 1, "status": "present", "secretSHA256": sha, "redacted": "abc…"]
        return try JSONDecoder().decode(Finding.self, from: try JSONSerialization.data(withJSONObject: json))
    }

    private func seen(_ f: Finding, repo: String) -> SweepFinding {
        SweepFinding(finding: f, image: "\(repo):v1", manifestDigest: nil, repository: repo)
    }

    @Test func findingsAreNewThenOpenThenResolvedOnlyWhereTheRepositoryWasCovered() async throws {
        let dir = try Run.tempDirectory()
        let store = try SQLiteSweepStore(path: dir + "/nested/dir/sweep.db")
        let a = try finding("github-token", path: "/app/.env", sha: String(repeating: "a", count: 64))
        let b = try finding("stripe-live-key", path: "/srv/key", sha: String(repeating: "b", count: 64))

        let r1 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c1 = try await store.recordFindings(run: r1, seen: [seen(a, repo: "r/one"), seen(b, repo: "r/two")], covered: ["r/one", "r/two"])
        #expect(c1.new.count == 2 && c1.open.isEmpty && c1.resolved.isEmpty)

        // r/two not covered (an image of it failed): b stays open although unseen; a is seen again.
        let r2 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c2 = try await store.recordFindings(run: r2, seen: [seen(a, repo: "r/one")], covered: ["r/one"])
        #expect(c2.new.isEmpty && c2.open == [seen(a, repo: "r/one").key] && c2.resolved.isEmpty)

        // Covered and unseen: resolved in this run.
        let r3 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c3 = try await store.recordFindings(run: r3, seen: [], covered: ["r/one", "r/two"])
        #expect(Set(c3.resolved.map(\.key)) == [seen(a, repo: "r/one").key, seen(b, repo: "r/two").key])
        #expect(c3.resolved.allSatisfy { $0.resolvedInRun == r3 })
        #expect(try await store.openFindings(limit: 10).isEmpty)

        // Seen again after being resolved: new again (a regression), and open once more.
        let r4 = try await store.beginRun(ruleset: "rs", startedAt: Date())
        let c4 = try await store.recordFindings(run: r4, seen: [seen(a, repo: "r/one")], covered: ["r/one"])
        #expect(c4.new == [seen(a, repo: "r/one").key])
        let open = try await store.openFindings(limit: 10)
        #expect(open.map(\.firstSeenRun) == [r1] && open.map(\.lastSeenRun) == [r4])

        // The same secret at the same place in another repository is another finding.
        let c5 = try await store.recordFindings(run: r4, seen: [seen(a, repo: "r/other")], covered: [])
        #expect(c5.new.count == 1)

        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/nested/dir/sweep.db")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let dirAttributes = try FileManager.default.attributesOfItem(atPath: dir + "/nested/dir")
        #expect((dirAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }

    @Test func runsKeepTheirCountsAndReopeningMigratesNothingTwice() async throws {
        let path = try Run.tempDirectory() + "/sweep.db"
        let store = try SQLiteSweepStore(path: path)
        let id = try await store.beginRun(ruleset: "fp", startedAt: Date())
        var counts = RunCounts()
        counts.imagesScanned = 20
        counts.layersCached = 7
        try await store.finishRun(id: id, status: .complete, finishedAt: Date(), counts: counts)
        let again = try SQLiteSweepStore(path: path)
        let runs = try await again.runs(limit: 5)
        #expect(runs.count == 1)
        #expect(runs.first?.status == .complete && runs.first?.counts == counts && runs.first?.ruleset == "fp")
    }

    @Test func aStoreThatIsNotSQLiteIsNamedInOneLine() throws {
        let path = try Run.tempDirectory() + "/sweep.db"
        try Data("not a database, just text that is long enough to be a header".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteSweepStore(path: path)
            Issue.record("opened a file that is not a database")
        } catch {
            #expect("\(error)".hasPrefix("\(path): sweep store:"), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func aPostgresURLIsRefusedWithoutItsPassword() {
        do {
            _ = try SweepStores.open("postgres://sweeper:hunter2secret@db.internal:5432/stowaway")
            Issue.record("accepted a PostgreSQL URL")
        } catch {
            #expect("\(error)".contains("PostgreSQL stores are not supported yet"))
            #expect(!"\(error)".contains("hunter2secret"))
        }
    }

    @Test func historyOfAStoreThatDoesNotExistIsAnErrorNotANewFile() throws {
        let path = try Run.tempDirectory() + "/none.db"
        let r = try Run.command(Run.stowaway, ["sweep", "history", "--db", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(path): sweep store: no sweep has run with this store yet"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// An image whose secrets are deleted by a whiteout, overwritten by a later layer, or left present.
    private func plantedImage() async throws -> (Image, [String]) {
        let github = FakeSecret.githubToken(), stripe = FakeSecret.stripeKey(), fly = FakeSecret.flyToken()
        let dir = try Run.tempDirectory() + "/layout"
        var spec = ImageSpec(format: .oci, compression: "gzip", tag: "planted:v1", config: .init(Env: ["FLY_API_TOKEN=\(fly)"]), layers: [
            .init(files: [.init(path: "app/.env", content: "GH=\(github)\n"), .init(path: "app/conf/key.txt", content: "S=\(stripe)\n"),
                          .init(path: "keep/\(github).txt", content: "T=\(github)\n")]),
            .init(files: [.init(path: "app/.wh..env", content: "")]),
            .init(files: [.init(path: "app/conf", content: "now a file\n")]),
        ])
        spec.history = [.init("ADD"), .init("RUN rm"), .init("COPY")]
        try ImageBuilder.build(spec, at: dir)
        let image = try #require(try await ImageResolver(platform: .all).images(of: try ImageLoader.source(dir)).first)
        return (image, [github, stripe, fly])
    }

    @Test func storedLayerResultsGiveTheFindingsAScanGivesAndHoldNoSecret() async throws {
        let (image, secrets) = try await plantedImage()
        let ruleSet = try RuleSet()
        let scanner = Scan.Scanner(engine: ruleSet.engine, options: ScanOptions(pathAllowlist: ruleSet.pathAllowlist))
        let direct = scanner.scan([image]).images[0].findings
        // Through JSON, as the store keeps them.
        let stored = try image.layers.map { layer -> LayerScanResult in
            let r = scanner.scanLayerForStore(layer)
            #expect(r.error == nil)
            let data = try JSONEncoder().encode(r)
            for s in secrets { #expect(data.range(of: Data(s.utf8)) == nil, "a secret in the stored layer result") }
            return try JSONDecoder().decode(LayerScanResult.self, from: data)
        }
        let (cached, errors, _) = scanner.findings(of: image, layers: stored)
        #expect(errors.isEmpty)
        func shape(_ f: Finding) -> String {
            [f.ruleID, f.source.rawValue, "\(f.layerIndex ?? -1)", f.path ?? "-", "\(f.line ?? -1)", f.key ?? "-", f.status?.rawValue ?? "-",
             "\(f.removedInLayer ?? -1)", f.secretSHA256, f.redacted, f.severity.rawValue].joined(separator: " ")
        }
        #expect(Set(cached.map(shape)) == Set(direct.map(shape)))
        #expect(Set(cached.compactMap(\.status)) == [.present, .deleted])
        #expect(cached.allSatisfy { $0.secret == nil })
        #expect(cached.contains { $0.status == .deleted && $0.path == "/app/conf/key.txt" && $0.removedInLayer == 2 })
        #expect(!cached.contains { ($0.path ?? "").contains(secrets[0]) }, "a path holding the secret is redacted")
    }
}
