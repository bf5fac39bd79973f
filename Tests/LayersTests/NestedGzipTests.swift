import Foundation
import Testing
import TestSupport
@testable import Layers
import ImageBuilder

/// gzip inside files is inflated by ISA-L, as layers are. What the walk hands over must be exactly what the
/// libarchive zlib path handed over before: the same files, bytes and nesting, and the same notes for a cut,
/// corrupt or over-compressed stream.
struct NestedGzipTests {
    /// Every file the walk handed over (chain path and the bytes of it, as a digest) and every note, in order.
    final class Recorder: ArchiveVisitor {
        var events: [String] = []
        var notes: [ArchiveNote] = []
        private var open: [(path: String, bytes: [UInt8])] = []

        func begin(path: String, outer: String, depth: Int, size: Int64) throws { open.append((path, [])) }
        func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws { open[depth].bytes += chunk }
        func bytesEnded(depth: Int) throws {
            let f = open[depth]
            events.append("\(f.path) depth=\(depth) \(f.bytes.count) bytes crc=\(ZipWriter.crc32(f.bytes))")
        }
        func end(depth: Int) throws { open.removeLast() }
        func note(_ note: ArchiveNote) {
            notes.append(note)
            events.append("note \(note.kind) \(note.path)")
        }
    }

    func walk(_ path: String, _ bytes: [UInt8], native: Bool, limits: ArchiveLimits = ArchiveLimits()) throws -> Recorder {
        let walker = ArchiveWalker(limits: limits)
        walker.nativeGzip = native
        let recorder = Recorder()
        var offset = 0
        try walker.walk(path: path, size: Int64(bytes.count), visitor: recorder) { b in
            // Odd-sized pulls, as a layer's blocks arrive (the archive fuzz target's pattern).
            let n = min(b.count, bytes.count - offset, 1 + (offset * 7919) % 70_001)
            bytes.withUnsafeBytes { b.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
        return recorder
    }

    /// Both paths; the events must be equal, and are returned for further checks.
    func both(_ path: String, _ bytes: [UInt8], limits: ArchiveLimits = ArchiveLimits()) throws -> (native: Recorder, zlib: Recorder) {
        let native = try walk(path, bytes, native: true, limits: limits)
        let zlib = try walk(path, bytes, native: false, limits: limits)
        #expect(native.events == zlib.events, "ISA-L:\n\(native.events.joined(separator: "\n"))\nzlib:\n\(zlib.events.joined(separator: "\n"))")
        return (native, zlib)
    }

    func text(_ lines: Int) -> [UInt8] {
        Array((0..<lines).map { "line \($0) \(FakeSecret.random(40))" }.joined(separator: "\n").utf8)
    }

    func tar(_ members: [(String, [UInt8])]) throws -> [UInt8] { try TarWriter.archive(members) }

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try ZipWriter.compress(bytes, filter: "gzip") }

    @Test func aLoneGzippedFileIsOneMemberNamedWithoutItsSuffix() throws {
        let (native, _) = try both("/var/log/app.log.gz", try gzip(text(20_000)))
        #expect(native.events.count == 2)
        #expect(native.events.first?.hasPrefix("/var/log/app.log.gz!/app.log depth=1") == true, "\(native.events)")
        #expect(native.notes.isEmpty)
    }

    @Test func aTarGzWithAJarInsideGivesTheSameFilesAtEveryDepth() throws {
        var z = ZipWriter()
        try z.add("a.properties", text(10), method: .deflated, sizes: .header)
        try z.add("META-INF/MANIFEST.MF", Array("Manifest-Version: 1.0\n".utf8), method: .deflated, sizes: .header)
        let jar = z.finish()
        let bundle = try tar([(".env", text(3)), ("lib/inner.jar", jar), ("big.txt", text(30_000)), ("empty", [])])
        let (native, _) = try both("/opt/bundle.tar.gz", try gzip(bundle))
        #expect(native.events.contains { $0.hasPrefix("/opt/bundle.tar.gz!/lib/inner.jar!/a.properties depth=2") }, "\(native.events)")
        #expect(native.notes.isEmpty)
    }

    @Test func membersOfAMultiMemberStreamFollowOneAnother() throws {
        let a = text(5000), b = text(7000)
        let (native, _) = try both("/srv/two.gz", try gzip(a) + gzip(b))
        #expect(native.events.first?.contains(" \(a.count + b.count) bytes") == true, "\(native.events)")
    }

    @Test func bytesAfterTheLastMemberAreIgnoredAsByGzip() throws {
        let (native, _) = try both("/srv/junk.gz", try gzip(text(100)) + Array("not a gzip member".utf8))
        #expect(native.notes.isEmpty)
    }

    @Test func aCutStreamGivesWhatInflatedAndANoteNamingTheArchive() throws {
        let bundle = try tar([(".env", text(3)), ("big.txt", text(40_000))])
        let gz = try gzip(bundle)
        let native = try walk("/opt/cut.tar.gz", Array(gz.prefix(gz.count * 2 / 3)), native: true)
        let zlib = try walk("/opt/cut.tar.gz", Array(gz.prefix(gz.count * 2 / 3)), native: false)
        // The same files, and one note on the same archive; the reasons are worded by each inflater.
        #expect(native.events.filter { !$0.hasPrefix("note") }.first == zlib.events.filter { !$0.hasPrefix("note") }.first)
        #expect(native.events.contains { $0.hasPrefix("/opt/cut.tar.gz!/.env depth=1") }, "\(native.events)")
        #expect(native.notes.map(\.kind) == [.unreadable], "\(native.notes)")
        #expect(native.notes.first?.path.hasPrefix("/opt/cut.tar.gz") == true)
        #expect(native.notes.first?.reason.contains("truncated") == true, "\(native.notes)")
        #expect(zlib.notes.map(\.kind) == [.unreadable], "\(zlib.notes)")
    }

    @Test func aWrongChecksumIsNotedAndTheLayerGoesOn() throws {
        var gz = try gzip(text(2000))
        gz[gz.count - 8] ^= 0xff
        let native = try walk("/srv/bad.gz", gz, native: true)
        #expect(native.notes.map(\.kind) == [.unreadable], "\(native.notes)")
        #expect(native.notes.first?.path.hasPrefix("/srv/bad.gz") == true)
        #expect(native.notes.first?.reason.contains("CRC-32 mismatch") == true, "\(native.notes)")
        // Worded by ISA-L's path, not zlib's: the switch really chose the inflater.
        let zlib = try walk("/srv/bad.gz", gz, native: false)
        #expect(zlib.notes.first?.reason != native.notes.first?.reason, "\(zlib.notes)")
    }

    @Test func theCompressionRatioLimitStopsBothAlike() throws {
        var limits = ArchiveLimits()
        limits.maxRatio = 100
        let zeros = [UInt8](repeating: 0x41, count: 64 << 20)
        let (native, _) = try both("/srv/bomb.gz", try gzip(zeros), limits: limits)
        #expect(native.notes.map(\.kind) == [.limit], "\(native.events) \(native.notes)")
        #expect(native.notes.first?.reason.contains("compression ratio") == true, "\(native.notes)")
    }
}
