import Core
import Foundation
import Testing
import TestSupport
import ImageBuilder
import Layers
import OCI

/// Runs the real CLI on an input with a liveness bound: a hung scan is killed and shows as exit 124.
private func scan(_ input: String, _ extra: [String] = []) throws -> ProcessResult {
    try Run.command("/usr/bin/timeout", ["-k", "5", "120", Run.stowaway, "scan", input, "--quiet"] + extra)
}

/// Writes an OCI layout of uncompressed layers (tar bytes as given) with a config whose diff_ids match.
private func writeLayout(_ dir: String, layers: [[UInt8]]) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/blobs/sha256", withIntermediateDirectories: true)
    func blob(_ data: Data) throws -> [String: Any] {
        let d = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: "\(dir)/blobs/sha256/\(d.encoded)"))
        return ["digest": d.description, "size": data.count]
    }
    var layerDescriptors: [[String: Any]] = []
    for l in layers {
        var d = try blob(Data(l))
        d["mediaType"] = MediaType.ociLayerTar
        layerDescriptors.append(d)
    }
    let config: [String: Any] = [
        "architecture": "amd64", "os": "linux",
        "rootfs": ["type": "layers", "diff_ids": layerDescriptors.compactMap { $0["digest"] }],
        "history": layers.indices.map { ["created_by": "hostile layer \($0)"] },
    ]
    var configDescriptor = try blob(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]))
    configDescriptor["mediaType"] = MediaType.ociConfig
    let manifest: [String: Any] = ["schemaVersion": 2, "mediaType": MediaType.ociManifest, "config": configDescriptor,
                                   "layers": layerDescriptors]
    var manifestDescriptor = try blob(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
    manifestDescriptor["mediaType"] = MediaType.ociManifest
    let index: [String: Any] = ["schemaVersion": 2, "manifests": [manifestDescriptor]]
    try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: dir + "/index.json"))
    try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/oci-layout"))
}

private func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

private func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}

/// The findings and summary of a `--format json` report.
private func findings(_ json: [String: Any]?) -> [[String: Any]] {
    ((json?["images"] as? [[String: Any]]) ?? []).flatMap { ($0["findings"] as? [[String: Any]]) ?? [] }
}

