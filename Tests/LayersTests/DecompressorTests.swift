import Core
import Foundation
import Testing
import TestSupport
@testable import Layers
import OCI

// ChunkedSource (HiddenDataTests.swift) hands out at most `chunk` bytes per read, so headers and trailers straddle reads.

@Suite struct GzipInflaterTests {
    let secret = "AWS_SECRET_ACCESS_KEY=" + FakeSecret.awsSecret()
    let tar: [UInt8]

    init() throws {
        tar = try makeLayer(.none, files: [("app/", ""), ("app/.env", "A=1\n"), ("app/big", FakeSecret.random(150_000)),
                                           ("etc/hostname", "box\n")]).blob
    }

    /// Every split of reads, on the inflate thread and inline.
    static let modes: [(chunk: Int, threaded: Bool)] = [(1, false), (3, true), (4096, false), (4096, true), (1 << 30, false), (1 << 30, true)]

    private func reader(_ blob: [UInt8], _ mode: (chunk: Int, threaded: Bool), name: String = "sha256:feed") throws -> LayerReader {
        try LayerReader(source: ChunkedSource(blob, chunk: mode.chunk), name: name, expectedDigest: nil, expectedDiffID: nil,
                        expectedSize: nil, threaded: mode.threaded)
    }

    /// Reads the whole layer; returns the entries or the error `finish()` (or reading) threw.
    private func scan(_ blob: [UInt8], _ mode: (chunk: Int, threaded: Bool)) -> (entries: [(LayerEntry, String)], digests: LayerReader.Digests?, error: String?) {
        var entries: [(LayerEntry, String)] = []
        do {
            // libarchive reads the first block when it opens the tar: a small bad blob fails right there.
            let r = try reader(blob, mode)
            entries = try readAll(r)
            return (entries, try r.finish(), nil)
        } catch {
            return (entries, nil, "\(error)")
        }
    }

