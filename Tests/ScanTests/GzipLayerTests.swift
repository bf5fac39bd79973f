import Core
import Foundation
import Testing
import TestSupport
import ImageBuilder
import OCI

/// An OCI layout whose layer blob is swapped for other bytes, with the manifest, config and index
/// rewritten so every digest and size agrees: the only fault left is in the blob's own bytes.
struct LayoutSurgery {
    struct Failure: Error, CustomStringConvertible { var description: String }
    let path: String

    private func object(_ file: String) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any] else {
            throw Failure(description: "\(file) is not a JSON object")
        }
        return o
    }

    private func blobFile(_ digest: String) -> String { path + "/blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "") }

    private func store(_ data: Data) throws -> (digest: String, size: Int) {
        let digest = Digest.sha256(of: Array(data)).description
        try data.write(to: URL(fileURLWithPath: blobFile(digest)))
        return (digest, data.count)
    }

    private func storeJSON(_ o: [String: Any]) throws -> (digest: String, size: Int) {
        try store(JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]))
    }

    /// The first manifest, its file name, and the index.
    private func manifest() throws -> (index: [String: Any], manifest: [String: Any]) {
        let index = try object(path + "/index.json")
        guard let entries = index["manifests"] as? [[String: Any]], let d = entries.first?["digest"] as? String else {
            throw Failure(description: "index.json has no manifest")
        }
        return (index, try object(blobFile(d)))
    }

    /// The bytes of layer `i`.
    func layerBytes(_ i: Int = 0) throws -> [UInt8] {
        let (_, m) = try manifest()
        guard let layers = m["layers"] as? [[String: Any]], let d = layers[i]["digest"] as? String else {
            throw Failure(description: "manifest has no layer \(i)")
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: blobFile(d))))
    }

    /// Replaces layer `i` by `bytes` (and its diff_id, when given); returns the new blob's path.
    @discardableResult
    func replaceLayer(_ i: Int = 0, with bytes: [UInt8], diffID: String? = nil) throws -> String {
        var (index, m) = try manifest()
        guard var layers = m["layers"] as? [[String: Any]] else { throw Failure(description: "manifest has no layers") }
        let blob = try store(Data(bytes))
        layers[i]["digest"] = blob.digest
        layers[i]["size"] = blob.size
        m["layers"] = layers
        if let diffID {
            guard var config = m["config"] as? [String: Any], let cd = config["digest"] as? String else {
                throw Failure(description: "manifest has no config")
            }
            var c = try object(blobFile(cd))
            guard var rootfs = c["rootfs"] as? [String: Any], var ids = rootfs["diff_ids"] as? [String] else {
                throw Failure(description: "config has no diff_ids")
            }
            ids[i] = diffID
            rootfs["diff_ids"] = ids
            c["rootfs"] = rootfs
            let stored = try storeJSON(c)
            config["digest"] = stored.digest
            config["size"] = stored.size
            m["config"] = config
        }
        let stored = try storeJSON(m)
        guard var entries = index["manifests"] as? [[String: Any]] else { throw Failure(description: "index.json has no manifests") }
        entries[0]["digest"] = stored.digest
        entries[0]["size"] = stored.size
        index["manifests"] = entries
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path + "/index.json"))
        return blobFile(blob.digest)
    }
}

/// gzip layers inflated by ISA-L, through the CLI: good streams of every shape are scanned fully; each
/// bad one is exit code 2 and one line naming the layer's blob and the reason.
@Suite struct GzipLayerTests {
    let dir: String
    let layout: String
    let github = FakeSecret.githubToken()
    let surgery: LayoutSurgery
    /// The layer's tar, uncompressed.
    let tar: [UInt8]

    init() throws {
        dir = try Run.tempDirectory()
        layout = dir + "/layout"
        try ImageBuilder.build(ImageSpec(format: .oci, compression: "gzip", layers: [
            .init(files: [.init(path: "app/", type: "dir"), .init(path: "app/noise.txt", content: FakeSecret.random(200_000)),
                          .init(path: "app/settings.py", content: "GITHUB = '\(github)'\n")]),
        ]), at: layout)
        surgery = LayoutSurgery(path: layout)
        let gz = dir + "/layer.gz"
        try Data(try surgery.layerBytes()).write(to: URL(fileURLWithPath: gz))
        try Run.tool("sh", ["-c", "gzip -dc < '\(gz)' > '\(gz).tar'"])
        tar = Array(try Data(contentsOf: URL(fileURLWithPath: gz + ".tar")))
    }

