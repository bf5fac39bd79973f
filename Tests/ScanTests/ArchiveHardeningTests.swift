import Foundation
import ImageBuilder
import Testing
import TestSupport

/// Zips and compressed files built to hurt the archive walk (issue 18): each is bounded in time and memory, is a
/// warning naming the archive and the limit or fault, and loses nothing else (a secret planted beside it, or in a
/// sound member of the same zip, is still found). Through the real CLI, on images built here.
@Suite struct ArchiveHardeningTests {
    typealias Outcome = HostileInputTests.Outcome

    func scan(_ image: String, _ extra: [String] = []) throws -> Outcome { try HostileInputTests().scan(image, extra) }

    func build(_ layers: [[ImageSpec.File]], compression: String = "gzip") throws -> String {
        try HostileInputTests().build(ImageSpec(format: .docker25, compression: compression, layers: layers.map { ImageSpec.Layer(files: $0) }))
    }

    func file(_ path: String, _ bytes: [UInt8]) -> ImageSpec.File { ImageSpec.File(path: path, bytes: Data(bytes)) }
    func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    func places(_ out: Outcome) -> Set<String> {
        Set(out.findings.map { "\($0["path"] as? String ?? "?") \($0["secret"] as? String ?? "?")" })
    }

    func warnings(_ out: Outcome) -> [[String: Any]] { out.images.flatMap { $0["warnings"] as? [[String: Any]] ?? [] } }

    func warningText(_ out: Outcome) -> String {
        warnings(out).map { "\($0["kind"] as? String ?? "?") \($0["path"] as? String ?? "?"): \($0["message"] as? String ?? "?")" }
            .joined(separator: "\n")
    }

    /// A planted secret in a file beside the hostile one: whatever the walk does with that one, this is found.
    func planted() -> (file: ImageSpec.File, place: String) {
        let token = FakeSecret.githubToken()
        return (ImageSpec.File(path: "app/z.env", content: "T=\(token)\n"), "/app/z.env \(token)")
    }

    // MARK: 1. the member limit before the directory is read

    /// A zip of `count` central-directory entries, all directories pointing at one local header (they are not members
    /// the walk counts, so before the survey nothing said anything while libarchive kept every entry), with a zip64
    /// end record declaring `declared` of them.
    func manyEntries(_ count: Int, declared: Int) -> [UInt8] {
        var z = RawZip()
        z.local(name: "d/", data: [])
        for _ in 0..<count { z.central(name: "d/", offset: 0, size: 0, external: 0o040755 << 16) }
        return z.finish(declared: declared, zip64: true)
    }

    @Test(arguments: [(1_000_000, 1_000_000), (1_000_000, 1)])
    func aZipOfAMillionDirectoryEntriesIsRefusedBeforeItsDirectoryIsRead(count: Int, declared: Int) throws {
        let p = planted()
        let zip = manyEntries(count, declared: declared)
        let image = try build([[file("opt/many.zip", zip), p.file], [file("opt/many2.zip", zip)]])
        let out = try scan(image, ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == [p.place])
        let limits = warnings(out).filter { $0["kind"] as? String == "archive-limit" }
        #expect(Set(limits.compactMap { $0["path"] as? String }) == ["/opt/many.zip", "/opt/many2.zip"], "\(warningText(out))")
        #expect(limits.allSatisfy { ($0["message"] as? String ?? "").contains("member limit of 100000") }, "\(warningText(out))")
        // Before the survey: 403 MB. Alone it stays under 150 MB; 200 leaves room for a loaded machine's timing.
        #expect(out.peakRSSMB < 200, "peak RSS \(out.peakRSSMB) MB")
    }

    // MARK: 2. overlapping members; the per-image byte cap

    /// Fifield's construction with a stored kernel: `count` local headers in a row, then the kernel; member i runs from
    /// its header to the kernel's end, so every later header and the kernel are read again for each member. With
    /// `sameHeader`, every directory entry names the first local header instead.
    func overlapping(_ count: Int, kernel: [UInt8], sameHeader: Bool) -> [UInt8] {
        var z = RawZip()
        if sameHeader {
            z.local(name: "k", data: kernel)
            for i in 0..<count { z.central(name: "k\(i)", offset: 0, size: kernel.count) }
            return z.finish(declared: count)
        }
        let names = (0..<count).map { String(format: "f%05d", $0) }
        let headerLength = 30 + names[0].utf8.count
        for i in 0..<count {
            let size = (count - i - 1) * headerLength + kernel.count
            z.localHeader(name: names[i], size: size)
        }
        z.append(kernel)
        for i in 0..<count {
            z.central(name: names[i], offset: i * headerLength, size: (count - i - 1) * headerLength + kernel.count)
        }
        return z.finish(declared: count)
    }

