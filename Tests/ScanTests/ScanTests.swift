import Foundation
import Testing
import TestSupport
import ImageBuilder
import OCI
import Reports
@testable import Scan
import Secrets

func sha256Hex(_ s: String) -> String { Redaction.sha256(s) }

/// The findings of a report in the shape of `PlantedImage.Expected`, with the secret recovered from `--show-secrets`.
func observed(_ report: Report) -> [PlantedImage.Expected] {
    report.images.flatMap { image in
        image.findings.map { f in
            PlantedImage.Expected(ruleID: f.ruleID, source: f.source.rawValue, layerIndex: f.layerIndex, historyIndex: f.historyIndex,
                                  path: f.path, line: f.line, key: f.key, status: f.status?.rawValue,
                                  removedInLayer: f.removedInLayer, secret: f.secret ?? "<redacted>")
        }
    }
}

@Suite struct PlantedImageTests {
    static let cases: [(ImageSpec.Format, String)] = [
        (.dockerLegacy, "none"), (.docker25, "none"), (.docker25, "gzip"), (.oci, "gzip"), (.oci, "zstd"), (.ociTar, "gzip"),
    ]

    @Test(arguments: cases)
    func everyPlantedSecretIsReportedOncePerPlace(format: ImageSpec.Format, compression: String) async throws {
        let planted = PlantedImage()
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + (format == .oci ? "/layout" : "/image.tar")
        try ImageBuilder.build(planted.spec(format, compression: compression), at: path)

        let images = try await ImageLoader.load(path)
        #expect(images.count == 1)
        let report = ImageScanner(engine: try MatchEngine(rules: BuiltinRules.all), options: ScanOptions(showSecrets: true)).scan(images)
        #expect(report.images[0].errors == [])
        let got = observed(report)
        // Exactly once per place: no duplicates, nothing missing, nothing extra.
        #expect(got.count == Set(got).count, "duplicate findings: \(got)")
        let missing = planted.expected.subtracting(got), extra = Set(got).subtracting(planted.expected)
        #expect(missing.isEmpty, "missing: \(missing)")
        #expect(extra.isEmpty, "unexpected: \(extra)")
        for f in report.images[0].findings {
            #expect(f.secretSHA256 == sha256Hex(f.secret ?? ""))
            if f.source == .file { #expect(f.layerDigest == images[0].layers[1].digest?.description) }
        }
        #expect(report.summary.critical + report.summary.high == planted.expected.count)
    }

    @Test func theCLIReportsRedactedJSONAndExitsOne() throws {
        let planted = PlantedImage()
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(planted.spec(.docker25, compression: "gzip"), at: dir + "/app.tar")

        let r = try Run.command(Run.stowaway, ["scan", dir + "/app.tar", "--format", "json"])
        #expect(r.status == 1)
        for secret in planted.allSecrets {
            #expect(!r.stdout.contains(secret), "a secret leaked into the JSON report")
        }
        let json = try JSONDocument.object(r.stdout)
        #expect(json["schemaVersion"] as? Int == 1)
        let image = try #require(try json.objects("images").first)
        let findings = try image.objects("findings")
        #expect(findings.count == planted.expected.count)
        #expect(findings.allSatisfy { $0["secret"] is NSNull && ($0["redacted"] as? String)?.hasSuffix("…") == true })
        #expect(Set(findings.compactMap { $0["secretSHA256"] as? String }) == Set(planted.allSecrets.map(sha256Hex)))
        // Every contract key is present, null or not; `details` only where the secret says more about itself.
        let keys: Set<String> = ["ruleID", "severity", "description", "source", "layerIndex", "layerDigest", "historyIndex", "path",
                                 "line", "key", "status", "removedInLayer", "secretSHA256", "redacted", "secret", "confidence", "remediation"]
        #expect(findings.allSatisfy { Set($0.keys).subtracting(["details"]) == keys })
        let detailed = Set(findings.filter { $0["details"] != nil }.compactMap { $0["ruleID"] as? String })
        #expect(detailed == ["flyio-access-token", "flyio-macaroon-bundle", "npm-access-token", "stripe-live-key", "aws-access-key-id",
                             "github-token"])
        let layers = try image.objects("layers")
        #expect(layers.count == 3)
        #expect((layers[1]["createdBy"] as? String)?.hasPrefix("RUN |1 NPM_TOKEN=npm_") == true)
        #expect(image["configDigest"] as? String != nil)

