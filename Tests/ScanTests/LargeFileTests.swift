import Foundation
import ImageBuilder
import Testing
import TestSupport

/// Memory does not grow with file size: a 2 GB file of random bytes is scanned in a bounded footprint.
@Suite struct LargeFileTests {
    @Test func aTwoGigabyteRandomFileDoesNotBlowMemory() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size: Int64 = 2 << 30
        let token = FakeSecret.flyToken()
        // Uncompressed, so the layer is read as fast as the disk allows; a secret after the 2 GB proves it was read to the end.
        try ImageBuilder.build(ImageSpec(format: .oci, compression: "none", layers: [.init(files: [
            .init(path: "data/blob.bin", randomBytes: size),
            .init(path: "data/after.txt", content: "FLY_API_TOKEN=\(token)\n"),
        ])]), at: dir + "/layout")
        let r = try Run.command("/usr/bin/time", ["-f", "peak-rss-kb=%M", Run.stowaway, "scan", "oci:\(dir)/layout", "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let summary = try JSONDocument.object(r.stdout).object("summary")
        #expect((summary["bytes"] as? Int64 ?? 0) >= size)
        let findings = try JSONDocument.findings(r.stdout)
        #expect(findings.contains { $0["path"] as? String == "/data/after.txt" && $0["ruleID"] as? String == "flyio-access-token" })
        let rss = r.stderr.split(separator: "\n").compactMap { $0.split(separator: "=").last.flatMap { Int($0) } }.last ?? Int.max
        #expect(rss < 200 * 1024, "peak RSS \(rss / 1024) MB for a 2 GB file")
    }
}
