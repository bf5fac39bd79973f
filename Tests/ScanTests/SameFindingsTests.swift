import Foundation
import Testing
import TestSupport
import ImageBuilder

/// The JSON report of this build against another build's (the one before a change to the layer
/// pipeline), byte for byte but for `summary.seconds`, on the planted images in every format and
/// compression and on layers large enough for the inflate thread. Runs when STOWAWAY_BASELINE_BIN names
/// the other build's `stowaway` (e.g. built from main before the change).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["STOWAWAY_BASELINE_BIN"] != nil))
struct SameFindingsTests {
    static let baseline = ProcessInfo.processInfo.environment["STOWAWAY_BASELINE_BIN"] ?? ""

    static let cases: [(ImageSpec.Format, String)] = PlantedImageTests.cases + [(.oci, "none"), (.docker25, "zstd")]

    /// The report without its timing, which is the one field allowed to differ.
    private func report(_ bin: String, _ args: [String]) throws -> (status: Int32, json: String) {
        let r = try Run.command(bin, ["scan"] + args + ["--format", "json"])
        let json = r.stdout.replacingOccurrences(of: #""seconds" : [0-9.eE+-]+"#, with: #""seconds" : 0"#, options: .regularExpression)
        return (r.status, json)
    }

    private func expectSame(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for args in [[path], [path, "--show-secrets"]] {
            let old = try report(Self.baseline, args), new = try report(Run.stowaway, args)
            #expect(old.status == new.status, "exit codes for \(args)", sourceLocation: sourceLocation)
            #expect(!new.json.isEmpty, sourceLocation: sourceLocation)
            #expect(old.json == new.json, "reports differ for \(args)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: cases)
    func plantedImage(format: ImageSpec.Format, compression: String) throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + (format == .oci ? "/layout" : "/image.tar")
        try ImageBuilder.build(PlantedImage().spec(format, compression: compression), at: path)
        try expectSame(path)
    }

    @Test(arguments: ["gzip", "zstd", "none"])
    func layersLargeEnoughForTheInflateThread(compression: String) throws {
        // Secrets at the start, in the middle and at the end of multi-megabyte files, across chunk boundaries.
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func big(_ i: Int) -> String {
            let noise = FakeSecret.random(1_500_000 + 37 * i)
            return "k=\(FakeSecret.githubToken())\n" + noise + "\nAWS=\(FakeSecret.awsKeyID())\n" + noise + "\nt=\(FakeSecret.stripeKey())"
        }
        let spec = ImageSpec(format: .oci, compression: compression, layers: [
            .init(files: [.init(path: "a/one.txt", content: big(1)), .init(path: "a/two.txt", content: big(2))]),
            .init(files: [.init(path: "b/.env", content: "GITHUB_TOKEN=\(FakeSecret.githubToken())\n"),
                          .init(path: "b/three.txt", content: big(3)), .init(path: "a/.wh.two.txt", content: "")]),
        ])
        try ImageBuilder.build(spec, at: dir + "/layout")
        try expectSame(dir + "/layout")
    }

    @Test func aCorruptLayer() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageBuilder.build(PlantedImage().spec(.oci, compression: "gzip"), at: dir + "/layout")
        // The error text may differ (ISA-L's words are not zlib's); the exit code and findings may not.
        let blobs = try FileManager.default.contentsOfDirectory(atPath: dir + "/layout/blobs/sha256")
        for b in blobs {
            let p = dir + "/layout/blobs/sha256/" + b
            var data = try Data(contentsOf: URL(fileURLWithPath: p))
            guard data.starts(with: [0x1f, 0x8b]), data.count > 200 else { continue }
            for i in stride(from: 100, to: data.count - 20, by: 11) { data[i] ^= 0x33 }
            try data.write(to: URL(fileURLWithPath: p))
        }
        let old = try Run.command(Self.baseline, ["scan", dir + "/layout"]), new = try Run.command(Run.stowaway, ["scan", dir + "/layout"])
        #expect(old.status == 2 && new.status == 2)
    }
}
