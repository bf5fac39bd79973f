import Foundation
import ImageBuilder
import Testing
import TestSupport

/// What dive users look for, through the CLI: creation times, dive's efficiency and wasted bytes with its CI
/// rules, owners and modes, deleted files the merged view hides, one size accounting, and the image's name
/// (not a file path) in every header.
@Suite struct DiveTests {
    func run(_ sample: InspectSample, _ args: [String]) throws -> ProcessResult {
        try Run.command(Run.stowaway, [args[0], sample.path] + args.dropFirst() + ["--quiet"])
    }

    /// The sample's /app/.env of layer 1: `PORT=8080\nGITHUB_TOKEN=<token>\n`.
    func envSize(_ sample: InspectSample) -> Int { 10 + "GITHUB_TOKEN=".count + sample.github.count + 1 }

    @Test func layersShowCreationTimeContentAndDiveEfficiency() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let text = try run(sample, ["layers", "--no-color"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("inspect:golden "), "the header names the image, not \(sample.path): \(text.stdout.prefix(80))")
        #expect(!text.stdout.contains(sample.path))
        #expect(text.stdout.contains("2026-11-01 00:00"), "the history's created time")
        #expect(text.stdout.contains("Efficiency: 33."), "\(text.stdout)")

        let json = try JSONDocument.object(try run(sample, ["layers", "--format", "json"]).stdout)
        #expect(json["reference"] as? String == "inspect:golden" && json["image"] as? String == sample.path)
        let layers = try json.objects("layers")
        #expect(layers.map { $0["created"] as? String } == Array(repeating: "2026-11-01T00:00:00Z", count: 4))
        // Layer 0: os-release 11, run 27, config.yml 9, a.tmp 4, b.tmp 8, readme 8, intro 11, libdata 12, app.log 8.
        #expect(layers.map { $0["contentSize"] as? Int } == [98, envSize(sample) + 11 + 1, 2, 10])

        // dive's measure. Paths held or removed by more than one layer: config.yml 9+11, .env env+0+10, a.tmp 4+0,
        // b.tmp 8+0, readme 8+0, intro 11+0, app.log 8+0 (its directory replaced by a symlink).
        let e = try json.object("efficiency")
        let wasted = 20 + envSize(sample) + 10 + 4 + 8 + 8 + 11 + 8
        #expect(e["wastedBytes"] as? Int == wasted)
        // All copies: 98 + (env + 12) + 2 + 10; the smallest copies leave 9 of config.yml and 0 of the rest.
        let all = Double(98 + envSize(sample) + 12 + 2 + 10)
        let saved = Double(11 + envSize(sample) + 10 + 4 + 8 + 8 + 11 + 8)
        #expect(abs((e["score"] as? Double ?? -1) - (all - saved) / all) < 1e-9, "\(e)")
        #expect(e["userBytes"] as? Int == envSize(sample) + 12 + 2 + 10)
        #expect(e["pathCount"] as? Int == 7)
        #expect(try e.objects("paths").first?["path"] as? String == "/app/.env")
    }

