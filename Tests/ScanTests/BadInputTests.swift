import Foundation
import Testing
import TestSupport
import ImageBuilder

/// Every bad input: exit code 2, one line on stderr naming the input and the reason, and never a clean verdict.
@Suite struct BadInputTests {
    let dir: String

    init() throws { dir = try Run.tempDirectory() }

    private func build(_ format: ImageSpec.Format, compression: String = "gzip", at name: String) throws -> String {
        let path = dir + "/" + name
        let spec = ImageSpec(format: format, compression: compression, layers: [
            .init(files: [.init(path: "a.txt", content: FakeSecret.random(300_000))]),
            .init(files: [.init(path: "b.txt", content: "hello\n")]),
        ])
        try ImageBuilder.build(spec, at: path)
        return path
    }

    private func expectRefused(_ input: String, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try Run.command(Run.stowaway, ["scan", input])
        #expect(r.status == 2, "exit code for \(input): \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr should be one line: \(r.stderr)", sourceLocation: sourceLocation)
        for w in words {
            #expect(r.stderr.contains(w), "stderr lacks \"\(w)\": \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!r.stdout.contains("No secrets found"), sourceLocation: sourceLocation)
        for format in ["json", "sarif"] {
            let j = try Run.command(Run.stowaway, ["scan", input, "--format", format])
            #expect(j.status == 2, sourceLocation: sourceLocation)
        }
    }

    private func blobs(_ layout: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256").map { layout + "/blobs/sha256/" + $0 }
    }

    /// The largest blob of a layout is the first layer (300 KB of random text).
    private func largestBlob(_ layout: String) throws -> String {
        func size(_ p: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? Int) ?? 0 }
        return try blobs(layout).max { size($0) < size($1) }!
    }

    @Test func truncatedTarball() throws {
        let tar = try build(.docker25, at: "t.tar")
        let data = try Data(contentsOf: URL(fileURLWithPath: tar))
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: tar))
        try expectRefused(tar, mentioning: [tar, "truncated"])
    }

    @Test func truncatedGzipInsideALayer() throws {
        let layout = try build(.oci, at: "layout")
        let blob = try largestBlob(layout)
        let data = try Data(contentsOf: URL(fileURLWithPath: blob))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: blob))
        try expectRefused(layout, mentioning: [blob, "truncated"])
    }

    @Test func corruptGzipInsideALayerOfADockerSave() throws {
        // Overwrite the middle of the layer's bytes inside the tarball; the tar structure stays intact.
        let tar = try build(.docker25, at: "c.tar")
        var data = try Data(contentsOf: URL(fileURLWithPath: tar))
        let mid = data.count / 3
        for i in stride(from: mid, to: mid + 20_000, by: 7) { data[i] ^= 0xa5 }
        try data.write(to: URL(fileURLWithPath: tar))
        try expectRefused(tar, mentioning: [tar, "layer 0"])
    }

    @Test func manifestNamesALayerThatIsNotThere() throws {
        let tar = try build(.docker25, at: "m.tar")
        let extracted = dir + "/extracted"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        try Run.tool("tar", ["-xf", tar, "-C", extracted])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: extracted + "/manifest.json"))) as! [[String: Any]]
        let firstLayer = (manifest[0]["Layers"] as! [String])[0]
        try FileManager.default.removeItem(atPath: extracted + "/" + firstLayer)
        try expectRefused(extracted, mentioning: [extracted, firstLayer, "not present"])
    }

    @Test func blobWhoseContentDoesNotMatchItsDigest() throws {
        // Uncompressed layers, so a changed byte inside a file leaves a readable tar: only the digest can tell.
        let layout = try build(.oci, compression: "none", at: "d")
        let blob = try largestBlob(layout)
        var data = try Data(contentsOf: URL(fileURLWithPath: blob))
        data[2048] = data[2048] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try data.write(to: URL(fileURLWithPath: blob))
        try expectRefused(layout, mentioning: [blob, "digest mismatch"])
    }

    @Test func aJSONFileThatIsNotAnImage() throws {
        let path = dir + "/package.json"
        try Data(#"{"name": "not-an-image", "version": "1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: path))
        try expectRefused(path, mentioning: [path, "not a container image", "JSON"])
    }

    @Test func anEmptyFile() throws {
        let path = dir + "/empty.tar"
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        try expectRefused(path, mentioning: [path, "empty file"])
    }

    @Test func aDirectoryThatIsNotAnOCILayout() throws {
        let path = dir + "/just-a-dir"
        try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        try Data("hi".utf8).write(to: URL(fileURLWithPath: path + "/README"))
        try expectRefused(path, mentioning: [path, "not an OCI image layout"])
    }

    @Test func aPathThatDoesNotExist() throws {
        try expectRefused(dir + "/nope.tar", mentioning: [dir + "/nope.tar", "no such file"])
    }

    @Test func aCorruptIndexJSON() throws {
        let layout = try build(.oci, at: "bad-index")
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: layout + "/index.json"))
        try expectRefused(layout, mentioning: [layout, "index.json", "invalid JSON"])
    }

    /// A registry that cannot be reached says why in the system's words, never a library's type dump.
    @Test func anUnreachableRegistrySaysWhyInPlainWords() throws {
        // A port nothing listens on: bind one, note it, close it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
                               sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        // Pointers to locals for the duration of each call only.
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        try expectRefused("127.0.0.1:\(port)/team/app:v1", mentioning: ["127.0.0.1:\(port)", "connection refused"])
        // `.invalid` never resolves (RFC 2606), with or without a network.
        try expectRefused("registry.invalid/team/app:v1", mentioning: ["registry.invalid", "could not be resolved"])
        for input in ["127.0.0.1:\(port)/team/app:v1", "registry.invalid/team/app:v1"] {
            let r = try Run.command(Run.stowaway, ["scan", input])
            #expect(!r.stderr.contains("Error.") && !r.stderr.contains("errno") && !r.stderr.contains("SocketAddress"), "\(r.stderr)")
        }
    }
}