/// A refused input: exit 2, one line on stderr naming the input and the reason, nothing in the report
/// from outside the image, in every format.
private func expectRefused(_ input: String, mentioning words: [String], secret: String? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
    for format in ["text", "json", "sarif"] {
        let r = try scan(input, ["--format", format])
        #expect(r.status == 2, "\(format): exit code \(r.status) for \(input), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr should be one line: \(r.stderr)", sourceLocation: sourceLocation)
        for w in words {
            #expect(r.stderr.contains(w), "stderr lacks \"\(w)\": \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!r.stdout.contains("No secrets found"), sourceLocation: sourceLocation)
        if let secret {
            // Not even the redacted prefix: nothing outside the image was read.
            #expect(!(r.stdout + r.stderr).contains(String(secret.prefix(8))), "\(format) output: \(r.stdout)", sourceLocation: sourceLocation)
        }
    }
}

/// Images are attacker-controlled data: paths in them never lead outside the image.
@Suite struct ReadsOutsideTheImageTests {
    let dir: String
    let secret = FakeSecret.githubToken()

    init() throws { dir = try Run.tempDirectory() }

    /// A docker save extracted to a directory, with a host tar holding a secret beside it (outside the image).
    private func extractedSave(_ format: ImageSpec.Format = .docker25) throws -> (image: String, manifest: [[String: Any]]) {
        let tar = dir + "/save.tar"
        try ImageBuilder.build(ImageSpec(format: format, compression: "gzip", layers: [
            .init(files: [.init(path: "hello.txt", content: "hello\n")]),
        ]), at: tar)
        let image = dir + "/extracted"
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        try Run.tool("tar", ["-xf", tar, "-C", image])
        try write(RawTar.file("token.txt", Array("GITHUB_TOKEN=\(secret)\n".utf8)) + RawTar.endOfArchive, to: dir + "/host.tar")
        let manifest = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: image + "/manifest.json")))) as? [[String: Any]]
        return (image, try #require(manifest))
    }

    private func rewrite(_ image: String, _ manifest: [[String: Any]], _ change: (inout [String: Any]) -> Void) throws {
        var m = manifest
        change(&m[0])
        try JSONSerialization.data(withJSONObject: m).write(to: URL(fileURLWithPath: image + "/manifest.json"))
    }

    @Test(arguments: ["../host.tar", "blobs/../../host.tar", "./../host.tar"])
    func aDockerSaveLayerPathThatClimbsOutOfTheImage(path: String) throws {
        let (image, manifest) = try extractedSave()
        try rewrite(image, manifest) { $0["Layers"] = [path] }
        try expectRefused(image, mentioning: [image, path, "leaves the image"], secret: secret)
    }

    @Test func aDockerSaveLayerAtAnAbsolutePath() throws {
        let (image, manifest) = try extractedSave()
        try rewrite(image, manifest) { $0["Layers"] = [dir + "/host.tar"] }
        try expectRefused(image, mentioning: [image, dir + "/host.tar", "absolute"], secret: secret)
    }

    @Test func aDockerSaveConfigOutsideTheImage() throws {
        let (image, manifest) = try extractedSave()
        let config: [String: Any] = ["architecture": "amd64", "os": "linux", "config": ["Env": ["GITHUB_TOKEN=\(secret)"]],
                                     "rootfs": ["type": "layers", "diff_ids": []]]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/host-config.json"))
        try rewrite(image, manifest) { $0["Config"] = "../host-config.json"; $0["Layers"] = [] }
        try expectRefused(image, mentioning: [image, "../host-config.json", "leaves the image"], secret: secret)
    }

    @Test func aLegacySaveMayLinkALayerToAnotherInsideTheImage() throws {
        // docker save (legacy) writes repeated layers as symbolic links to the first copy.
        let (image, manifest) = try extractedSave(.dockerLegacy)
        let layer = try #require((manifest[0]["Layers"] as? [String])?.first)
        try FileManager.default.createDirectory(atPath: image + "/shared", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: image + "/" + layer, toPath: image + "/shared/layer.tar")
        try FileManager.default.createSymbolicLink(atPath: image + "/" + layer, withDestinationPath: "../shared/layer.tar")
        let r = try scan(image)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test(arguments: ["../../host.tar", "ABSOLUTE"])
    func aLegacySaveLayerLinkedOutOfTheImage(target: String) throws {
        let (image, manifest) = try extractedSave(.dockerLegacy)
        let layer = try #require((manifest[0]["Layers"] as? [String])?.first)
        try FileManager.default.removeItem(atPath: image + "/" + layer)
        try FileManager.default.createSymbolicLink(atPath: image + "/" + layer, withDestinationPath: target == "ABSOLUTE" ? dir + "/host.tar" : target)
        try expectRefused(image, mentioning: [image, layer, "symbolic link"], secret: secret)
    }

    /// An OCI layout whose blobs (the directory, the sha256 directory, or one blob) are symbolic links into
    /// another layout on the host: the index names blobs that exist only there.
    @Test(arguments: ["blobs", "blobs/sha256", "blob"])
    func anOCILayoutWithSymlinkedBlobs(link: String) throws {
        let host = dir + "/host-layout"
        try writeLayout(host, layers: [RawTar.file("token.txt", Array("GITHUB_TOKEN=\(secret)\n".utf8)) + RawTar.endOfArchive])
        let image = dir + "/layout"
        let fm = FileManager.default
        try fm.createDirectory(atPath: image, withIntermediateDirectories: true)
        for f in ["index.json", "oci-layout"] { try fm.copyItem(atPath: host + "/" + f, toPath: image + "/" + f) }
        switch link {
        case "blobs": try fm.createSymbolicLink(atPath: image + "/blobs", withDestinationPath: host + "/blobs")
        case "blobs/sha256":
            try fm.createDirectory(atPath: image + "/blobs", withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: image + "/blobs/sha256", withDestinationPath: host + "/blobs/sha256")
        default:
            try fm.createDirectory(atPath: image + "/blobs/sha256", withIntermediateDirectories: true)
            for b in try fm.contentsOfDirectory(atPath: host + "/blobs/sha256") {
                try fm.createSymbolicLink(atPath: image + "/blobs/sha256/" + b, withDestinationPath: host + "/blobs/sha256/" + b)
            }
        }
        try expectRefused(image, mentioning: [image, "blobs/sha256/", "symbolic link"], secret: secret)
    }

    @Test func aFIFOForABlobIsRefusedNotWaitedOn() throws {
        let image = dir + "/layout"
        try writeLayout(image, layers: [RawTar.file("a.txt", Array("a\n".utf8)) + RawTar.endOfArchive])
        let index = try #require(jsonObject(String(decoding: try Data(contentsOf: URL(fileURLWithPath: image + "/index.json")), as: UTF8.self)))
        let manifest = try #require(((index["manifests"] as? [[String: Any]])?.first?["digest"] as? String)?.dropFirst(7))
        try FileManager.default.removeItem(atPath: image + "/blobs/sha256/" + manifest)
        try Run.tool("mkfifo", [image + "/blobs/sha256/" + manifest])
        try expectRefused(image, mentioning: [image, String(manifest), "not a regular file"])
    }
}

