import Foundation
import Testing
import TestSupport
import ImageBuilder
import OCI
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
        let report = Scanner(engine: try MatchEngine(rules: BuiltinRules.all), options: ScanOptions(showSecrets: true)).scan(images)
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
                                 "line", "key", "status", "removedInLayer", "secretSHA256", "redacted", "secret"]
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
        let fingerprints = results.compactMap { ($0["partialFingerprints"] as? [String: String])?["secretSHA256/v1"] }
        #expect(Set(fingerprints) == Set(planted.allSecrets.map(sha256Hex)))
        #expect(results.contains { (($0["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            .flatMap { ($0["artifactLocation"] as? [String: Any])?["uri"] as? String } == "planted:1!layer-1/app/.env" })
    }

    @Test func sharedLayersOfADockerSaveAreScannedOnce() async throws {
        // The legacy save format lists the same layer.tar for both images when they share it.
        let planted = PlantedImage()
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(planted.spec(.docker25, compression: "gzip"), at: dir + "/a.tar")
        let images = try await ImageLoader.load(dir + "/a.tar")
        let report = Scanner(engine: try MatchEngine(rules: BuiltinRules.all)).scan(images + images)
        #expect(report.summary.layers == 3)
        #expect(report.images.count == 2)
        #expect(report.images[0].findings == report.images[1].findings)
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
