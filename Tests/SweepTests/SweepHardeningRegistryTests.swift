import Foundation
import ImageBuilder
import OCI
import Testing
import TestSupport

/// Issue 18 against the harness's registry: one bad machine among good ones, and what reaches a webhook.
@Suite
struct SweepHardeningRegistryTests {
    @Test func oneBadMachineOrAppIsOneFailureAndTheRestAreScanned() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("badmachine")
        let digest = try await Images.push([Images.base], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        let token = FakeSecret.flyToken()
        let fixture = try Run.tempDirectory() + "/fly.json"
        let good: [String: Any] = ["id": "good1", "config": ["image": "\(h.anonymous)/\(prefix)/app:v1"],
                                   "image_ref": ["registry": h.anonymous, "repository": "\(prefix)/app", "tag": "v1", "digest": digest.description]]
        let bad: [String: Any] = ["id": "bad1", "config": ["image": "Not A Reference::"]]
        let doc: [String: Any] = ["orgs": ["acme": ["web", "Bad App!"]], "machines": ["web": [bad, good]]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: fixture))
        let api = try StandIn(["fly", "--token", token, "--fixture", fixture])
        defer { api.stop() }
        let run = try SweepRun()
        try run.writeFlyOrg(api: api.host, registry: h.anonymous)
        let r = try run.sweep(env: ["ACME_FLY_TOKEN": token])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.report.int("images", "scanned") == 1, "the good machine's image is scanned: \(r.report)")
        let failed = r.report.failed.compactMap { $0["image"] as? String }
        #expect(failed.sorted() == ["fly org acme app Bad App!", "fly org acme app web machine bad1"], "\(r.report.failed)")

        // `scan --fly-app` alike: the good machine's image is scanned and reported, the bad one is an image that
        // could not be read, and the scan is incomplete.
        let scan = try Run.command(Run.stowaway, ["scan", "--fly-app", "web", "--insecure-registry", h.anonymous, "-f", "json", "-q"],
                                   environment: run.environment.merging(["FLY_API_TOKEN": token, "FLY_API_HOSTNAME": "http://\(api.host)"]) { $1 })
        #expect(scan.status == 2, "\(scan.stderr)")
        #expect(scan.stderr.split(separator: "\n").count == 1 && scan.stderr.contains("bad1"), "\(scan.stderr)")
        let images = try JSONDocument.object(scan.stdout).objects("images")
        #expect(images.contains { ($0["reference"] as? String ?? "").contains("\(prefix)/app") && ($0["errors"] as? [Any])?.isEmpty == true },
                "\(scan.stdout)")
        #expect(images.contains { $0["reference"] as? String == "fly app web machine bad1" && ($0["errors"] as? [Any])?.count == 1 },
                "\(scan.stdout)")
    }

    @Test func slackTextIsInertAndADrippingWebhookEndsInTime() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("slack")
        let secret = FakeSecret.githubToken()
        // A path that would notify the whole channel and forge a bullet line of its own.
        let path = "app/<!channel> <!here> & <https://evil.example|click>\n• critical forged.env"
        try await Images.push([Images.file(path, "GH=\(secret)\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v1")
        let out = try Run.tempDirectory() + "/posts"
        let listener = try StandIn(["webhook", "--out", out])
        defer { listener.stop() }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let r = try run.sweep(["--webhook", "http://\(listener.host)/hook"])
        #expect(r.status == 1, "\(r.stderr)")
        let posts = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n") ?? []
        let text = (try? JSONDocument.object(String(posts.first ?? ""))["text"] as? String) ?? ""
        #expect(text.contains("&lt;!channel&gt; &lt;!here&gt; &amp; &lt;https:/evil.example|click&gt;"), "\(text)")
        #expect(!text.contains("<!channel>") && !text.contains("<!here>") && !text.contains("<https://"))
        #expect(text.split(separator: "\n").count == 2, "one header and one bullet line: \(text)")

        // A listener that answers `Content-Length: 1000` and drips: the run still ends, with a warning.
        try await Images.push([Images.file("app/.env", "GH=\(FakeSecret.githubToken())\n")], to: h.anonymous, as: "\(prefix)/app", tag: "v2")
        let drip = try StandIn(["webhook", "--out", out + "-drip", "--drip", "1"])
        defer { drip.stop() }
        let p = try run.start(["--webhook", "http://\(drip.host)/hook"], output: run.dir + "/drip.json")
        let exited = eventually(within: 60) { !p.isRunning }
        #expect(exited, "the sweep waited on a dripping webhook past 60 s")
        if !exited { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        let stderr = (try? String(contentsOfFile: run.dir + "/drip.json.stderr", encoding: .utf8)) ?? ""
        #expect(stderr.contains("no whole answer within 10 s"), "\(stderr)")
    }

    @Test func manyImagesNamingOneLargeConfigHoldItWithinTheBudget() async throws {
        let h = try SweepHarness.require()
        let prefix = uniquePrefix("bigconfig")
        // One image whose config is 6 MB (under the registry client's 16 MB limit), under 40 tags: 40 images
        // in flight at once, every one naming the same config blob.
        let layout = try Run.tempDirectory() + "/layout"
        var spec = ImageSpec(format: .oci, compression: "gzip", tag: "\(prefix)/app:t0",
                             config: .init(Env: ["PAD=" + String(repeating: "a", count: 6 << 20)]), layers: [Images.base])
        spec.history = [.init("ADD base")]
        try ImageBuilder.build(spec, at: layout)
        for i in 0..<40 { try await RegistryPusher.push(layout: layout, tag: "t\(i)", to: h.anonymous, repository: "\(prefix)/app") }
        let run = try SweepRun()
        try run.writeRegistry(h.anonymous, prefix: prefix)
        let output = run.dir + "/big.json"
        let r = try Run.command("/usr/bin/time", ["-f", "%M", "-o", output + ".rss", Run.stowaway, "sweep", "--config", run.config, "--db", run.db,
                                                  "--format", "json", "--quiet", "--jobs", "40", "--output", output], environment: run.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDocument.optionalObject(atPath: output)
        #expect(report.int("images", "scanned") == 40, "nothing lost: \(report.failed)")
        let rss = Int(((try? String(contentsOfFile: output + ".rss", encoding: .utf8)) ?? "").split(separator: "\n").last ?? "") ?? -1
        #expect(rss > 0 && rss < 300_000, "peak RSS \(rss) KB")
    }
}
