import Foundation
import ImageBuilder
import Testing
import TestSupport

/// Memory does not grow with file size: a file of random bytes larger than the memory bound is scanned in a bounded
/// footprint. 384 MiB by default (past the 200 MB bound, so a scan that held the file would fail); 2 GiB, past
/// 32-bit sizes, with STOWAWAY_LARGE_TESTS=1 (it writes 2 GiB to $TMPDIR and takes minutes).
@Suite struct LargeFileTests {
    @Test func aFileLargerThanTheMemoryBoundIsScannedInBoundedMemory() throws {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size: Int64 = ProcessInfo.processInfo.environment["STOWAWAY_LARGE_TESTS"] == "1" ? 2 << 30 : 384 << 20
        let token = FakeSecret.flyToken()
        // Uncompressed, so the layer is read as fast as the disk allows; a secret after the blob proves it was read to the end.
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
        #expect(rss < 200 * 1024, "peak RSS \(rss / 1024) MB for a file of \(size >> 20) MiB")
    }
}