/// Hostile outer-tar headers (docker save and OCI tarballs): refused with one line, never a crash or a hang.
@Suite struct HostileTarHeaderTests {
    static let layoutFile = RawTar.file("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
    static let int64Max = [0x80, 0, 0, 0] + withUnsafeBytes(of: Int64.max.bigEndian, Array.init)

    static let cases: [(name: String, bytes: [UInt8], says: String)] = [
        // A negative size on the next header sends the offset back onto that header: an endless loop.
        ("pax-negative-size", layoutFile + RawTar.pax([("size", "-1024")]) + RawTar.header("pax_global_header", type: "g")
            + [UInt8](repeating: 0, count: 4096) + RawTar.endOfArchive, "corrupt"),
        ("base256-int64-max", RawTar.header("index.json", sizeField: int64Max) + RawTar.padded(Array("{}".utf8)) + RawTar.endOfArchive,
         "truncated or corrupt"),
        ("base256-negative", layoutFile + RawTar.header("index.json", sizeField: [UInt8](repeating: 0xff, count: 12)) + RawTar.endOfArchive,
         "corrupt"),
        ("pax-size-int64-max", RawTar.pax([("size", "\(Int64.max)")]) + RawTar.header("index.json", size: 2)
            + RawTar.padded(Array("{}".utf8)) + RawTar.endOfArchive, "truncated or corrupt"),
        ("pax-size-minus-1-index", layoutFile + RawTar.pax([("size", "-1")]) + RawTar.header("index.json") + RawTar.endOfArchive, "corrupt"),
        ("pax-size-minus-1-manifest", RawTar.pax([("size", "-1")]) + RawTar.header("manifest.json") + RawTar.endOfArchive, "corrupt"),
        // A record length shorter than its own prefix, and one so large that offset + length overflows.
        ("pax-record-too-short", RawTar.header("PaxHeader", size: 9, type: "x") + RawTar.padded(Array("1 path=x\n".utf8))
            + RawTar.header("index.json") + RawTar.endOfArchive, "corrupt"),
        ("pax-record-length-int-max", { () -> [UInt8] in
            let body = Array("10 path=a\n\(Int.max) x=y\n".utf8)
            return RawTar.header("PaxHeader", size: Int64(body.count), type: "x") + RawTar.padded(body) + RawTar.header("index.json")
                + RawTar.endOfArchive
        }(), "corrupt"),
    ]

    @Test func aOneCharacterSymlinkIsAnOrdinaryEntry() throws {
        // Foundation's deletingLastPathComponent traps on a one-character name; the fuzzer found it.
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let built = dir + "/built.tar"
        try ImageBuilder.build(ImageSpec(format: .ociTar, compression: "gzip", layers: [.init(files: [.init(path: "a", content: "a\n")])]),
                               at: built)
        let path = dir + "/linked.tar"
        try write(RawTar.header("l", type: "2", linkName: "index.json") + Array(try Data(contentsOf: URL(fileURLWithPath: built))), to: path)
        let r = try scan(path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
    }

    @Test(arguments: cases.map(\.name))
    func aHostileHeaderIsRefused(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/\(name).tar"
        try write(c.bytes, to: path)
        try expectRefused(path, mentioning: [path, c.says])
    }
}

/// Data no file of the image holds is scanned and reported where it was.
@Suite struct HiddenLayerDataTests {
    let dir: String
    let secret = FakeSecret.githubToken()

    init() throws { dir = try Run.tempDirectory() }

    private var line: [UInt8] { Array("GITHUB_TOKEN=\(secret)\n".utf8) }

    /// Scans a layout of these layers; returns the exit code, the JSON report and the secret's finding.
    private func scanLayout(_ layers: [[UInt8]]) throws -> (status: Int32, json: [String: Any]?, found: [[String: Any]]) {
        let image = dir + "/layout"
        try writeLayout(image, layers: layers)
        let r = try scan(image, ["--format", "json"])
        let json = jsonObject(r.stdout)
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        return (r.status, json, findings(json).filter { $0["secretSHA256"] as? String == sha256Hex(secret) })
    }

    @Test func aSparseFileClaimingATerabyteIsScannedForItsStoredData() throws {
        let tib: Int64 = 1 << 40
        let layer = RawTar.sparse("huge.img", realSize: tib, segments: [(0, Array("start\n".utf8)), (tib - Int64(line.count), line)])
            + RawTar.endOfArchive
        let (status, json, found) = try scanLayout([layer])
        #expect(status == 1)
        #expect(found.map { $0["path"] as? String } == ["/huge.img"])
        let bytes = (json?["summary"] as? [String: Any])?["bytes"] as? Int
        #expect(bytes == 6 + line.count, "the summary counts the stored bytes, not the holes")
    }

    @Test func bytesAfterTheEndOfArchiveAreReportedAtTheirPseudoPath() throws {
        let layer = RawTar.file("hello.txt", Array("hello\n".utf8)) + RawTar.endOfArchive + [UInt8](repeating: 0, count: 8192) + line
        let (status, _, found) = try scanLayout([layer])
        #expect(status == 1)
        #expect(found.map { $0["path"] as? String } == [LayerEntry.trailingDataPath])
        #expect(found.first?["layerIndex"] as? Int == 0)
        #expect(found.first?["line"] as? Int == 1)

        let text = try scan(dir + "/layout")
        #expect(text.status == 1)
        #expect(text.stdout.contains(LayerEntry.trailingDataPath + ":1"), "\(text.stdout)")
        let sarif = try scan(dir + "/layout", ["--format", "sarif"])
        #expect(sarif.status == 1)
        #expect(sarif.stdout.contains("\"files/" + LayerEntry.trailingDataPath.dropFirst() + "\""), "\(sarif.stdout)")
    }

    @Test func aWhiteoutsBodyIsScannedAndTheWhiteoutStillDeletes() throws {
        let lower = Array("GITHUB_TOKEN=\(FakeSecret.githubToken())\n".utf8)
        let (status, json, found) = try scanLayout([
            RawTar.file("app/.env", lower) + RawTar.endOfArchive,
            RawTar.file("app/.wh..env", line) + RawTar.endOfArchive,
        ])
        #expect(status == 1)
        #expect(found.map { $0["path"] as? String } == ["/app/.wh..env"])
        #expect(found.first?["layerIndex"] as? Int == 1)
        let deleted = findings(json).first { $0["path"] as? String == "/app/.env" }
        #expect(deleted?["status"] as? String == "deleted")
        #expect(deleted?["removedInLayer"] as? Int == 1)
    }

    @Test func aHardLinksBodyIsScannedUnderTheLinksPath() throws {
        let layer = RawTar.file("a.txt", Array("a\n".utf8)) + RawTar.pax([("path", "b.txt")])
            + RawTar.header("b.txt", size: Int64(line.count), type: "1", linkName: "a.txt") + RawTar.padded(line) + RawTar.endOfArchive
        let (status, _, found) = try scanLayout([layer])
        #expect(status == 1)
        #expect(found.map { $0["path"] as? String } == ["/b.txt"])
    }
}

/// Documents that name one another many times: the walk is bounded, not multiplied per level.
@Suite struct HostileIndexTests {
    let dir: String

    init() throws { dir = try Run.tempDirectory() }

    private func object(_ path: String) throws -> [String: Any] {
        try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) as? [String: Any])
    }