    private func expectPlainTar(_ result: (entries: [(LayerEntry, String)], digests: LayerReader.Digests?, error: String?),
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.error == nil, "\(result.error ?? "")", sourceLocation: sourceLocation)
        #expect(result.entries.map(\.0.path) == ["/app", "/app/.env", "/app/big", "/etc/hostname"], sourceLocation: sourceLocation)
        #expect(result.digests?.diffID == Digest.sha256(of: tar), sourceLocation: sourceLocation)
        #expect(result.digests?.compression == .gzip, sourceLocation: sourceLocation)
    }

    @Test(arguments: modes)
    func aHeaderWithEveryOptionalFieldIsRead(mode: (chunk: Int, threaded: Bool)) throws {
        let blob = GzipMember(data: tar, extra: Array(repeating: 0x41, count: 300), name: "layer.tar", comment: "built by hand",
                              headerCRC: true).bytes
        let result = scan(blob, mode)
        expectPlainTar(result)
        #expect(result.digests?.blobDigest == Digest.sha256(of: blob))
        #expect(result.digests?.blobSize == Int64(blob.count))
    }

    @Test func aWrongHeaderChecksumIsCorruption() throws {
        let blob = GzipMember(data: tar, name: "x", headerCRC: true, wrongHeaderCRC: true).bytes
        let result = scan(blob, (4096, true))
        #expect(result.error?.contains("sha256:feed") == true)
        #expect(result.error?.contains("header checksum (FHCRC) mismatch") == true, "\(result.error ?? "no error")")
    }

    @Test(arguments: modes)
    func aMultiMemberStreamIsReadToTheEnd(mode: (chunk: Int, threaded: Bool)) throws {
        // Split mid-entry, at odd offsets: real deflate (gzip(1)), a stored member, real deflate again.
        let a = 700, b = 90_001
        let blob = try gzipTool(Array(tar[..<a])) + GzipMember(data: Array(tar[a..<b])).bytes + gzipTool(Array(tar[b...]))
        let result = scan(blob, mode)
        expectPlainTar(result)
        #expect(result.entries[2].1.count == 150_000)
    }

    @Test(arguments: modes)
    func aCRCMismatchIsCorruption(mode: (chunk: Int, threaded: Bool)) throws {
        let good = GzipMember(data: tar).bytes
        let blob = GzipMember(data: tar, crc: crc32(tar) ^ 0x10).bytes
        #expect(scan(good, mode).error == nil)
        let error = scan(blob, mode).error ?? "no error"
        #expect(error.hasPrefix("sha256:feed: "), "\(error)")
        #expect(error.contains("CRC-32 mismatch in gzip member 1"), "\(error)")
    }

    @Test(arguments: modes)
    func anISIZEMismatchIsCorruption(mode: (chunk: Int, threaded: Bool)) throws {
        let blob = GzipMember(data: tar, isize: UInt32(tar.count + 1)).bytes
        let error = scan(blob, mode).error ?? "no error"
        #expect(error.hasPrefix("sha256:feed: "), "\(error)")
        #expect(error.contains("ISIZE mismatch in gzip member 1"), "\(error)")
    }

    @Test func aMismatchInALaterMemberNamesIt() throws {
        let blob = GzipMember(data: Array(tar[..<1000])).bytes + GzipMember(data: Array(tar[1000...]), crc: 7).bytes
        let error = scan(blob, (1 << 30, true)).error ?? "no error"
        #expect(error.contains("CRC-32 mismatch in gzip member 2"), "\(error)")
    }

    @Test(arguments: modes)
    func trailingDataIsScannedThenCalledCorruption(mode: (chunk: Int, threaded: Bool)) throws {
        let hidden = Array("\n\(secret)\n".utf8)
        let blob = try gzipTool(tar) + hidden
        let result = scan(blob, mode)
        #expect(result.entries.map(\.0.path) == ["/app", "/app/.env", "/app/big", "/etc/hostname", "(after gzip stream)"])
        #expect(result.entries.last?.1 == String(decoding: hidden, as: UTF8.self))
        #expect(result.error?.hasPrefix("sha256:feed: ") == true, "\(result.error ?? "no error")")
        #expect(result.error?.contains("trailing data after the gzip stream (\(hidden.count) bytes)") == true, "\(result.error ?? "no error")")
    }

    @Test func aSingleTrailingByteOrAnotherMagicIsStillTrailingData() throws {
        for junk: [UInt8] in [[0x1f], [0], [0x1f, 0x8c, 0, 0]] {
            let result = scan(GzipMember(data: tar).bytes + junk, (1 << 30, true))
            #expect(result.error?.contains("trailing data after the gzip stream (\(junk.count) bytes)") == true, "\(junk): \(result.error ?? "no error")")
        }
    }

    @Test func trailingDataIsAnErrorEvenWhenTheScannerStopsAtTheTar() throws {
        // finish() without walking to the pseudo-entry: the bytes are still found and still counted.
        let blob = GzipMember(data: tar).bytes + Array(repeating: 0x42, count: 1000)
        let r = try reader(blob, (4096, true))
        _ = try r.next()
        #expect(throws: LayerError.corrupt(layer: "sha256:feed", reason: "trailing data after the gzip stream (1000 bytes)")) { try r.finish() }
    }

    @Test(arguments: modes)
    func aTruncatedMemberIsAnErrorWhereverItIsCut(mode: (chunk: Int, threaded: Bool)) throws {
        let blob = GzipMember(data: tar, name: "layer.tar").bytes
        // In the fixed header, in FNAME, in the deflate data, in the trailer, one byte short.
        for cut in [5, 12, blob.count / 2, blob.count - 5, blob.count - 1] where mode.chunk > 1 || cut < 20 || cut == blob.count - 1 {
            let error = scan(Array(blob[..<cut]), mode).error ?? "no error"
            #expect(error.hasPrefix("sha256:feed: ") && error.contains("truncated gzip stream"), "cut at \(cut): \(error)")
        }
    }

    @Test func corruptDeflateDataNamesTheMember() throws {
        var blob = try gzipTool(tar)
        for i in stride(from: 40, to: blob.count - 40, by: 13) { blob[i] ^= 0x5a }
        let error = scan(blob, (1 << 30, true)).error ?? "no error"
        #expect(error.hasPrefix("sha256:feed: "), "\(error)")
        #expect(error.contains("gzip member 1") || error.contains("CRC-32"), "\(error)")
    }

    @Test func reservedFlagsAndOtherMethodsAreRefused() throws {
        var blob = GzipMember(data: tar).bytes
        blob[3] = 0x20
        #expect(scan(blob, (1 << 30, true)).error?.contains("reserved header flags") == true)
        blob[3] = 0
        blob[2] = 7
        #expect(scan(blob, (1 << 30, true)).error?.contains("compression method 7") == true)
    }

    @Test func aZeroLengthBlobIsAnEmptyLayer() throws {
        for threaded in [true, false] {
            let r = try reader([], (1 << 30, threaded))
            #expect(try r.next() == nil)
            let d = try r.finish()
            #expect(d.blobSize == 0)
            #expect(d.diffID == Digest.sha256(of: []))
            #expect(d.compression == .none)
        }
    }

    @Test func anEmptyMemberThenTheTarIsFine() throws {
        let blob = GzipMember(data: []).bytes + GzipMember(data: tar).bytes
        expectPlainTar(scan(blob, (7, false)))
    }
}

@Suite struct ZstdAndPlainTests {
    @Test func zstdTrailingDataIsScannedThenCalledCorruption() throws {
        let (blob, _, _) = try makeLayer(.zstd, files: [("a", "x\n")])
        let junk = Array("TOKEN=\(FakeSecret.githubToken())".utf8)
        let r = try LayerReader(source: ChunkedSource(blob + junk, chunk: 5), name: "z")
        let entries = try readAll(r)
        #expect(entries.map(\.0.path) == ["/a", "(after zstd stream)"])
        #expect(entries.last?.1 == String(decoding: junk, as: UTF8.self))
        #expect(throws: LayerError.corrupt(layer: "z", reason: "trailing data after the zstd stream (\(junk.count) bytes)")) { try r.finish() }
    }