        let text = try Run.command(Run.stowaway, ["scan", dir + "/app.tar"])
        #expect(text.status == 1)
        for secret in planted.allSecrets { #expect(!text.stdout.contains(secret), "a secret leaked into the text report") }
        #expect(text.stdout.contains("/app/.env:3"))
        #expect(text.stdout.contains("deleted in layer 2"))

        let shown = try Run.command(Run.stowaway, ["scan", dir + "/app.tar", "--format", "json", "--show-secrets"])
        for secret in planted.allSecrets { #expect(shown.stdout.contains(secret)) }

        let high = try Run.command(Run.stowaway, ["scan", dir + "/app.tar", "--fail-on", "critical", "--format", "sarif"])
        #expect(high.status == 1)
        let sarif = try JSONDocument.object(high.stdout)
        #expect(sarif["version"] as? String == "2.1.0")
        let results = try #require(try sarif.objects("runs").first).objects("results")
        #expect(results.count == planted.expected.count)
        // One fingerprint per secret and place: the npm token of history entries 2 and 3 is one build argument.
        let fingerprints = results.compactMap { ($0["partialFingerprints"] as? [String: String])?["secretAtPlace/v1"] }
        #expect(fingerprints.count == results.count)
        #expect(Set(fingerprints).count == results.count - 1)
        #expect(results.contains { (($0["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            .flatMap { ($0["artifactLocation"] as? [String: Any])?["uri"] as? String } == "files/app/.env" })
    }

    @Test func aLayerTwoImagesOfALegacySaveShareIsScannedOnce() async throws {
        // Two legacy saves with the same base layer, merged: both manifest entries name the same <id>/layer.tar.
        let shared = FakeSecret.githubToken()
        let base = ImageSpec.Layer(files: [.init(path: "etc/token", content: "GH=\(shared)\n"), .init(path: "etc/a", content: "a\n")])
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var saves: [String] = []
        for (i, top) in ["one", "two"].enumerated() {
            let path = "\(dir)/\(i).tar"
            try ImageBuilder.build(ImageSpec(format: .dockerLegacy, compression: "none", tag: "legacy:\(top)",
                                             layers: [base, .init(files: [.init(path: "app/\(top)", content: "\(top)\n")])]), at: path)
            saves.append(path)
        }
        let merged = try LegacySave.merge(saves, into: dir + "/merged.tar")
        #expect(merged.layerFiles == 3, "the saves agree on the base layer's id")
        let images = try await ImageLoader.load(dir + "/merged.tar")
        #expect(images.count == 2)
        var options = ScanOptions(showSecrets: true)
        options.parallelism = 2
        let report = ImageScanner(engine: try MatchEngine(rules: BuiltinRules.all, cache: nil), options: options).scan(images)
        #expect(report.summary.layers == 3, "base, one, two: the shared layer.tar once")
        #expect(report.summary.files == 4, "etc/token and etc/a once, app/one, app/two")
        for image in report.images {
            #expect(image.findings.map(\.secret) == [shared], "\(image.reference)")
            #expect(image.findings.first?.layerIndex == 0)
        }
    }
}

/// Builds legacy `docker save` tarballs whose images share layer directories, as `docker save a b` writes them.
enum LegacySave {
    struct Merged { var layerFiles: Int }