    @Test func oneSizeAccountingAcrossLayersFilesAndScan() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let layers = try JSONDocument.object(try run(sample, ["layers", "--format", "json"]).stdout).objects("layers")
        let content = layers.reduce(0) { $0 + ($1["contentSize"] as? Int ?? 0) }
        let scan = try Run.command(Run.stowaway, ["scan", sample.path, "-f", "json", "-q"])
        #expect(try JSONDocument.object(scan.stdout).object("summary")["bytes"] as? Int == content)
        // Each layer's content is the sizes `files --layer N` lists for its regular files.
        for (i, l) in layers.enumerated() {
            let entries = try JSONDocument.object(try run(sample, ["files", "--layer", "\(i)", "--format", "json"]).stdout).objects("entries")
            let listed = entries.filter { $0["type"] as? String == "file" && $0["change"] as? String != "deleted" }
                .reduce(0) { $0 + ($1["size"] as? Int ?? 0) }
            #expect(listed == l["contentSize"] as? Int, "layer \(i)")
        }
    }

    @Test func ciRulesAsDiveHasThem() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        // Efficiency about 0.33: below dive's default 0.9.
        let failed = try run(sample, ["layers", "--ci", "--no-color"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stdout.contains("FAIL  --lowest-efficiency"), "\(failed.stdout)")
        #expect(failed.stdout.contains("SKIP  --highest-wasted-bytes"))
        #expect(failed.stdout.contains("Result: FAIL"))

        let passed = try run(sample, ["layers", "--ci", "--lowest-efficiency", "0.3", "--highest-user-wasted-percent", "disabled",
                                      "--highest-wasted-bytes", "1KB"])
        #expect(passed.status == 0, "\(passed.stdout)")
        #expect(passed.stdout.contains("Result: PASS"))

        let wasted = 20 + envSize(sample) + 10 + 4 + 8 + 8 + 11 + 8
        for (limit, status) in [("\(wasted - 1)", Int32(1)), ("\(wasted)", 0)] {
            let r = try run(sample, ["layers", "--ci", "--lowest-efficiency", "disabled", "--highest-user-wasted-percent", "disabled",
                                     "--highest-wasted-bytes", limit, "--format", "json"])
            #expect(r.status == status, "--highest-wasted-bytes \(limit)")
            let ci = try JSONDocument.object(r.stdout).object("ci")
            #expect(ci["passed"] as? Bool == (status == 0))
        }
        let share = try run(sample, ["layers", "--ci", "--lowest-efficiency", "0", "--highest-user-wasted-percent", "0.5"])
        #expect(share.status == 1 && share.stdout.contains("FAIL  --highest-user-wasted-percent"), "\(share.stdout)")

        for bad in [["--lowest-efficiency", "1.5"], ["--highest-wasted-bytes", "lots"], ["--highest-user-wasted-percent", "-1"]] {
            let r = try run(sample, ["layers", "--ci"] + bad)
            #expect(r.status == 64, "\(bad): \(r.stderr)")
            #expect(r.stderr.contains(bad[0]), "\(r.stderr)")
        }
    }

    @Test func anImageWithNothingRepeatedPassesDivesDefaults() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(ImageSpec(format: .docker25, tag: "lean:1", history: [.init("ADD a /"), .init("ADD b /")],
                                         layers: [.init(files: [.init(path: "a", content: "aaaa")]), .init(files: [.init(path: "b", content: "bb")])]),
                               at: dir + "/lean.tar")
        let r = try Run.command(Run.stowaway, ["layers", dir + "/lean.tar", "--ci", "--format", "json", "--quiet"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let e = try JSONDocument.object(r.stdout).object("efficiency")
        #expect(e["score"] as? Double == 1 && e["wastedBytes"] as? Int == 0)
    }

    @Test func theMergedViewSaysWhatDeletedFilesItHidesAndDeletedListsThem() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        // a.tmp, b.tmp (opaque directory), readme and intro (whiteout of /docs), app.log (directory replaced).
        let text = try run(sample, ["files", "--no-color"])
        #expect(text.stdout.contains("5 deleted files not shown"), "\(text.stdout)")
        #expect(text.stdout.contains("UID:GID") && text.stdout.contains("0:0"))
        #expect(try JSONDocument.object(try run(sample, ["files", "--format", "json"]).stdout)["hiddenDeleted"] as? Int == 5)

        let none = try run(sample, ["files", "/docs/*", "--no-color"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("No entries.\n2 deleted files matching not shown"), "\(none.stdout)")

        let listed = try JSONDocument.object(try run(sample, ["files", "/docs/*", "--deleted", "--format", "json"]).stdout)
        let entries = try listed.objects("entries")
        #expect(entries.map { "\($0["path"] ?? "") \($0["change"] ?? "") \($0["layer"] ?? "") \($0["removedInLayer"] ?? "")" }
                == ["/docs/guide/intro deleted 0 2", "/docs/readme deleted 0 2"])
        #expect(listed["hiddenDeleted"] as? Int == 0)
        let deletedText = try run(sample, ["files", "*.tmp", "--deleted", "--no-color"])
        #expect(deletedText.stdout.contains("/app/cache/a.tmp  (removed in layer 2)"), "\(deletedText.stdout)")
        #expect(deletedText.stdout.contains("/app/cache/c.tmp"))

        let bad = try run(sample, ["files", "--deleted", "--layer", "1"])
        #expect(bad.status == 64)
    }

    @Test func ownersAndModesOfADirectoryTree() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("secret-free\n".utf8).write(to: URL(fileURLWithPath: dir + "/owned"))
        #expect(chown(dir + "/owned", 1234, 5678) == 0)
        #expect(chmod(dir + "/owned", 0o4750) == 0)
        let r = try Run.command(Run.stowaway, ["files", "dir:" + dir, "--no-color", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let row = r.stdout.split(separator: "\n").first { $0.hasSuffix("/owned") } ?? ""
        #expect(row.contains("-rwsr-x---") && row.contains("1234:5678") && row.contains("12 B"), "\(r.stdout)")
        #expect(r.stdout.hasPrefix("dir:" + dir))
    }
}