    @Test func concatenatedZstdFramesAreOneStream() throws {
        let (tar, _, _) = try makeLayer(.none, files: [("a", FakeSecret.random(5000)), ("b", "y\n")])
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(tar[..<777]).write(to: URL(fileURLWithPath: dir + "/1"))
        try Data(tar[777...]).write(to: URL(fileURLWithPath: dir + "/2"))
        try Run.tool("sh", ["-c", "zstd -q -c '\(dir)/1' > '\(dir)/z' && zstd -q -c '\(dir)/2' >> '\(dir)/z'"])
        let blob = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/z")))
        let r = try LayerReader(source: ChunkedSource(blob, chunk: 100), name: "z")
        #expect(try readAll(r).map(\.0.path) == ["/a", "/b"])
        let d = try r.finish()
        #expect(d.diffID == Digest.sha256(of: tar))
        #expect(d.compression == .zstd)
    }

    @Test func aTruncatedZstdFrameIsAnError() throws {
        let (blob, _, _) = try makeLayer(.zstd, files: [("a", FakeSecret.random(100_000))])
        #expect(throws: LayerError.self) {
            let r = try LayerReader(source: ChunkedSource(Array(blob.dropLast(3)), chunk: 4096), name: "z")
            _ = try readAll(r)
            try r.finish()
        }
    }

    @Test func aPlainTarsBlobDigestIsItsDiffID() throws {
        let (blob, diffID, _) = try makeLayer(.none, files: [("a", "x")])
        for threaded in [true, false] {
            let r = try LayerReader(source: ChunkedSource(blob, chunk: 1000), name: "p", expectedDigest: diffID, expectedDiffID: diffID,
                                    expectedSize: Int64(blob.count), threaded: threaded)
            _ = try readAll(r)
            let d = try r.finish()
            #expect(d.blobDigest == diffID && d.diffID == diffID && d.blobSize == Int64(blob.count))
        }
    }

    @Test func abandoningALayerHalfwayClosesTheSourceAndStopsTheInflateThread() throws {
        // A reader dropped mid-layer (the matcher failed) while its inflate thread waits on the network
        // must close the source, which wakes that read, so no thread stays blocked.
        let (blob, _, _) = try makeLayer(.gzip, files: [("a", "x\n"), ("b", FakeSecret.random(3_000_000))])
        let source = StallingSource(blob, stallAt: 128 * 1024)
        var r: LayerReader? = try LayerReader(source: source, name: "g")
        #expect(try r?.next()?.path == "/a")
        #expect(source.readBlocked.wait(timeout: .now() + 30) == .success, "the inflate thread never reached the stall")
        r = nil
        #expect(source.readReturned.wait(timeout: .now() + 30) == .success, "the inflate thread is still blocked in read")
    }
}

/// Serves bytes up to `stallAt`, then blocks in `read` until `close()`, like a registry stream whose
/// network went quiet.
final class StallingSource: ByteSource, @unchecked Sendable {
    // @unchecked Sendable: `position` is touched only by the one thread that reads; the semaphores are thread-safe.
    let bytes: [UInt8]
    let stallAt: Int
    var position = 0
    let closed = DispatchSemaphore(value: 0)
    let readBlocked = DispatchSemaphore(value: 0)
    let readReturned = DispatchSemaphore(value: 0)

    init(_ bytes: [UInt8], stallAt: Int) {
        self.bytes = bytes
        self.stallAt = stallAt
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if position >= stallAt {
            readBlocked.signal()
            closed.wait()
            readReturned.signal()
            throw CancellationError()
        }
        let n = min(buffer.count, stallAt - position)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }

    func close() { closed.signal() }
}

@Suite struct LibarchiveFilterTests {
    @Test(arguments: ["xz", "bzip2"])
    func olderCompressionsStillGoThroughLibarchive(tool: String) throws {
        let which = try Run.command("/usr/bin/env", ["sh", "-c", "command -v \(tool)"])
        try #require(which.status == 0, "\(tool) is not installed")
        let (tar, _, _) = try makeLayer(.none, files: [("a", FakeSecret.random(300_000)), ("b", "y\n")])
        let dir = try Run.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(tar).write(to: URL(fileURLWithPath: dir + "/t"))
        try Run.tool("sh", ["-c", "\(tool) -c '\(dir)/t' > '\(dir)/c'"])
        let blob = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/c")))
        let r = try LayerReader(source: ChunkedSource(blob, chunk: 10_000), name: "old")
        let entries = try readAll(r)
        #expect(entries.map(\.0.path) == ["/a", "/b"])
        let d = try r.finish()
        #expect(d.compression.description == tool)
        #expect(d.diffID == Digest.sha256(of: tar))
        #expect(d.blobDigest == Digest.sha256(of: blob) && d.blobSize == Int64(blob.count))
    }
}
