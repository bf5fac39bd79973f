import Foundation
import ImageBuilder
import Testing
import TestSupport
import Reports
@testable import Scan
@testable import Secrets

/// Inputs built to make the scanner do quadratic work or hold too much: each must finish (a liveness bound
/// kills a hung scan), in bounded memory, with the findings capped and the rest counted in `truncated`.
@Suite struct HostileInputTests {
    struct Outcome {
        var status: Int32
        var json: [String: Any]
        var stderr: String
        var peakRSSMB: Int

        var summary: [String: Any] { json["summary"] as? [String: Any] ?? [:] }
        var images: [[String: Any]] { json["images"] as? [[String: Any]] ?? [] }
        var findings: [[String: Any]] { images.flatMap { $0["findings"] as? [[String: Any]] ?? [] } }
        var errors: [String] { images.flatMap { ($0["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String } } }
    }

    func build(_ spec: ImageSpec) throws -> String {
        let path = try Run.tempDirectory() + "/image.tar"
        try ImageBuilder.build(spec, at: path)
        return path
    }

    /// Scans with the CLI under a liveness bound (a hung scan is killed and fails the test) and measures peak RSS.
    func scan(_ image: String, _ extra: [String] = [], deadline: Int = 600) throws -> Outcome {
        let r = try Run.command("/usr/bin/timeout", ["\(deadline)", "/usr/bin/time", "-f", "peak-rss-kb=%M", Run.stowaway, "scan", image,
                                                     "--format", "json"] + extra)
        let rss = r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("peak-rss-kb=") ? Int($0.dropFirst(12)) : nil }.last
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        return Outcome(status: r.status, json: json, stderr: r.stderr, peakRSSMB: (rss ?? Int.max / 1024) / 1024)
    }

    @Test func aLayerOfManyEmptyFilesIsScannedWithoutQueueingThemAll() throws {
        let count = 300_000
        let files = (0..<count).map { ImageSpec.File(path: String(format: "f/%07d", $0), content: "") }
        let out = try scan(try build(ImageSpec(format: .docker25, layers: [.init(files: files)])))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.summary["files"] as? Int == count)
        #expect(out.peakRSSMB < 400, "peak RSS \(out.peakRSSMB) MB")
    }

    @Test func manySecretsInOneFileAreCappedAndCounted() throws {
        let keys = (0..<200_000).map { _ in FakeSecret.awsKeyIDDistinct() }
        let critical = FakeSecret.githubToken()
        let content = keys.enumerated().map { "key\($0.offset) = \($0.element)\n" }.joined() + "token = \(critical)\n"
        let out = try scan(try build(ImageSpec(format: .docker25, layers: [.init(files: [.init(path: "app/keys.txt", content: content)])])),
                           ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.findings.count == FileMatcher.defaultMaxHits)
        let truncated = out.summary["truncated"] as? Int ?? 0
        #expect(truncated > 190_000 && truncated + out.findings.count <= 200_001, "truncated \(truncated)")
        #expect(out.images.first?["truncated"] as? Int == truncated)
        #expect(out.findings.contains { $0["secret"] as? String == critical }, "the most severe finding is kept")
        let lines = out.findings.compactMap { $0["line"] as? Int }
        #expect(Set(out.findings.compactMap { $0["secret"] as? String }).isSubset(of: Set(keys + [critical])))
        #expect(lines.allSatisfy { $0 >= 1 && $0 <= 200_001 })
        #expect(out.peakRSSMB < 300, "peak RSS \(out.peakRSSMB) MB")
    }

    @Test func aLongLineOfKeysIsCappedAndEveryReportedKeyIsWhole() throws {
        // 30 MB on one line: no newline to end a region, candidates everywhere.
        var pool = (0..<20_000).map { _ in FakeSecret.awsKeyIDDistinct() }
        var line = ""
        line.reserveCapacity(31 << 20)
        while line.utf8.count < 30 << 20 {
            pool.shuffle()
            line += pool.joined(separator: " ") + " "
        }
        let out = try scan(try build(ImageSpec(format: .docker25, compression: "gzip",
                                               layers: [.init(files: [.init(path: "app/line.txt", content: line)])])), ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.findings.count == FileMatcher.defaultMaxHits)
        #expect((out.summary["truncated"] as? Int ?? 0) > 1_000_000)
        let known = Set(pool)
        #expect(out.findings.allSatisfy { known.contains($0["secret"] as? String ?? "") }, "a key cut short or run together")
        #expect(out.findings.allSatisfy { $0["line"] as? Int == 1 })
        #expect(out.peakRSSMB < 300, "peak RSS \(out.peakRSSMB) MB")
    }

    @Test func thousandsOfEncodedValuesAreDecodedInLinearTime() throws {
        let n = 6_000
        let perFile = FileMatcher.defaultMaxHits
        // Each token drawn again while the scorer takes it for words or counted fill, as it does by design about one
        // draw in ten thousand (a CI run met one): this test counts every one.
        func token() -> String {
            while true {
                let t = FakeSecret.githubToken(), b = Array(t.utf8)
                if !SecretScore.isPlaceholder(b) && !SecretScore.isCountedFill(b) && !SecretScore.bodyReadsAsWords(b) { return t }
            }
        }
        // The same for the registry passwords: one the policy takes for fill is not reported (a CI run met one in 6,000).
        func password() -> String {
            while true {
                let p = FakeSecret.random(24), b = Array(p.utf8)
                if !SecretScore.isPlaceholder(b) && !SecretScore.isCountedFill(b) { return p }
            }
        }
        let env = (0..<n).map { "V\($0)=" + Data("token=\(token())\n".utf8).base64EncodedString() }
        var auths: [String] = []
        for i in 0..<n {
            auths.append("\"r\(i).registry.test\": {\"auth\": \"\(Data("u:\(password())".utf8).base64EncodedString())\"}")
        }
        let dockerConfig = "{\"auths\": {\n" + auths.joined(separator: ",\n") + "\n}}\n"
        let out = try scan(try build(ImageSpec(format: .docker25, config: .init(Env: env),
                                               layers: [.init(files: [.init(path: "root/.docker/config.json", content: dockerConfig)])])))
        #expect(out.status == 1, "\(out.stderr)")
        // Every environment value is reported; the Docker config's credentials are capped per file, and the
        // base64 blobs they supersede are neither reported nor counted.
        let byRule = Dictionary(grouping: out.findings) { $0["ruleID"] as? String ?? "" }.mapValues(\.count)
        #expect(out.findings.count == n + perFile, "\(byRule)")
        #expect(out.summary["truncated"] as? Int == n - perFile, "\(out.summary)")
        let docker = out.findings.filter { $0["ruleID"] as? String == "docker-registry-credential" }
        #expect(docker.count == perFile)
        #expect(!out.findings.contains { $0["ruleID"] as? String == "docker-config-auth" })
        #expect(docker.allSatisfy { ($0["line"] as? Int ?? 0) >= 2 }, "every credential has its line")
    }

    @Test func aLongHistoryIsCappedAndItsShownLinesStayRedacted() throws {
        // Tokens the policy takes: about two fresh ones in a million hold a run it reads as fill (`…6FEDCb…`,
        // `…lmnopq…`), and this test counts 30,000 exactly (a CI run met one).
        let tokens = try (0..<30_000).map { _ in try TakenSecrets.draw(for: "github-token", FakeSecret.githubToken) }
        let history = tokens.map { ImageSpec.History("RUN |1 TOKEN=\($0) /bin/sh -c make", empty: true) }
            + [.init("RUN |1 TOKEN=\(tokens[0]) /bin/sh -c make install")]
        let out = try scan(try build(ImageSpec(format: .docker25, history: history,
                                               layers: [.init(files: [.init(path: "etc/hostname", content: "x\n")])])))
        #expect(out.status == 1, "\(out.stderr)")
        #expect(out.findings.count == ScanOptions().maxFindingsPerImage)
        #expect(out.summary["truncated"] as? Int == 30_001 - ScanOptions().maxFindingsPerImage)
        let createdBy = ((out.images.first?["layers"] as? [[String: Any]])?.first?["createdBy"] as? String) ?? ""
        #expect(createdBy.contains("TOKEN=ghp_") && !createdBy.contains(tokens[0]), "\(createdBy)")
    }

    @Test func deepOrWideConfigJSONIsNotWalkedPastTheLimits() {
        var deep = "\"x\""
        for _ in 0..<(ConfigWalk.maxDepth + 5) { deep = "{\"k\": \(deep)}" }
        let walk = ConfigWalk.otherStrings(Data("{\"extra\": \(deep)}".utf8))
        #expect(walk.error?.contains("deeper than") == true)
        let wide = "{\"extra\": [" + (0...ConfigWalk.maxStrings).map { _ in "\"s\"" }.joined(separator: ",") + "]}"
        #expect(ConfigWalk.otherStrings(Data(wide.utf8)).error?.contains("strings") == true)
        let huge = ConfigWalk.otherStrings(Data(count: ConfigWalk.maxBytes + 1))
        #expect(huge.error?.contains("bytes") == true, "the size is checked before anything is read")
    }

    @Test func theConfigWalkReadsStringsAsJSONSerializationDoes() throws {
        let json = #"""
        {"config": {"Env": ["A=1"], "User": "app\u00e9\ud83d\ude00\n\"q\"", "ExposedPorts": {"80/tcp": {}}},
         "history": [{"created_by": "x"}], "rootfs": {"diff_ids": ["sha256:00"]},
         "extra": [1, true, null, {"k\/ey": "v", "n": -1.5e3}, ["deep"]], "moby.buildkit.buildinfo.v1": "eyJ9"}
        """#
        let walk = ConfigWalk.otherStrings(Data(json.utf8))
        #expect(walk.error == nil)
        #expect(walk.strings.map(\.0) == ["config.User", "extra[3].k/ey", "extra[4][0]", "moby.buildkit.buildinfo.v1"])
        let user = try #require(walk.strings.first?.1)
        let reference = try #require((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["config"] as? [String: Any])
        #expect(user == reference["User"] as? String)
    }

    /// One Fly token naming 11,000 apps, 300 times in one file of a 30 KB zstd layer: each distinct secret is
    /// decoded once and a finding carries the first apps and their count, so memory and the report stay small
    /// (this was 810 MB at a hundred copies, past 4 GB at a thousand).
    @Test func aLargeFlyTokenRepeatedInOneFileIsDecodedOnceAndBounded() throws {
        var grants: [UInt64: UInt64] = [:]
        for id in 1...11_000 { grants[UInt64(id)] = 31 }
        var t = FakeFly.orgToken(org: UInt64.random(in: 1...9_999_999))
        t.add(FakeFly.apps(grants))
        let line = "FLY_API_TOKEN=FlyV1 \(t.token())\n"
        let img = try build(ImageSpec(format: .docker25, compression: "zstd", layers: [
            .init(files: [.init(path: "app/tokens.env", content: line, repeatCount: 300),
                          .init(path: "app/other.env", content: "GITHUB_TOKEN=\(FakeSecret.githubToken())\n")]),
        ]))
        let out = try scan(img, deadline: 60)
        #expect(out.status == 1, "\(out.stderr)")
        let fly = out.findings.filter { ($0["path"] as? String) == "/app/tokens.env" }
        #expect(fly.count == 300, "every copy reported")
        #expect(!fly.isEmpty)
        for f in fly.prefix(5) {
            let details = try #require((f["details"] as? [String: Any])?["fly"] as? [String: Any])
            #expect((details["apps"] as? [Any])?.count == 100)
            #expect(details["appCount"] as? Int == 11_000)
        }
        #expect(out.findings.contains { ($0["path"] as? String) == "/app/other.env" }, "the rest of the layer is scanned")
        #expect(out.peakRSSMB < 300, "peak RSS \(out.peakRSSMB) MB")
    }
}