    private func hex(_ blobPath: String) -> String { URL(fileURLWithPath: blobPath).lastPathComponent }

    /// Exit 2, one line on stderr naming the blob (by its digest) and the reason, in every format.
    @discardableResult
    private func expectRefused(_ blobPath: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let r = try Run.command(Run.stowaway, ["scan", layout, "--format", "json"])
        #expect(r.status == 2, "exit code \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr should be one line: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(hex(blobPath)), "stderr does not name the blob: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(reason), "stderr lacks \"\(reason)\": \(r.stderr)", sourceLocation: sourceLocation)
        for format in ["text", "sarif"] {
            let other = try Run.command(Run.stowaway, ["scan", layout, "--format", format])
            #expect(other.status == 2, sourceLocation: sourceLocation)
            #expect(!other.stdout.contains("No secrets found"), sourceLocation: sourceLocation)
        }
        return r
    }

    /// Exit 1, no error, and the planted token found in its file.
    private func expectScannedFully(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try Run.command(Run.stowaway, ["scan", layout, "--format", "json", "--show-secrets"])
        #expect(r.status == 1, "exit code \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.isEmpty, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.contains("\"path\" : \"/app/settings.py\""), sourceLocation: sourceLocation)
        #expect(r.stdout.contains(github), sourceLocation: sourceLocation)
    }

    @Test func theBuiltLayoutScansCleanlyBeforeSurgery() throws {
        try expectScannedFully()
    }

    @Test func aMultiMemberLayerIsScannedFully() throws {
        // The token's file sits in the last member; the cut falls inside the noise file.
        let cut = 100_000
        try surgery.replaceLayer(with: try gzipTool(Array(tar[..<cut])) + GzipMember(data: Array(tar[cut...])).bytes)
        try expectScannedFully()
    }

    @Test func aHeaderWithEveryOptionalFieldIsScannedFully() throws {
        try surgery.replaceLayer(with: GzipMember(data: tar, extra: [1, 2, 3, 4], name: "layer.tar", comment: "hand-made",
                                                  headerCRC: true).bytes)
        try expectScannedFully()
    }

    @Test func aCRCMismatchIsRefused() throws {
        let blob = try surgery.replaceLayer(with: GzipMember(data: tar, crc: crc32(tar) ^ 1).bytes)
        try expectRefused(blob, reason: "CRC-32 mismatch in gzip member 1")
    }

    @Test func anISIZEMismatchIsRefused() throws {
        let blob = try surgery.replaceLayer(with: GzipMember(data: tar, isize: UInt32(tar.count - 512)).bytes)
        try expectRefused(blob, reason: "ISIZE mismatch in gzip member 1")
    }

    @Test func aTruncatedMemberIsRefused() throws {
        let good = try surgery.layerBytes()
        let blob = try surgery.replaceLayer(with: Array(good[..<(good.count * 2 / 3)]))
        try expectRefused(blob, reason: "truncated gzip stream")
    }

    @Test func trailingDataIsRefusedAndWhatItHidesIsReported() throws {
        let hidden = FakeSecret.githubToken()
        let blob = try surgery.replaceLayer(with: try surgery.layerBytes() + Array("\nGITHUB_TOKEN=\(hidden)\n".utf8))
        let r = try expectRefused(blob, reason: "trailing data after the gzip stream")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let images = report?["images"] as? [[String: Any]]
        let findings = images?.first?["findings"] as? [[String: Any]] ?? []
        let paths = findings.compactMap { $0["path"] as? String }
        #expect(paths.contains("(after gzip stream)"), "findings: \(paths)")
        #expect(paths.contains("/app/settings.py"), "findings: \(paths)")
        #expect(!r.stdout.contains(hidden) && !r.stderr.contains(hidden), "the hidden token is redacted")
    }

    @Test func aZeroLengthBlobWhereAGzipLayerShouldBeIsRefused() throws {
        // The file emptied on disk, the manifest unchanged.
        let good = try surgery.layerBytes()
        let blobPath = layout + "/blobs/sha256/" + Digest.sha256(of: good).description.replacingOccurrences(of: "sha256:", with: "")
        try Data().write(to: URL(fileURLWithPath: blobPath))
        try expectRefused(blobPath, reason: "size mismatch")
    }

    @Test func aZeroLengthBlobTheManifestAgreesWithIsAnEmptyLayer() throws {
        try surgery.replaceLayer(with: [], diffID: Digest.sha256(of: []).description)
        let r = try Run.command(Run.stowaway, ["scan", layout, "--format", "json"])
        #expect(r.status == 0, "exit code \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.isEmpty)
    }
}
