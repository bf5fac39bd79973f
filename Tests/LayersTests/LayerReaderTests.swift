import Core
import Foundation
import Testing
import TestSupport
@testable import Layers
import ImageBuilder
import OCI

/// A byte source over an in-memory blob.
final class MemorySource: ByteSource {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

func makeLayer(_ compression: TarWriter.Compression, files: [(String, String)]) throws -> (blob: [UInt8], diffID: Digest, digest: Digest) {
    var blob: [UInt8] = []
    let w = try TarWriter(compression: compression) { blob.append(contentsOf: $0) }
    for (path, content) in files {
        if path.hasSuffix("/") { try w.addDirectory(path) } else { try w.addFile(path, bytes: Array(content.utf8)) }
    }
    let (diffID, digest, size) = try w.finish()
    #expect(Int64(blob.count) == size)
    return (blob, diffID, digest)
}

func readAll(_ reader: LayerReader) throws -> [(LayerEntry, String)] {
    var out: [(LayerEntry, String)] = []
    var buf = [UInt8](repeating: 0, count: 7)   // tiny reads exercise chunking
    while let e = try reader.next() {
        var content: [UInt8] = []
        while true {
            let n = try buf.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            content += buf[..<n]
        }
        out.append((e, String(decoding: content, as: UTF8.self)))
    }
    return out
}

@Suite struct LayerReaderTests {
    static let files = [("./app/", ""), ("./app/.env", "TOKEN=abc\n"), ("etc/hostname", "box\n"), ("app/.wh.old", "")]

    @Test(arguments: TarWriter.Compression.allCases)
    func readsEveryEntryAndVerifiesBothDigests(compression: TarWriter.Compression) throws {
        let (blob, diffID, digest) = try makeLayer(compression, files: Self.files)
        if compression == .none { #expect(diffID == digest) } else { #expect(diffID != digest) }
        let reader = try LayerReader(source: MemorySource(blob), name: "layer", expectedDigest: digest, expectedDiffID: diffID,
                                     expectedSize: Int64(blob.count))
        let entries = try readAll(reader)
        #expect(entries.map(\.0.path) == ["/app", "/app/.env", "/etc/hostname", "/app/.wh.old"])
        #expect(entries[1].1 == "TOKEN=abc\n")
        #expect(entries[0].0.kind == .directory)
        let d = try reader.finish()
        #expect(d.diffID == diffID)
        #expect(d.blobDigest == digest)
        #expect(d.compression.description == (compression == .none ? "none" : compression.rawValue))
    }

    @Test(arguments: [TarWriter.Compression.gzip, .zstd, .none])
    func aTruncatedLayerIsAnErrorNotAShortLayer(compression: TarWriter.Compression) throws {
        let big = FakeSecret.random(200_000)
        let (blob, _, _) = try makeLayer(compression, files: [("a", big), ("b", big)])
        let cut = Array(blob.prefix(blob.count / 2))
        #expect(throws: LayerError.self) {
            let reader = try LayerReader(source: MemorySource(cut), name: "cut-layer")
            _ = try readAll(reader)
            try reader.finish()
        }
    }

    @Test func corruptGzipIsAnErrorNamingTheLayer() throws {
        let (blob, _, _) = try makeLayer(.gzip, files: [("a", FakeSecret.random(100_000))])
        var bad = blob
        for i in stride(from: 100, to: bad.count - 100, by: 97) { bad[i] ^= 0x5a }
        do {
            let reader = try LayerReader(source: MemorySource(bad), name: "bad-layer")
            _ = try readAll(reader)
            try reader.finish()
            Issue.record("corrupt gzip was read without error")
        } catch {
            #expect("\(error)".contains("bad-layer"))
        }
    }

    @Test func aDiffIDMismatchIsReported() throws {
        let (blob, _, digest) = try makeLayer(.gzip, files: Self.files)
        let wrong = Digest.sha256(of: Array("something else".utf8))
        let reader = try LayerReader(source: MemorySource(blob), name: "layer", expectedDigest: digest, expectedDiffID: wrong)
        _ = try readAll(reader)
        #expect(throws: LayerError.digestMismatch(layer: "layer", what: "diff_id", expected: wrong.description,
                                                   actual: try makeLayer(.gzip, files: Self.files).diffID.description)) {
            try reader.finish()
        }
    }

    @Test func anEmptyBlobIsAnEmptyLayer() throws {
        let reader = try LayerReader(source: MemorySource([]), name: "empty")
        #expect(try reader.next() == nil)
        try reader.finish()
    }

    @Test func hardlinksAndSymlinksAreTyped() throws {
        var blob: [UInt8] = []
        let w = try TarWriter(compression: .none) { blob.append(contentsOf: $0) }
        try w.addFile("a", bytes: Array("x".utf8))
        try w.addHardlink("b", target: "a")
        try w.addSymlink("c", target: "/etc/passwd")
        _ = try w.finish()
        let entries = try readAll(try LayerReader(source: MemorySource(blob), name: "l"))
        #expect(entries.map(\.0.kind) == [.file, .hardlink, .symlink])
        #expect(entries[1].0.linkTarget == "/a")
        #expect(entries[2].0.linkTarget == "/etc/passwd")
    }
}

@Suite struct LayerPathTests {
    @Test(arguments: [("./app/.env", "/app/.env"), ("/etc//x/", "/etc/x"), ("a/./b/../c", "/a/c"), ("../../x", "/x"), (".", "/"),
                      ("usr/lib/x.so", "/usr/lib/x.so"), ("/opt/app/", "/opt/app"), ("", "/"), ("/", "/"), ("///", "/"),
                      ("a/...", "/a/..."), ("..a/.b/c..", "/..a/.b/c.."), ("a/..", "/"), ("a/.", "/a"), ("//a", "/a"),
                      ("a//", "/a"), ("./", "/"), ("é/ñ", "/é/ñ")])
    func normalize(raw: String, expected: String) {
        #expect(LayerPath.normalize(raw) == expected)
    }

    @Test func ancestors() {
        #expect(LayerPath.ancestors("/a/b/c") == ["/a/b", "/a", "/"])
        #expect(LayerPath.ancestors("/a") == ["/"])
    }

    @Test(arguments: [
        ("/app/.wh..env", Whiteout.delete("/app/.env")),
        ("/.wh.etc", Whiteout.delete("/etc")),
        ("/app/.wh..wh..opq", Whiteout.opaque("/app")),
        ("/.wh..wh..opq", Whiteout.opaque("/")),
        ("/.wh..wh.plnk", Whiteout.metadata),
    ])
    func whiteouts(path: String, expected: Whiteout) {
        #expect(Whiteout.classify(path) == expected)
    }

    @Test func ordinaryNamesAreNotWhiteouts() {
        #expect(Whiteout.classify("/app/.env") == nil)
        #expect(Whiteout.classify("/app/x.wh.y") == nil)
    }
}
