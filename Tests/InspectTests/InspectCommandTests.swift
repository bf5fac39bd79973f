import Foundation
import ImageBuilder
import Secrets
import Testing
import TestSupport

/// `layers`, `files` and `trace` on the sample image, as a user reads them: the text against golden files
/// (testdata/golden/inspect/), the JSON exactly, and the one-line errors for bad input.
@Suite struct InspectCommandTests {
    func run(_ sample: InspectSample, _ args: [String]) throws -> ProcessResult {
        try Run.command(Run.stowaway, [args[0], sample.path] + args.dropFirst() + ["--quiet"])
    }

    @Test func layersTableHistoryAndWastedSpace() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let text = try run(sample, ["layers"])
        #expect(text.status == 0, "\(text.stderr)")
        try compareWithGolden(sample.normalise(text.stdout), "layers.txt")
        let json = try run(sample, ["layers", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        try compareWithGolden(sample.normalise(json.stdout), "layers.json")

        // The build argument's token is redacted in both, and shown only when asked for.
        for out in [text.stdout, json.stdout] {
            #expect(!out.contains(sample.npm))
            #expect(out.contains(Redaction.redact(sample.npm)))
        }
        let shown = try run(sample, ["layers", "--show-secrets"])
        #expect(shown.stdout.contains(sample.npm))

        let report = try JSONDocument.object(json.stdout)
        let wasted = try report.object("wasted")
        // .env (layer 1), config.yml (0), a.tmp and b.tmp (opaque), readme and intro (whiteout of /docs),
        // app.log (its directory replaced by a symlink).
        let files = try wasted.objects("files").map { "\($0["path"] ?? "") \($0["layer"] ?? "") \($0["removedInLayer"] ?? "")" }
        #expect(Set(files) == ["/app/.env 1 2", "/app/config.yml 0 1", "/app/cache/a.tmp 0 2", "/app/cache/b.tmp 0 2",
                               "/docs/readme 0 2", "/docs/guide/intro 0 2", "/var/log/app.log 0 2"])
        let envSize = 10 + "GITHUB_TOKEN=".count + sample.github.count + 1
        #expect(wasted["bytes"] as? Int == envSize + 9 + 4 + 8 + 8 + 11 + 8)
    }

    @Test func layersWithScanCountsTheFindingsOfEachLayer() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let r = try run(sample, ["layers", "--scan", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let layers = try JSONDocument.object(r.stdout).objects("layers")
        let counts = layers.map { $0["findings"] as? Int ?? -1 }
        #expect(counts.count == 4)
        #expect(counts[1] >= 1, "the GitHub token in /app/.env: \(counts)")
        #expect(counts[0] == 0 && counts[2] == 0, "\(counts)")
        #expect(!r.stdout.contains(sample.github))
        let text = try run(sample, ["layers", "--scan"])
        #expect(text.stdout.contains("FINDINGS"))
    }

    @Test func filesOfALayerWithWhiteoutsAndOpaqueDirectoriesExpanded() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        for layer in [1, 2] {
            let text = try run(sample, ["files", "--layer", "\(layer)"])
            #expect(text.status == 0, "\(text.stderr)")
            try compareWithGolden(sample.normalise(text.stdout), "files-layer\(layer).txt")
        }
        let json = try run(sample, ["files", "--layer", "2", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        try compareWithGolden(sample.normalise(json.stdout), "files-layer2.json")

        let entries = try JSONDocument.object(json.stdout).objects("entries")
        func change(_ path: String) -> String? { entries.first { $0["path"] as? String == path }?["change"] as? String }
        #expect(change("/app/.env") == "deleted")
        #expect(change("/app/cache/a.tmp") == "deleted" && change("/app/cache/b.tmp") == "deleted", "opaque directory expanded")
        #expect(change("/app/cache/c.tmp") == "added")
        #expect(change("/docs") == "deleted" && change("/docs/guide/intro") == "deleted", "directory whiteout expanded")
        #expect(change("/var/log") == "modified" && change("/var/log/app.log") == "deleted", "directory replaced by a symlink")
    }

    @Test func mergedFilesystemWithTheLayerOfEachEntryAndAGlob() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let text = try run(sample, ["files"])
        #expect(text.status == 0, "\(text.stderr)")
        try compareWithGolden(sample.normalise(text.stdout), "files-merged.txt")
        let json = try run(sample, ["files", "--merged", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        try compareWithGolden(sample.normalise(json.stdout), "files-merged.json")
        let doc = try JSONDocument.object(json.stdout)
        #expect(doc.keys.contains("layer") && doc["layer"] is NSNull, "the merged view says layer null")

        let glob = try run(sample, ["files", "/app/*", "--format", "json"])
        let paths = try JSONDocument.object(glob.stdout).objects("entries").compactMap { $0["path"] as? String }
        #expect(paths == ["/app/.env", "/app/cache", "/app/cache/c.tmp", "/app/config.yml", "/app/current",
                          "/" + InspectSample.escapeName, "/app/run", "/app/run-hard"])
        let byName = try run(sample, ["files", "*.tmp", "--layer", "2", "--format", "json"])
        let tmp = try JSONDocument.object(byName.stdout).objects("entries").compactMap { $0["path"] as? String }
        #expect(tmp == ["/app/cache/a.tmp", "/app/cache/b.tmp", "/app/cache/c.tmp"])
    }

    @Test func traceOfAPathAddedDeletedAndReAdded() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let text = try run(sample, ["trace", "/app/.env"])
        #expect(text.status == 0, "\(text.stderr)")
        try compareWithGolden(sample.normalise(text.stdout), "trace-env.txt")
        let json = try run(sample, ["trace", "/app/.env", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        try compareWithGolden(sample.normalise(json.stdout), "trace-env.json")

        // Deleted with its directory, and by a symlink put where its directory was.
        let intro = try run(sample, ["trace", "docs/guide/intro", "--format", "json"])
        let introEvents = try JSONDocument.object(intro.stdout).objects("events")
        #expect(introEvents.map { "\($0["layer"] ?? "") \($0["change"] ?? "") \($0["via"] ?? "-")" } == ["0 added -", "2 deleted /.wh.docs"])
        let log = try run(sample, ["trace", "/var/log/app.log"])
        #expect(log.status == 0)
        try compareWithGolden(sample.normalise(log.stdout), "trace-log.txt")
    }

    /// A listing of 300,000 files is written as it is rendered, never as one document: memory stays near what the
    /// merged tree itself needs (it was 830 MB at a million files), and the JSON is whole and in path order.
    @Test func aListingOfManyFilesIsStreamed() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let count = 300_000
        let files = (0..<count).map { ImageSpec.File(path: String(format: "d%02d/f%07d", $0 % 40, $0), content: "") }
        let image = dir + "/image.tar"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "gzip", layers: [.init(files: files)]), at: image)
        for format in ["json", "text"] {
            let r = try Run.command("/usr/bin/timeout", ["60", "/usr/bin/time", "-f", "peak-rss-kb=%M", Run.stowaway, "files", image,
                                                         "--format", format, "--quiet"])
            #expect(r.status == 0, "\(format): \(r.stderr)")
            let rss = try #require(r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("peak-rss-kb=") ? Int($0.dropFirst(12)) : nil }.last)
            // 155 MB before rows carried the owner (UID:GID) and the removing layer; 172 MB with them (measured).
            #expect(rss / 1024 < 185, "\(format): peak RSS \(rss / 1024) MB")
            if format == "json" {
                let paths = try JSONDocument.object(r.stdout).objects("entries").compactMap { $0["path"] as? String }
                #expect(paths.count == count)
                #expect(paths.first == "/d00/f0000000" && paths.last == "/d39/f0299999")
                #expect(paths == paths.sorted(), "in path order")
            } else {
                #expect(r.stdout.hasSuffix("\n\(count) entries: \(count) added.\n"), "\(r.stdout.suffix(200))")
            }
        }
    }

    /// The `stowaway cat` that `trace` suggests for a deleted file, pasted into a shell as it is printed, reads
    /// that file back and runs nothing the path spells (`$(…)`, backquotes, `;`, quotes).
    @Test func theSuggestedCatCommandIsSafeToPaste() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/my image's.tar"
        let names = ["app/$(touch pwned-a).env", "app/`touch pwned-b`", "app/x;touch pwned-c", "app/it's \"q\" $HOME"]
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "none", layers: [
            .init(files: names.map { .init(path: $0, content: "content of \($0)\n") }),
            .init(files: names.map { n in .init(path: "app/.wh." + n.dropFirst(4), content: "") }),
        ]), at: image)
        for name in names {
            let trace = try Run.command(Run.stowaway, ["trace", image, "/" + name, "--quiet"])
            #expect(trace.status == 0, "\(trace.stderr)")
            let line = try #require(trace.stdout.split(separator: "\n").first { $0.contains("stowaway cat ") }, "\(trace.stdout)")
            let command = String(line[line.range(of: "stowaway cat ")!.lowerBound...])
            let pasted = try Run.command("/bin/sh", ["-c", "cd \"$TEST_DIR\" && stowaway() { \"$STOWAWAY_BIN\" \"$@\"; }; " + command],
                                         environment: ["TEST_DIR": dir, "STOWAWAY_BIN": Run.stowaway])
            #expect(pasted.stdout == "content of \(name)\n", "\(command): \(pasted.stderr)")
        }
        let made = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!made.contains { $0.hasPrefix("pwned") }, "\(made)")
    }

    @Test(arguments: [
        (["files", "--layer", "7"], "no layer 7: it has 4 layers, 0 to 3"),
        (["trace", "/app/nothing"], "/app/nothing is in no layer of the image"),
        (["cat", "/app"], "/app is a directory in layer 1"),
        (["cat", "/app/nothing"], "/app/nothing is in no layer of the image"),
        (["cat", "/app/.env", "--layer", "2"], "/app/.env is not in layer 2"),
        (["cat", "/etc/os-release", "--layer", "4"], "no layer 4: it has 4 layers"),
    ])
    func badInputIsOneLineNamingTheImageAndExit2(args: [String], reason: String) throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let r = try run(sample, args)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(sample.path) && r.stderr.contains(reason), "\(r.stderr)")
    }

    @Test func controlCharactersInPathsAreEscapedNeverWritten() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        for args in [["files"], ["files", "--layer", "1"], ["trace", "/" + InspectSample.escapeName]] {
            let r = try run(sample, args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(!r.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "\(args)")
            #expect(r.stdout.contains("evil\\x1b]0;pwned\\x07name"), "\(args)")
        }
        // On a terminal too, colours included.
        let tty = try Run.onTerminal(["files", sample.path, "--layer", "1", "-q"])
        #expect(tty.status == 0)
        #expect(!tty.output.contains(0x07))
        #expect(String(decoding: tty.output, as: UTF8.self).contains("evil\\x1b]0;pwned\\x07name"))
    }

    @Test func colourOnATerminalOnlyAndNeverWithNoColor() throws {
        let sample = try InspectSample()
        defer { sample.remove() }
        let coloured = try Run.onTerminal(["trace", sample.path, "/app/.env", "-q"])
        #expect(coloured.status == 0)
        #expect(coloured.output.contains(0x1B), "colour on a terminal")
        let plain = try Run.onTerminal(["trace", sample.path, "/app/.env", "-q"], environment: ["NO_COLOR": "1"])
        #expect(plain.status == 0)
        #expect(!plain.output.contains(0x1B), "NO_COLOR")
        let piped = try run(sample, ["trace", "/app/.env"])
        #expect(!piped.stdout.contains("\u{1B}"), "not a terminal")
    }
}