    /// Unpacks `saves` into one directory (identical layer directories coincide), joins their manifest.json
    /// entries and packs the result at `output`.
    static func merge(_ saves: [String], into output: String) throws -> Merged {
        let work = output + ".d"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var manifest: [Any] = []
        for save in saves {
            try Run.tool("tar", ["-xf", save, "-C", work])
            let data = try Data(contentsOf: URL(fileURLWithPath: work + "/manifest.json"))
            manifest += (try JSONSerialization.jsonObject(with: data) as? [Any]) ?? []
        }
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: work + "/manifest.json"))
        try? FileManager.default.removeItem(atPath: work + "/repositories")
        let names = try FileManager.default.contentsOfDirectory(atPath: work).sorted()
        try Run.tool("tar", ["-cf", output, "-C", work] + names)
        let layers = names.filter { FileManager.default.fileExists(atPath: "\(work)/\($0)/layer.tar") }
        return Merged(layerFiles: layers.count)
    }
}

/// Memory returns after each image: a scan of many images in one process peaks no higher, within a bound,
/// than a scan of a few (a leak of a layer's buffers or results would grow with the image count).
@Suite struct MemoryTests {
    @Test func fiftyImagesInOneProcessPeakLikeFive() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var saves: [String] = []
        for i in 0..<50 {
            let path = "\(dir)/\(i).tar"
            try ImageBuilder.build(ImageSpec(format: .dockerLegacy, compression: "gzip", tag: "many:\(i)", layers: [.init(files: [
                .init(path: "data/blob-\(i).bin", randomBytes: 3 << 20),
                .init(path: "app/.env", content: "GITHUB_TOKEN=\(FakeSecret.githubToken())\n"),
            ])]), at: path)
            saves.append(path)
        }
        func peak(_ count: Int) throws -> (rssKB: Int, images: Int) {
            let tar = "\(dir)/first-\(count).tar"
            _ = try LegacySave.merge(Array(saves.prefix(count)), into: tar)
            let r = try Run.command("/usr/bin/timeout", ["600", "/usr/bin/time", "-f", "peak-rss-kb=%M", Run.stowaway, "scan", tar,
                                                         "--format", "json"])
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let images = (json?["images"] as? [[String: Any]]) ?? []
            #expect(r.status == 1 && images.allSatisfy { ($0["findings"] as? [Any])?.count == 1 }, "\(r.stderr)")
            let rss = r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("peak-rss-kb=") ? Int($0.dropFirst(12)) : nil }.last
            return (rss ?? Int.max, images.count)
        }
        let few = try peak(5), many = try peak(50)
        #expect(few.images == 5 && many.images == 50)
        // Each image's layer needs ~3.5 MB of matcher and pipe buffers while scanned; kept, 45 more would add 150 MB.
        #expect(many.rssKB - few.rssKB < 40 * 1024, "5 images peak \(few.rssKB / 1024) MB, 50 images \(many.rssKB / 1024) MB")
    }
}

@Suite struct BuildArgsTests {
    @Test(arguments: [
        ("|2 API_KEY=abc HTTP_PROXY=x /bin/sh -c make", [("API_KEY", "abc"), ("HTTP_PROXY", "x")]),
        ("RUN |1 NPM_TOKEN=npm_x /bin/sh -c npm ci # buildkit", [("NPM_TOKEN", "npm_x")]),
        ("ARG A=1 B=2", [("A", "1"), ("B", "2")]),
        ("/bin/sh -c #(nop)  ENV FOO=bar", [("FOO", "bar")]),
        ("/bin/sh -c #(nop)  ARG TOKEN", []),
        ("RUN /bin/sh -c echo A=B", []),
        ("LABEL deploy.token=FlyV1 fm2_a,fm2_b team=x", [("deploy.token", "FlyV1 fm2_a,fm2_b"), ("team", "x")]),
    ])
    func parse(line: String, expected: [(String, String)]) {
        let got = BuildArgs.parse(line)
        #expect(got.map(\.key) == expected.map(\.0))
        #expect(got.map(\.value) == expected.map(\.1))
    }
}