    @Test func anIndexNamingOneChildAThousandTimesAtEveryLevel() throws {
        let image = dir + "/layout"
        try writeLayout(image, layers: [RawTar.file("a.txt", Array("a\n".utf8)) + RawTar.endOfArchive])
        var child = try #require((try object(image + "/index.json")["manifests"] as? [[String: Any]])?.first)
        for _ in 0..<3 {
            let doc = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": Array(repeating: child, count: 1000)])
            let d = Digest.sha256(of: doc)
            try doc.write(to: URL(fileURLWithPath: "\(image)/blobs/sha256/\(d.encoded)"))
            child = ["mediaType": MediaType.ociIndex, "digest": d.description, "size": doc.count]
        }
        try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": Array(repeating: child, count: 1000)])
            .write(to: URL(fileURLWithPath: image + "/index.json"))
        try expectRefused(image, mentioning: [image, "more than 10000 manifests"])
    }

    @Test func aManifestJSONNamingOneConfigForTwentyThousandImages() throws {
        let tar = dir + "/save.tar"
        try ImageBuilder.build(ImageSpec(format: .docker25, compression: "gzip", layers: [.init(files: [.init(path: "a", content: "a\n")])]),
                               at: tar)
        let image = dir + "/extracted"
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        try Run.tool("tar", ["-xf", tar, "-C", image])
        let items = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: image + "/manifest.json")))) as? [Any])
        try JSONSerialization.data(withJSONObject: Array(repeating: items[0], count: 20_000))
            .write(to: URL(fileURLWithPath: image + "/manifest.json"))
        try expectRefused(image, mentioning: [image, "more than 10000 images"])
    }
}