    @Test(arguments: [false, true])
    func anOverlappingZipIsHostileAndNotInflatedAgainAndAgain(sameHeader: Bool) throws {
        let p = planted()
        let kernel = [UInt8](repeating: 0x41, count: 1 << 20)
        let zip = overlapping(400, kernel: kernel, sameHeader: sameHeader)
        let layers = (0..<4).map { i in [file("opt/bomb\(i).zip", zip)] } + [[p.file]]
        let started = Date()
        let out = try scan(try build(layers), ["--show-secrets"])
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == [p.place])
        let hostile = warnings(out).filter { ($0["message"] as? String ?? "").contains("overlapping") }
        #expect(Set(hostile.compactMap { $0["path"] as? String }) == Set((0..<4).map { "/opt/bomb\($0).zip" }), "\(warningText(out))")
        #expect(out.peakRSSMB < 300, "peak RSS \(out.peakRSSMB) MB")
    }

    /// Archives of several layers together stop at the per-image limit: one warning naming it, and later archives
    /// scanned as bytes (their secret is still found, at the archive's own path).
    @Test func theArchiveBytesOfAllLayersTogetherAreCapped() throws {
        let big = try zipOf([("big.bin", [UInt8](repeating: 0x41, count: 256 << 10))])
        let token = FakeSecret.githubToken()
        let layers = (0..<4).map { i in [file("opt/big\(i).zip", big)] }
        let out = try scan(try build(layers), ["--show-secrets", "--archive-image-bytes", "600K"])
        #expect(out.status == 0, "\(out.stderr)")
        let image = warnings(out).filter { ($0["message"] as? String ?? "").contains("in this image") }
        #expect(!image.isEmpty && image.allSatisfy { $0["kind"] as? String == "archive-limit" }, "\(warningText(out))")
        let open = try scan(try build(layers + [[file("opt/s.zip", try zipOf([("s.txt", text("T=\(token)\n"))]))]]), ["--show-secrets"])
        #expect(places(open) == ["/opt/s.zip!/s.txt \(token)"])
        #expect(!warningText(open).contains("in this image"))
    }

    func zipOf(_ members: [(String, [UInt8])]) throws -> [UInt8] {
        var z = ZipWriter()
        for (name, content) in members { try z.add(name, content) }
        return z.finish()
    }

    // MARK: 3. one bad member is a warning about it

    @Test(arguments: ["zip64-size", "aes-extra"])
    func oneBadMemberLeavesTheOthersScanned(fault: String) throws {
        let token = FakeSecret.githubToken()
        let good = text("T=\(token)\n")
        var z = RawZip()
        z.local(name: "bad.bin", data: text("nothing here\n"), method: fault == "aes-extra" ? 99 : 0, flags: fault == "aes-extra" ? 1 : 0)
        let goodAt = z.count
        z.local(name: "good.txt", data: good)
        if fault == "zip64-size" {
            // Sizes in the zip64 field, the uncompressed one 2^64-1: past what a signed 64-bit size can hold.
            var extra: [UInt8] = [1, 0, 16, 0]
            extra += [UInt8](repeating: 0xFF, count: 8)
            extra += RawZip.le(13, 8)
            z.central(name: "bad.bin", offset: 0, size: 13, extra: extra, sizesInZip64: true)
        } else {
            // A WinZip AES field of 2 bytes (it has 7).
            z.central(name: "bad.bin", offset: 0, size: 13, method: 99, flags: 1, extra: [0x01, 0x99, 2, 0, 2, 0])
        }
        z.central(name: "good.txt", offset: goodAt, size: good.count, crc: ZipWriter.crc32(good))
        let out = try scan(try build([[file("app/lib/app.jar", z.finish(declared: 2))]]), ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == ["/app/lib/app.jar!/good.txt \(token)"])
        #expect(warnings(out).map { $0["path"] as? String } == ["/app/lib/app.jar!/bad.bin"], "\(warningText(out))")
        #expect(warnings(out).first?["kind"] as? String == "archive-unreadable")
    }

    // MARK: 4. a lone compressed file that starts with a zero block

    @Test(arguments: ["gzip", "xz", "bzip2", "zstd"])
    func aLoneCompressedFileStartingWithNULsIsScanned(filter: String) throws {
        let tokens = (0..<2).map { _ in FakeSecret.githubToken() }
        let suffix = ["gzip": "gz", "xz": "xz", "bzip2": "bz2", "zstd": "zst"][filter] ?? filter
        let files = try [512, 511].enumerated().map { i, nuls in
            file("var/data\(nuls).bin.\(suffix)",
                 try ZipWriter.compress([UInt8](repeating: 0, count: nuls) + text("\nT=\(tokens[i])\n"), filter: filter))
        }
        let out = try scan(try build([files]), ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == ["/var/data512.bin.\(suffix)!/data512.bin \(tokens[0])", "/var/data511.bin.\(suffix)!/data511.bin \(tokens[1])"])
        #expect(warnings(out).isEmpty, "\(warningText(out))")
    }

    // MARK: 5. xz asking for a huge dictionary

    /// An xz file whose block header declares a 1 GiB dictionary (its data made with a small one): a limit warning, and
    /// the decoder never gets the memory.
    @Test func anXzMemberDeclaringAGigabyteDictionaryIsALimit() throws {
        let p = planted()
        var xz = try ZipWriter.compress(text("hello\n"), filter: "xz")
        // Stream header (12 bytes), then the block header: size byte, flags, optional sizes, the LZMA2 filter (0x21),
        // its properties' size (1) and the dictionary byte; a CRC-32 ends the header.
        let start = 12, length = (Int(xz[start]) + 1) * 4
        var q = start + 2
        func skipVarint() { while xz[q] & 0x80 != 0 { q += 1 }; q += 1 }
        if xz[start + 1] & 0x40 != 0 { skipVarint() }
        if xz[start + 1] & 0x80 != 0 { skipVarint() }
        try #require(xz[q] == 0x21 && xz[q + 1] == 1)
        xz[q + 2] = 36   // (2 | 0) << (18 + 11): 1 GiB
        let crc = ZipWriter.crc32(Array(xz[start..<(start + length - 4)]))
        for i in 0..<4 { xz[start + length - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        let out = try scan(try build([[file("opt/huge.json.xz", xz), p.file]]), ["--show-secrets"])
        #expect(out.status == 1, "\(out.stderr)")
        #expect(places(out) == [p.place])
        #expect(warnings(out).map { $0["kind"] as? String } == ["archive-limit"], "\(warningText(out))")
        #expect(warnings(out).first?["path"] as? String == "/opt/huge.json.xz")
        #expect(warningText(out).contains("decoder memory"), "\(warningText(out))")
        #expect(out.peakRSSMB < 150, "peak RSS \(out.peakRSSMB) MB")
    }

    // MARK: 6. many small compressed files in one directory

    /// 16,000 small `.gz` files (a man page directory) take about the memory of the same files in directories of
    /// their own; a secret in one of them is found.
    @Test func sixteenThousandSmallGzFilesInOneDirectoryStayInBoundedMemory() throws {
        let token = FakeSecret.githubToken()
        func image(oneDirectory: Bool) throws -> String {
            var files: [ImageSpec.File] = []
            for i in 0..<16_000 {
                let line = "page \(i) \(FakeSecret.random(16))\n"
                let page = text(String(repeating: line, count: 40) + (i == 7_777 ? "T=\(token)\n" : ""))
                // Under another prefix than /usr/share/man (whose archives the path allowlist leaves unopened).
                let dir = oneDirectory ? "opt/man/man1" : "opt/man/d\(i)"
                files.append(file("\(dir)/page\(i).1.gz", try ZipWriter.compress(page, filter: "gzip")))
            }
            // An uncompressed layer: the walk's own allocations are then the only ones per file.
            return try build([files], compression: "none")
        }
        let one = try scan(try image(oneDirectory: true), ["--show-secrets"])
        let separate = try scan(try image(oneDirectory: false), ["--show-secrets"])
        #expect(one.status == 1 && separate.status == 1, "\(one.stderr) \(separate.stderr)")
        #expect(places(one) == ["/opt/man/man1/page7777.1.gz!/page7777.1 \(token)"])
        #expect(one.peakRSSMB <= separate.peakRSSMB + 15, "one directory \(one.peakRSSMB) MB, separate directories \(separate.peakRSSMB) MB")
        #expect(one.peakRSSMB < 75, "peak RSS \(one.peakRSSMB) MB")
    }
}

/// A zip written field by field, to make the ones no zip tool writes.
struct RawZip {
    private(set) var bytes: [UInt8] = []
    private var directory: [UInt8] = []
    private var entries = 0
    var count: Int { bytes.count }

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    mutating func append(_ b: [UInt8]) { bytes += b }

    /// A local header for a stored member of `size` bytes (CRC 0), without its data.
    mutating func localHeader(name: String, size: Int, method: UInt16 = 0, flags: UInt16 = 0, crc: UInt32 = 0) {
        bytes += Self.le(0x0403_4B50, 4) + Self.le(20, 2) + Self.le(UInt64(flags), 2) + Self.le(UInt64(method), 2) + Self.le(0, 4)
        bytes += Self.le(UInt64(crc), 4) + Self.le(UInt64(size), 4) + Self.le(UInt64(size), 4)
        bytes += Self.le(UInt64(name.utf8.count), 2) + Self.le(0, 2) + Array(name.utf8)
    }

    /// A stored member: local header and data.
    mutating func local(name: String, data: [UInt8], method: UInt16 = 0, flags: UInt16 = 0) {
        localHeader(name: name, size: data.count, method: method, flags: flags, crc: ZipWriter.crc32(data))
        bytes += data
    }

    /// A central-directory record.
    mutating func central(name: String, offset: Int, size: Int, method: UInt16 = 0, flags: UInt16 = 0, crc: UInt32 = 0,
                          external: UInt32 = 0o100644 << 16, extra: [UInt8] = [], sizesInZip64: Bool = false) {
        let s: UInt64 = sizesInZip64 ? 0xFFFF_FFFF : UInt64(size)
        directory += Self.le(0x0201_4B50, 4) + Self.le(0x0314, 2) + Self.le(20, 2) + Self.le(UInt64(flags), 2) + Self.le(UInt64(method), 2)
        directory += Self.le(0, 4) + Self.le(UInt64(crc), 4) + Self.le(s, 4) + Self.le(s, 4)
        directory += Self.le(UInt64(name.utf8.count), 2) + Self.le(UInt64(extra.count), 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2)
        directory += Self.le(UInt64(external), 4) + Self.le(UInt64(offset), 4) + Array(name.utf8) + extra
        entries += 1
    }

    /// The zip: members, directory, end records declaring `declared` entries (a zip64 record and locator too when
    /// `zip64` or the count needs them).
    func finish(declared: Int, zip64: Bool = false) -> [UInt8] {
        var z = bytes + directory
        let directoryStart = UInt64(bytes.count), directorySize = UInt64(directory.count)
        let big = zip64 || declared > 0xFFFF
        if big {
            let recordAt = UInt64(z.count)
            z += Self.le(0x0606_4B50, 4) + Self.le(44, 8) + Self.le(45, 2) + Self.le(45, 2) + Self.le(0, 4) + Self.le(0, 4)
            z += Self.le(UInt64(declared), 8) + Self.le(UInt64(declared), 8) + Self.le(directorySize, 8) + Self.le(directoryStart, 8)
            z += Self.le(0x0706_4B50, 4) + Self.le(0, 4) + Self.le(recordAt, 8) + Self.le(1, 4)
        }
        let short: UInt64 = big ? 0xFFFF : UInt64(declared)
        z += Self.le(0x0605_4B50, 4) + Self.le(0, 2) + Self.le(0, 2) + Self.le(short, 2) + Self.le(short, 2)
        z += Self.le(big ? 0xFFFF_FFFF : directorySize, 4) + Self.le(big ? 0xFFFF_FFFF : directoryStart, 4) + Self.le(0, 2)
        return z
    }
}
