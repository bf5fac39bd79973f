import Core
import Foundation
import Testing
import TestSupport
@testable import Layers
import ImageBuilder
import OCI

/// A byte source that hands out at most `chunk` bytes per read, so block boundaries fall everywhere.
final class ChunkedSource: ByteSource {
    let bytes: [UInt8]
    let chunk: Int
    var position = 0
    init(_ bytes: [UInt8], chunk: Int) {
        self.bytes = bytes
        self.chunk = chunk
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, chunk, bytes.count - position)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Data no extractor writes to a file still reaches the reader's caller: after the end-of-archive marker,
/// in a hard link's body; and a sparse file yields only the data it stores.
@Suite struct HiddenDataTests {
    /// A plain tar from our writer, ending at its end-of-archive marker.
    private func tar(_ files: [(String, String)]) throws -> [UInt8] {
        try TarWriter.archive(files.map { ($0.0, Array($0.1.utf8)) })
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/blob"))
        try Run.tool("gzip", ["-n", dir + "/blob"])
        return Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/blob.gz")))
    }

    // Chunk sizes that put block boundaries inside, at and around the end-of-archive marker's blocks.
    @Test(arguments: [1, 7, 511, 512, 513, 1000, 1024, 1536, 4096, 10_240, 1 << 20])
    func bytesAfterTheEndOfArchiveAreATrailingEntry(chunk: Int) throws {
        let payload = Array("TOKEN=\(FakeSecret.githubToken())\n".utf8)
        // Record padding (zeros, as GNU tar writes) and then the hidden bytes.
        let blob = try tar([("a.txt", "hello\n")]) + [UInt8](repeating: 0, count: 9216) + payload
        let diffID = Digest.sha256(of: blob)
        let reader = try LayerReader(source: ChunkedSource(blob, chunk: chunk), name: "l", expectedDiffID: diffID)
        let entries = try readAll(reader)
        #expect(entries.map(\.0.path) == ["/a.txt", LayerEntry.trailingDataPath])
        #expect(entries.last?.0.kind == .trailingData)
        #expect(entries.last?.1 == String(decoding: payload, as: UTF8.self))
        #expect(try reader.finish().diffID == diffID)
    }

    @Test func bytesAfterTheEndOfArchiveOfAGzipLayer() throws {
        let payload = Array("TOKEN=\(FakeSecret.githubToken())\n".utf8)
        // Enough before the marker that the decompressor hands the tar reader several blocks.
        let plain = try tar([("big", FakeSecret.random(300_000))]) + payload + [UInt8](repeating: 0, count: 100)
        let reader = try LayerReader(source: MemorySource(try gzip(plain)), name: "l", expectedDiffID: Digest.sha256(of: plain))
        let entries = try readAll(reader)
        #expect(entries.map(\.0.kind) == [.file, .trailingData])
        #expect(entries.last?.1 == String(decoding: payload + [UInt8](repeating: 0, count: 100), as: UTF8.self))
        try reader.finish()
    }

    @Test func zeroPaddingAfterTheEndOfArchiveIsNotAnEntry() throws {
        let blob = try tar([("a.txt", "hello\n")]) + [UInt8](repeating: 0, count: 9216)
        let reader = try LayerReader(source: ChunkedSource(blob, chunk: 700), name: "l", expectedDiffID: Digest.sha256(of: blob))
        #expect(try readAll(reader).map(\.0.path) == ["/a.txt"])
        try reader.finish()
    }

    @Test func aTrailingEntryLeftUnreadStillCountsTowardsTheDiffID() throws {
        let blob = try tar([("a.txt", "hello\n")]) + Array(FakeSecret.random(200_000).utf8)
        let reader = try LayerReader(source: ChunkedSource(blob, chunk: 4096), name: "l", expectedDiffID: Digest.sha256(of: blob))
        while try reader.next() != nil {}
        try reader.finish()
    }

    @Test func aHardLinkWithABodyYieldsTheBody() throws {
        let body = Array("TOKEN=\(FakeSecret.githubToken())\n".utf8)
        // A pax header makes the archive pax interchange, where a hard link may carry data.
        let blob = RawTar.file("a.txt", Array("a\n".utf8)) + RawTar.pax([("path", "b.txt")])
            + RawTar.header("b.txt", size: Int64(body.count), type: "1", linkName: "a.txt") + RawTar.padded(body) + RawTar.endOfArchive
        let entries = try readAll(try LayerReader(source: MemorySource(blob), name: "l"))
        #expect(entries.map(\.0.path) == ["/a.txt", "/b.txt"])
        #expect(entries[1].0.kind == .hardlink)
        #expect(entries[1].0.linkTarget == "/a.txt")
        #expect(entries[1].0.hasData)
        #expect(entries[1].1 == String(decoding: body, as: UTF8.self))
    }

    @Test func aSparseFileYieldsOnlyItsStoredData() throws {
        let tib: Int64 = 1 << 40
        let head = Array("head \(FakeSecret.random(20))\n".utf8)
        let tail = Array("tail \(FakeSecret.random(20))\n".utf8)
        let blob = RawTar.sparse("huge.img", realSize: tib, segments: [(0, head), (tib - Int64(tail.count), tail)]) + RawTar.endOfArchive
        let reader = try LayerReader(source: MemorySource(blob), name: "l")
        let entry = try #require(try reader.next())
        #expect(entry.kind == .file)
        #expect(entry.size == tib)
        // Zero-filling the hole would return a terabyte: stop well before that.
        var content: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while content.count < 1 << 20 {
            let n = try buf.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            content += buf[..<n]
        }
        #expect(content == head + tail)
        #expect(try reader.next() == nil)
        try reader.finish()
    }
}
