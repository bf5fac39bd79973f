import Foundation
import ImageBuilder
import Testing
import TestSupport
@testable import Layers

/// The zip fast path (`ZipReader`, ISA-L) against libarchive's seekable reader: on every zip the fast path takes,
/// the visitor sees the same files, bytes and notes; zips it must not take are left to libarchive whole.
@Suite struct ZipReaderTests {
    /// One member of a zip made byte by byte, so every field a reader could trip on can be set.
    struct Member {
        var name: [UInt8]
        var data: [UInt8]
        var method: UInt16 = 8
        var crc: UInt32
        var size: Int64
        var flags: UInt16 = 1 << 11
        /// "Version made by" high byte: 3 Unix, 0 MS-DOS.
        var system: UInt8 = 3
        var external: UInt32 = 0o100644 << 16
        var zip64 = false

        init(_ name: String, _ content: [UInt8], method: UInt16 = 8) throws {
            self.name = Array(name.utf8)
            self.method = method
            if method == 8 {
                let d = try ZipWriter.deflate(content)
                data = d.data
                crc = d.crc
                size = d.size
            } else {
                data = content
                crc = ZipWriter.crc32(content)
                size = Int64(content.count)
            }
        }
    }

    /// A zip of `members`, its central directory in `order` (indexes into members; all of them by default), in
    /// zip64 form when `zip64`, after `prefix` bytes.
    static func zip(_ members: [Member], order: [Int]? = nil, zip64: Bool = false, prefix: [UInt8] = []) -> [UInt8] {
        func put(_ a: inout [UInt8], _ v: UInt64, _ n: Int) {
            for i in 0..<n { a.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        }
        var out = prefix
        var offsets: [Int] = []
        for m in members {
            offsets.append(out.count - prefix.count)
            let big = m.zip64 || zip64
            put(&out, 0x0403_4B50, 4); put(&out, big ? 45 : 20, 2); put(&out, UInt64(m.flags), 2); put(&out, UInt64(m.method), 2)
            put(&out, 0, 2); put(&out, 0x21, 2); put(&out, UInt64(m.crc), 4)
            put(&out, big ? 0xFFFF_FFFF : UInt64(m.data.count), 4); put(&out, big ? 0xFFFF_FFFF : UInt64(m.size), 4)
            put(&out, UInt64(m.name.count), 2); put(&out, big ? 20 : 0, 2)
            out += m.name
            if big { put(&out, 1, 2); put(&out, 16, 2); put(&out, UInt64(m.size), 8); put(&out, UInt64(m.data.count), 8) }
            out += m.data
        }
        let cdStart = out.count - prefix.count
        for i in order ?? Array(members.indices) {
            let m = members[i]
            let big = m.zip64 || zip64
            put(&out, 0x0201_4B50, 4); put(&out, UInt64(m.system) << 8 | 20, 2); put(&out, big ? 45 : 20, 2); put(&out, UInt64(m.flags), 2)
            put(&out, UInt64(m.method), 2); put(&out, 0, 2); put(&out, 0x21, 2); put(&out, UInt64(m.crc), 4)
            put(&out, big ? 0xFFFF_FFFF : UInt64(m.data.count), 4); put(&out, big ? 0xFFFF_FFFF : UInt64(m.size), 4)
            put(&out, UInt64(m.name.count), 2); put(&out, big ? 28 : 0, 2); put(&out, 0, 2); put(&out, 0, 2); put(&out, 0, 2)
            put(&out, UInt64(m.external), 4); put(&out, big ? 0xFFFF_FFFF : UInt64(offsets[i]), 4)
            out += m.name
            if big { put(&out, 1, 2); put(&out, 24, 2); put(&out, UInt64(m.size), 8); put(&out, UInt64(m.data.count), 8); put(&out, UInt64(offsets[i]), 8) }
        }
        let count = UInt64(order?.count ?? members.count)
        let cdSize = UInt64(out.count - prefix.count - cdStart)
        if zip64 {
            let record = out.count - prefix.count
            put(&out, 0x0606_4B50, 4); put(&out, 44, 8); put(&out, 45, 2); put(&out, 45, 2); put(&out, 0, 4); put(&out, 0, 4)
            put(&out, count, 8); put(&out, count, 8); put(&out, cdSize, 8); put(&out, UInt64(cdStart), 8)
            put(&out, 0x0706_4B50, 4); put(&out, 0, 4); put(&out, UInt64(record), 8); put(&out, 1, 4)
        }
        put(&out, 0x0605_4B50, 4); put(&out, 0, 2); put(&out, 0, 2)
        put(&out, zip64 ? 0xFFFF : count, 2); put(&out, zip64 ? 0xFFFF : count, 2)
        put(&out, zip64 ? 0xFFFF_FFFF : cdSize, 4); put(&out, zip64 ? 0xFFFF_FFFF : UInt64(cdStart), 4); put(&out, 0, 2)
        return out
    }

    /// What a visitor sees, as lines: files (with their size), their bytes (whole, as a digest and count), notes.
    final class Recorder: ArchiveVisitor {
        var lines: [String] = []
        var notes: [ArchiveNote] = []
        private var open: [(path: String, bytes: [UInt8], count: Int)] = []
        /// Bytes kept per file to compare; past it only counted (a bomb's gigabytes).
        let keep = 4 << 20

        func begin(path: String, outer: String, depth: Int, size: Int64) throws {
            lines.append("begin \(depth) \(path) \(size)")
            open.append((path, [], 0))
        }
        func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws {
            open[depth].count += chunk.count
            if open[depth].bytes.count < keep { open[depth].bytes += chunk.prefix(keep - open[depth].bytes.count) }
        }
        func bytesEnded(depth: Int) throws {
            let f = open[depth]
            lines.append("bytes \(depth) \(f.path) \(f.count) crc \(ZipWriter.crc32(f.bytes))")
        }
        func end(depth: Int) throws {
            lines.append("end \(depth)")
            open.removeLast()
        }
        func note(_ note: ArchiveNote) {
            notes.append(note)
            lines.append("note \(note.kind) \(note.path)")
        }
    }

    /// Walks `bytes` as the file /app/x.jar of a layer, through the fast path or libarchive only.
    func walk(_ bytes: [UInt8], fast: Bool, limits: ArchiveLimits = ArchiveLimits()) throws -> Recorder {
        let walker = ArchiveWalker(limits: limits)
        walker.fastZips = fast
        let r = Recorder()
        var offset = 0
        try walker.walk(path: "/app/x.jar", size: Int64(bytes.count), visitor: r) { b in
            let n = min(b.count, bytes.count - offset)
            bytes.withUnsafeBytes { b.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
        return r
    }

    /// Whether the fast path takes this zip.
    func taken(_ bytes: [UInt8]) throws -> Bool {
        let spill = SpillBuffer(limit: 1 << 30)
        _ = try bytes.withUnsafeBytes { try spill.append($0) }
        return ZipReader(spill: spill) != nil
    }

    func text(_ n: Int) -> [UInt8] { Array((0..<n / 40).map { _ in FakeSecret.random(39) + "\n" }.joined().utf8) }

    /// Both readers on `bytes`: the same lines, and the fast path taken (or not) as `fast` says.
    func expectSame(_ bytes: [UInt8], fast: Bool, limits: ArchiveLimits = ArchiveLimits(),
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Recorder {
        let mine = try walk(bytes, fast: true, limits: limits)
        let theirs = try walk(bytes, fast: false, limits: limits)
        #expect(try taken(bytes) == fast, sourceLocation: sourceLocation)
        #expect(mine.lines == theirs.lines, "fast: \(mine.lines)\nlibarchive: \(theirs.lines)\n\(theirs.notes)", sourceLocation: sourceLocation)
        return mine
    }

    @Test func storedDeflatedEmptyDirectoriesAndALargeMemberAreTheSame() throws {
        var dir = try Member("META-INF/", [], method: 0)
        dir.external = 0o040755 << 16
        var link = try Member("lib/current", Array("app.jar".utf8), method: 0)
        link.external = 0o120777 << 16
        var dos = try Member("dos/readme.txt", text(100))
        dos.system = 0
        dos.external = 0x20
        let members = [dir, try Member("META-INF/MANIFEST.MF", text(80), method: 0), try Member("a/config.properties", text(4000)),
                       try Member("empty.txt", [], method: 0), try Member("empty-deflated.txt", []), link, dos,
                       try Member("big/data.txt", text(3 << 20)), try Member("big/stored.bin", text(700_000), method: 0)]
        let r = try expectSame(Self.zip(members), fast: true)
        #expect(r.lines.filter { $0.hasPrefix("begin 1") }.count == 7, "\(r.lines)")
        #expect(r.notes.isEmpty)
        #expect(r.lines.contains("begin 1 /app/x.jar!/big/data.txt \(text(3 << 20).count)"))
    }

    @Test func aJarInAJarAndAZip64ZipAreTheSame() throws {
        let inner = Self.zip([try Member("config.properties", text(200)), try Member("x/y.class", text(9000), method: 0)])
        let outer = Self.zip([try Member("BOOT-INF/lib/inner.jar", inner, method: 0), try Member("BOOT-INF/lib/deflated.jar", inner),
                              try Member("app.properties", text(100))])
        let r = try expectSame(outer, fast: true)
        #expect(r.lines.contains { $0.hasPrefix("begin 2 /app/x.jar!/BOOT-INF/lib/deflated.jar!/x/y.class") }, "\(r.lines)")
        _ = try expectSame(Self.zip([try Member("a.txt", text(500)), try Member("b.bin", text(300), method: 0)], zip64: true), fast: true)
    }

    /// libarchive's seekable reader goes by local header offset, whatever the central directory's order.
    @Test func membersComeInLocalHeaderOrder() throws {
        let members = try (0..<5).map { try Member("m\($0).txt", text(100)) }
        let r = try expectSame(Self.zip(members, order: [3, 0, 4, 2, 1]), fast: true)
        #expect(r.lines.filter { $0.hasPrefix("begin 1") }.map { $0.split(separator: " ")[2] } == (0..<5).map { "/app/x.jar!/m\($0).txt" })
    }

    /// A corrupt deflate stream is noted and, most often, ends the zip (libarchive cannot go on; whether it finds
    /// the next member depends on the bytes the corruption leaves, and the content is random); a CRC or size mismatch
    /// is noted and the next member read; a deflate stream shorter than its compressed size is noted. The same notes
    /// and lines either way.
    @Test func corruptMembersAreNotedTheSameWay() throws {
        var badCRC = try Member("bad-crc.txt", text(2000))
        badCRC.crc ^= 1
        var badStoredCRC = try Member("bad-crc-stored.txt", text(2000), method: 0)
        badStoredCRC.crc ^= 0x100
        var badSize = try Member("bad-size.txt", text(2000))
        badSize.size += 1
        var trailing = try Member("trailing.txt", text(2000))
        trailing.data += [1, 2, 3]
        let good = try Member("good.txt", text(300))
        let r = try expectSame(Self.zip([badCRC, good, badStoredCRC, badSize, trailing, good]), fast: true)
        #expect(r.notes.map(\.path) == ["bad-crc.txt", "bad-crc-stored.txt", "bad-size.txt", "trailing.txt"].map { "/app/x.jar!/" + $0 })
        #expect(r.notes.allSatisfy { $0.kind == .unreadable })
        #expect(r.notes.first?.reason.contains("CRC") == true, "\(r.notes)")

        var corrupt = try Member("corrupt.txt", text(300_000))
        for i in stride(from: 200, to: corrupt.data.count, by: 97) { corrupt.data[i] ^= 0x5A }
        let c = try expectSame(Self.zip([good, corrupt, good]), fast: true)
        #expect(c.notes.map(\.path) == ["/app/x.jar!/corrupt.txt"] && c.notes.allSatisfy { $0.kind == .unreadable }, "\(c.notes)")
        // The member after it is read whole or not at all: never begun and cut, never read as other bytes.
        let begun = c.lines.filter { $0.hasPrefix("begin 1") }
        #expect(begun.count == 2 || begun == begun.prefix(2) + [begun[0]], "\(c.lines)")
        let goodBytes = c.lines.filter { $0.hasPrefix("bytes 1 /app/x.jar!/good.txt") }
        #expect(!goodBytes.isEmpty && Set(goodBytes).count == 1 && goodBytes.count == begun.count - 1, "\(c.lines)")

        var cut = try Member("cut.txt", text(5000))
        cut.data.removeLast(cut.data.count / 2)
        let t = try expectSame(Self.zip([cut, good]), fast: true)
        #expect(t.notes.map(\.path) == ["/app/x.jar!/cut.txt"], "\(t.notes)")
    }

    /// Zips the fast path must leave to libarchive, whole: libarchive's result is what the visitor sees.
    @Test func unusualZipsAreLeftToLibarchive() throws {
        let good = try Member("good.txt", text(300))
        var encrypted = try Member("secret.txt", text(300))
        encrypted.flags |= 1
        var bzip2 = try Member("m12.bin", text(300), method: 0)
        bzip2.method = 12
        var cp437 = try Member("x", text(300))
        cp437.name = Array("caf".utf8) + [0x82] + Array(".txt".utf8)
        cp437.flags = 0
        let utf8 = try Member("i18n/caf\u{E9}-\u{65E5}\u{672C}.properties", text(100))
        var backslash = try Member("dir\\file.txt", text(100))
        backslash.system = 0
        backslash.external = 0
        let plain = Self.zip([good, try Member("b.txt", text(100))])
        for bytes in [Self.zip([good, encrypted]), Self.zip([bzip2, good]), Self.zip([good, cp437]), Self.zip([utf8]), Self.zip([backslash]),
                      Array(plain.prefix(plain.count - 30)), Self.zip([good], prefix: Array("#!/bin/sh\nexec java -jar $0\n".utf8)),
                      Self.zip([good, try Member("b.txt", text(100))], order: [0, 0])] {
            _ = try expectSame(bytes, fast: false)
        }
        let r = try walk(Self.zip([good, cp437]), fast: true)
        #expect(r.lines.contains { $0.hasPrefix("begin 1 /app/x.jar!/caf") }, "\(r.lines)")
    }

    static func hex(_ s: String) -> [UInt8] {
        let digits = Array(s.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
    }

    /// Zips the fuzzer found: a local header whose sizes are 0xFFFFFFFF without a zip64 field (libarchive 3.6 takes
    /// them as the sizes: left to it), and a deflate stream ISA-L ends early where zlib refuses its distance code
    /// (the member is handed to libarchive, whose note and stop the walk gives).
    @Test func fuzzFoundZipsGiveLibarchivesResult() throws {
        let localSizes = Self.hex("504b03042d0000000800000021003d2ae314ffffffffffffffff070014006269672e7478740102100092090000000000003e" +
            "00000000000000edcbb111c0300804b03ed36002ce330e9c61ff11bc44ca57af4eed8040d26d96bc18c0e59bb4e804caf739" +
            "1daad5b2ca7c3fcdc0c0c0c0c0c0c0c0f06fb8504b01022d032d0000000800000021003d2ae3143e00000092090000070000" +
            "0000000000000000008001000000006269672e747874504b0506000000000100010035000000770000000000")
        _ = try expectSame(localSizes, fast: false)
        let earlyEnd = Self.hex("504b030414000000080047677d5dfceb33673c000000a807000005000000612e747874edcb391580500c04c01e356c0e5e9e" +
            "9c90c3bf045c50edf483e8904121b69ef6b3af220416de99b7cd2a2a54fc20adc4e702030303030303c35fe103504b030454" +
            "000000080047677d5d313755012c0000003100000005000000622e74787405c1c11100200803b0bfd3f40a4a1907d0fd5730" +
            "11a1b0edf3ae6f99b25a2905c8c36485bca281be8e24667d504b0102140314000000080047677d5dfceb33673c000000a807" +
            "0000050000000000000000000000800100000000612e747874504b0102140314000000080047677d5d313755012c00000031" +
            "00000005000000000000000000000080015f000000622e747874504b0506000000000200020066000000ae0000000000")
        let r = try expectSame(earlyEnd, fast: true)
        #expect(r.notes.map(\.reason) == ["ZIP decompression failed (-3)"], "\(r.notes)")
        #expect(!r.lines.contains { $0.hasPrefix("begin 1 /app/x.jar!/b.txt") }, "\(r.lines)")
    }

    /// The member and byte limits stop the fast path where they stop libarchive's, with the same notes.
    @Test func theMemberAndByteLimitsStopAtTheSamePlace() throws {
        let members = try (0..<6).map { try Member("m\($0).txt", text(3000), method: $0 % 2 == 0 ? 8 : 0) }
        var few = ArchiveLimits()
        few.maxMembersPerFile = 3
        let r = try expectSame(Self.zip(members), fast: true, limits: few)
        #expect(r.notes.map(\.kind) == [.limit] && r.lines.filter { $0.hasPrefix("begin 1") }.count == 3, "\(r.lines)")
        // Compressible members: the zip is kept (under the limit), what they inflate to is not.
        let line = text(120)
        let repeated = try (0..<6).map { try Member("r\($0).txt", Array((0..<50).map { _ in line }.joined())) }
        var small = ArchiveLimits()
        small.maxBytesPerFile = 20_000
        let b = try expectSame(Self.zip(repeated), fast: true, limits: small)
        #expect(b.notes.map(\.kind) == [.limit] && b.notes.first?.reason.contains("bytes read from the archives") == true, "\(b.lines)")
        #expect(b.lines.filter { $0.hasPrefix("begin 1") }.count == 4, "\(b.lines)")
    }

    /// A bomb member is stopped by the ratio limit on both paths, noted on the zip, and read no further.
    @Test func aBombHitsTheRatioLimitTheSameWay() throws {
        let zeros = try ZipWriter.deflateZeros(64 << 20)
        var bomb = ZipWriter()
        bomb.add("zeros.bin", deflated: zeros)
        bomb.add("after.bin", deflated: zeros)
        let bytes = bomb.finish()
        #expect(try taken(bytes))
        for fast in [true, false] {
            let r = try walk(bytes, fast: fast)
            #expect(r.notes.map(\.path) == ["/app/x.jar"] && r.notes.first?.kind == .limit, "\(r.notes)")
            #expect(r.notes.first?.reason.contains("compression ratio over 200:1") == true, "\(r.notes)")
            #expect(r.lines.filter { $0.hasPrefix("begin 1") }.count == 1, "\(r.lines)")
            let read = r.lines.first { $0.hasPrefix("bytes 1") }.flatMap { Int($0.split(separator: " ")[3]) } ?? -1
            #expect(read > 0 && read < 64 << 20, "\(r.lines)")
        }
    }
}
