import Core
import Foundation
import ImageBuilder
import OCI
import Testing
import TestSupport

/// `stowaway sweep` against the real registries of the test harness: what a platform team running it every
/// night observes (exit codes, the JSON report, what the registry was asked for).
@Suite
struct SweepRegistryTests {
    /// Three images in two repositories over one base layer, one with a secret in a file.
    private func pushSharedBase(_ h: SweepHarness, prefix: String) async throws -> (secret: String, digests: [Digest]) {
        let secret = FakeSecret.githubToken()
        var digests: [Digest] = []
        digests.append(try await Images.push([Images.base, Images.file("app/.env", "GITHUB_TOKEN=\(secret)\n")], to: h.anonymous,
                                             as: "\(prefix)/api", tag: "v1"))
        digests.append(try await Images.push([Images.base, Images.file("app/main.py", "print('v2')\n")], to: h.anonymous,
                                             as: "\(prefix)/api", tag: "v2"))
        digests.append(try await Images.push([Images.base, Images.file("srv/index.html", "<p>web</p>\n")], to: h.anonymous,
                                             as: "\(prefix)/web", tag: "v1"))
        return (secret, digests)
    }

    /// `--confidence` decides what a sweep reports, as it does for `scan`: by default a weak generic match is left
    /// out of the report, the exit code and the metrics and counted; the store keeps it for `--confidence low`.
    @Test func confidenceDecidesWhatASweepReportsAndTheStoreKeepsTheRest() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("confidence")
        let valid = FakeSecret.checksummedToken("ghp_"), commented = FakeSecret.checksummedToken("ghp_"), weak = FakeSecret.random(24)
        try await Images.push([Images.file("app/.env", "GH_TOKEN=\(valid)\n# OLD_TOKEN=\(commented)\n")], to: h.anonymous,
                              as: "\(prefix)/api", tag: "v1")
        // Only a weak generic match: nothing a default sweep reports, so no reason to fail the night.
        try await Images.push([Images.file("app/settings.ini", "key=\(weak)\n")], to: h.anonymous, as: "\(prefix)/quiet", tag: "v1")
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)

        let first = try run.sweep()
        #expect(first.status == 1, "\(first.stderr)")
        let shown = first.report.findings("new")
        #expect(Set(shown.compactMap { $0["confidence"] as? String }) == ["high", "medium"], "\(shown)")
        #expect(!shown.contains { ($0["image"] as? String)?.contains("/quiet:") == true })
        #expect(first.report.int("findings", "belowConfidence") == 1)

        let all = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "json", "--confidence", "low"],
                                  environment: run.environment)
        let low = try JSONDocument.object(all.stdout)
        #expect(low.findings("new").count == 3, "\(all.stdout)")
        #expect(low.int("findings", "belowConfidence") == 0)
        let sure = try JSONDocument.object(try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "json",
                                                                          "--confidence", "high"], environment: run.environment).stdout)
        #expect(sure.findings("new").map { $0["confidence"] as? String } == ["high"])
        #expect(sure.int("findings", "belowConfidence") == 2)
        let metrics = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--format", "prometheus"], environment: run.environment)
        let open = metrics.stdout.split(separator: "\n").filter { $0.hasPrefix("stowaway_sweep_open_findings{") }
            .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(open == 2, "\(metrics.stdout)")
        let text = try Run.command(Run.stowaway, ["sweep", "report", "--db", run.db, "--no-color"], environment: run.environment)
        #expect(text.stdout.contains("1 of lower confidence not shown (--confidence low shows them)"), "\(text.stdout)")
    }

    @Test func theSecondSweepFetchesNoBlobAndTheStoreHoldsNoSecret() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("second")
        let (secret, _) = try await pushSharedBase(h, prefix: prefix)
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)

        var offset = h.logOffset()
        let first = try run.sweep()
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.report.int("images", "scanned") == 3)
        #expect(first.report.int("images", "cached") == 0)
        // The base layer is shared: four distinct layers, each scanned (and fetched) once.
        #expect(first.report.int("layers", "scanned") == 4)
        let baseDigest = try Images.digest(of: Images.base)
        let firstFetches = h.blobFetches(prefix: prefix, since: offset)
        #expect(firstFetches.filter { $0.contains(baseDigest.description) }.count == 1, "\(firstFetches)")
        #expect(firstFetches.count == 4 + 3, "4 layers and 3 configs: \(firstFetches)")
        let new = first.report.findings("new")
        #expect(new.count == 1)
        #expect(new.first?["image"] as? String == "\(h.anonymous)/\(prefix)/api:v1")
        #expect(new.first?["path"] as? String == "/app/.env")
        #expect(new.first?["manifestDigest"] as? String != nil)
        #expect(new.first?["secret"] is NSNull)

        offset = h.logOffset()
        let second = try run.sweep()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.report.int("images", "scanned") == 3)
        #expect(second.report.int("images", "cached") == 3)
        #expect(second.report.int("layers", "scanned") == 0)
        #expect(second.report.int("layers", "bytesFetched") == 0)
        #expect(h.blobFetches(prefix: prefix, since: offset).isEmpty, "\(h.blobFetches(prefix: prefix, since: offset))")
        #expect(second.report.findings("new").isEmpty)
        #expect(second.report.findings("open").count == 1)

        // Hashes and redacted previews only: the secret is nowhere in the store's files.
        let attributes = try FileManager.default.attributesOfItem(atPath: run.db)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        for suffix in ["", "-wal", "-shm"] {
            if let bytes = FileManager.default.contents(atPath: run.db + suffix) {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret is in sweep.db\(suffix)")
            }
        }
        #expect(!first.report.description.contains(secret))
    }

    @Test func aNewTagWithANewSecretIsNewAndATagRebuiltWithoutItsSecretIsResolved() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("diff")
        let old = FakeSecret.stripeKey(), fresh = FakeSecret.githubToken()
        try await Images.push([Images.base, Images.file("app/settings.txt", "STRIPE=\(old)\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let first = try run.sweep()
        #expect(first.status == 1)
        #expect(first.report.findings("new").map { $0["ruleID"] as? String } == ["stripe-live-key"], "\(first.report)")

        // v1 rebuilt without the key; v2 is new and carries another secret.
        try await Images.push([Images.base, Images.file("app/settings.txt", "STRIPE=from-the-vault\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        try await Images.push([Images.base, Images.file("app/config.py", "TOKEN = '\(fresh)'\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v2")
        let second = try run.sweep()
        #expect(second.status == 1, "\(second.stderr)")
        let new = second.report.findings("new")
        #expect(new.count == 1, "\(new)")
        #expect(new.first?["ruleID"] as? String == "github-token")
        #expect(new.first?["image"] as? String == "\(h.anonymous)/\(prefix)/app:v2")
        let resolved = second.report.findings("resolved")
        #expect(resolved.count == 1)
        #expect(resolved.first?["ruleID"] as? String == "stripe-live-key")
        #expect(resolved.first?["secretSHA256"] as? String == first.report.findings("new").first?["secretSHA256"] as? String)
        #expect(second.report.findings("open").isEmpty)
        // v1's new image shares the base layer with everything before: only its own layer and v2's were scanned.
        #expect(second.report.int("layers", "scanned") == 2)

        let third = try run.sweep()
        #expect(third.status == 0)
        #expect(third.report.findings("new").isEmpty && third.report.findings("resolved").isEmpty)
        #expect(third.report.findings("open").count == 1)

        // --fail-on above the new finding's severity: findings alone no longer fail the run.
        try await Images.push([Images.base, Images.file("app/more.py", "T = '\(FakeSecret.githubToken())'\n")], to: h.anonymous,
                              as: "\(prefix)/app", tag: "v3")
        #expect(try run.sweep().status == 1)
        try await Images.push([Images.base, Images.file("app/more.py", "T = '\(FakeSecret.stripeKey())'\n")], to: h.anonymous,
                              as: "\(prefix)/app", tag: "v4")
        let quiet = try run.sweep(["--fail-on", "critical"])
        #expect(quiet.report.findings("new").count == 1)
        #expect(quiet.status == ((quiet.report.findings("new").first?["severity"] as? String) == "critical" ? 1 : 0))
    }

    @Test func catalogAndTagListsAreFollowedPageByPage() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("pages")
        for r in ["a", "b", "c", "d", "e"] {
            try await Images.push([Images.base], to: h.anonymous, as: "\(prefix)/\(r)", tag: "v1")
        }
        for t in ["v2", "v3"] { try await Images.push([Images.base], to: h.anonymous, as: "\(prefix)/a", tag: t) }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix, extra: "page_size = 2")
        let offset = h.logOffset()
        let r = try run.sweep()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.report.int("images", "scanned") == 7)
        let lines = h.logLines(since: offset)
        #expect(lines.contains { $0.contains("GET /v2/_catalog?n=2 ") })
        #expect(lines.filter { $0.contains("GET /v2/_catalog?") && $0.contains("last=") }.count >= 2)
        // distribution 2.8 answers a tag list whole, whatever n= says; n= is sent all the same.
        #expect(lines.contains { $0.contains("GET /v2/\(prefix)/a/tags/list?n=2 ") })
    }

    @Test func newestAndTagRegexSelectTags() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("newest")
        for t in ["deployment-01", "deployment-02", "deployment-03", "latest"] {
            try await Images.push([Images.base], to: h.anonymous, as: "\(prefix)/app", tag: t)
        }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix, extra: "tag_regex = \"deployment-.*\"\nnewest = 2")
        let r = try run.sweep()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.report.int("images", "scanned") == 2)
        let history = try Run.command(Run.stowaway, ["sweep", "history", "--db", run.db, "--format", "json"], environment: run.environment)
        #expect(history.status == 0)
        #expect(try JSONDocument.object(history.stdout).objects("runs").count == 1)
    }

    @Test func aRepositoryWhoseBlobIsGoneFailsAloneAndTheRestIsScanned() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("broken")
        let secret = FakeSecret.githubToken()
        try await Images.push([Images.base, Images.file("app/.env", "TOKEN=\(secret)\n")], to: h.anonymous, as: "\(prefix)/good", tag: "v1")
        let lost = Images.file("app/lost.txt", "only here \(UUID().uuidString)\n")
        try await Images.push([Images.base, lost], to: h.anonymous, as: "\(prefix)/broken", tag: "v1")
        try h.removeBlob(try Images.digest(of: lost))

        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let r = try run.sweep()
        #expect(r.status == 2, "\(r.stderr)")
        let failed = r.report.failed
        #expect(failed.count == 1)
        #expect(failed.first?["image"] as? String == "\(h.anonymous)/\(prefix)/broken:v1")
        let error = failed.first?["error"] as? String ?? ""
        #expect(!error.isEmpty && !error.contains("\n"), "\(error)")
        #expect(r.report.int("images", "scanned") == 1)
        #expect(r.report.findings("new").map { $0["image"] as? String } == ["\(h.anonymous)/\(prefix)/good:v1"])
        #expect(r.stderr.contains("could not scan \(h.anonymous)/\(prefix)/broken:v1"), "\(r.stderr)")
    }

    @Test func aFlyOrganisationIsSweptByDeployedDigestWithItsAppsAndMachines() async throws {
        let h = try SweepHarness.require()
        let app = uniquePrefix("fly")
        let secret = FakeSecret.flyToken()
        // The image goes to the harness's Fly-like registry (Basic auth, user x) through skopeo.
        let layout = try Run.tempDirectory() + "/layout"
        var spec = ImageSpec(format: .oci, compression: "gzip", tag: "\(app):deployment-01", config: .init(Env: ["FLY_API_TOKEN=\(secret)"]),
                             layers: [Images.base])
        spec.history = [.init("ADD base")]
        try ImageBuilder.build(spec, at: layout)
        let digest = try Run.tool("python3", [Run.packageRoot.path + "/testdata/registry/harness.py", "push", "--workdir", h.workdir,
                                              "--service", "fly", "--source", "oci:\(layout):deployment-01", "--dest", "\(app):deployment-01"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let token = h.flyPassword
        let fixture = try Run.tempDirectory() + "/fly.json"
        let ref: [String: Any] = ["registry": h.flyHost, "repository": app, "tag": "deployment-01", "digest": digest, "labels": [:]]
        let machines: [[String: Any]] = ["148e", "9080"].map {
            ["id": $0, "name": "m-\($0)", "state": "started", "region": "ams", "config": ["image": "\(h.flyHost)/\(app):deployment-01"], "image_ref": ref]
        }
        let doc: [String: Any] = ["orgs": ["acme": [app]], "machines": [app: machines]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: fixture))
        let api = try StandIn(["fly", "--token", token, "--fixture", fixture])
        defer { api.stop() }

        let run = try SweepRun()
        try run.writeFlyOrg(api: api.host, registry: h.flyHost)
        // The harness's Fly-like registry is the configured Fly registry host: only it gets the org token.
        let r = try run.sweep(env: ["ACME_FLY_TOKEN": token, "FLY_REGISTRY_HOST": h.flyHost])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.report.int("images", "scanned") == 1, "one digest however many machines run it")
        let f = r.report.findings("new")
        #expect(f.count == 1)
        #expect(f.first?["app"] as? String == app)
        #expect(f.first?["machines"] as? [String] == ["148e", "9080"])
        #expect(f.first?["manifestDigest"] as? String == digest)
        #expect((f.first?["image"] as? String)?.hasSuffix("\(app):deployment-01@\(digest)") == true)
        #expect(f.first?["ruleID"] as? String == "flyio-access-token")

        // `scan --fly-app`: the same discovery for one app, right after a deploy.
        let scan = try Run.command(Run.stowaway, ["scan", "--fly-app", app, "--insecure-registry", h.flyHost, "--format", "json", "--quiet"],
                                   environment: run.environment.merging(["FLY_API_TOKEN": token, "FLY_API_HOSTNAME": "http://\(api.host)",
                                                                         "FLY_REGISTRY_HOST": h.flyHost]) { $1 })
        #expect(scan.status == 1, "\(scan.stderr)")
        let scanned = try JSONDocument.object(scan.stdout).objects("images")
        #expect(scanned.count == 1)
        #expect(scanned.first?["manifestDigest"] as? String == digest)
        #expect(try JSONDocument.findings(scan.stdout).contains { $0["ruleID"] as? String == "flyio-access-token" })
        let unknown = try Run.command(Run.stowaway, ["scan", "--fly-app", "no-such-app", "--quiet"],
                                      environment: run.environment.merging(["FLY_API_TOKEN": token, "FLY_API_HOSTNAME": "http://\(api.host)"]) { $1 })
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("Fly.io app no-such-app") && unknown.stderr.contains("404"), "\(unknown.stderr)")

        // A wrong token: the organisation is listed as failed, by name, and the exit code says so.
        let denied = try run.sweep(env: ["ACME_FLY_TOKEN": "fo1_wrong"])
        #expect(denied.status == 2)
        #expect(denied.report.failed.first?["image"] as? String == "fly org acme")
        #expect((denied.report.failed.first?["error"] as? String)?.contains("401") == true)
        #expect(!denied.stderr.contains("fo1_wrong") && !denied.report.description.contains(token))
    }

    @Test func theWebhookIsPostedWhenSomethingIsNewAndRetried() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("hook")
        let secret = FakeSecret.githubToken()
        try await Images.push([Images.base, Images.file("app/.env", "GH=\(secret)\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        let out = try Run.tempDirectory() + "/posts"
        let listener = try StandIn(["webhook", "--out", out, "--fail-first", "1"])
        defer { listener.stop() }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let r = try run.sweep(["--webhook", "http://\(listener.host)/services/T000/B000/XXXX"])
        #expect(r.status == 1, "\(r.stderr)")
        let posts = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n") ?? []
        #expect(posts.count == 1, "the first attempt got 500, the retry was received")
        let text = (try? JSONDocument.object(String(posts.first ?? ""))["text"] as? String) ?? nil
        #expect(text?.contains("1 new secret finding (1 critical)") == true, "\(posts)")
        #expect(text?.contains("\(prefix)/app:v1") == true)
        #expect(text?.contains(secret) == false)

        // Nothing new: nothing posted. A listener that keeps failing: a warning, never the run's failure.
        let again = try run.sweep(["--webhook", "http://\(listener.host)/hook"])
        #expect(again.status == 0)
        #expect(((try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").count ?? 0) == 1)
        try await Images.push([Images.base, Images.file("app/.env", "GH=\(FakeSecret.githubToken())\n")], to: h.anonymous,
                              as: "\(prefix)/app", tag: "v2")
        let failing = try StandIn(["webhook", "--out", out + "-failing", "--fail-first", "99"])
        defer { failing.stop() }
        let nobody = try run.sweep(["--webhook", "http://\(failing.host)/services/SECRETPATH"])
        #expect(nobody.status == 1)
        #expect(nobody.stderr.contains("warning: webhook http://\(failing.host)/…: answered 500"), "\(nobody.stderr)")
        #expect(!nobody.stderr.contains("SECRETPATH"))
    }
}
