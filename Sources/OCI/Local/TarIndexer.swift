#if !STOWAWAY_FUZZING
import Core
#endif
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads the headers of an uncompressed tar (ustar, pax, GNU long names) and records where each
/// regular file's data lies, resolving symbolic and hard links between entries.
struct TarIndexer {
    let path: String

    static func normalize(_ p: String) -> String {
        var parts: [Substring] = []
        for c in p.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return parts.joined(separator: "/")
    }

    /// A docker save or OCI tar holds a few entries per layer; far more means something else (or an attack
    /// on our memory: each entry costs a few hundred bytes of index).
    static let maxEntries = 100_000
    /// PAX and GNU long-name bodies are read whole; real ones are a few hundred bytes.
    static let maxExtendedHeader: Int64 = 1 << 20

    func index() throws -> [String: FileSlice] {
        let input = try FileTarInput(path: path)
        defer { input.close() }
        if input.size == 0 { throw OCIError.notAnImage(path: path, reason: "empty file") }
        return try index(input).mapValues { e in
            FileSlice(hostPath: path, offset: e.offset, length: e.length, displayName: "\(path)!\(e.name)")
        }
    }

    /// Where one regular file's data lies in the tar (links resolved to their target's data).
    struct Entry {
        var name: String
        var offset: Int64
        var length: Int64
    }

    /// Indexes any tar input, reading forward only (so a stream can be indexed in one pass); `onFile` sees each
    /// regular file as its header is read, before anything after it, and may read its data from `input`.
    func index(_ input: some TarInput, onFile: ((Entry) throws -> Void)? = nil) throws -> [String: Entry] {
        // A stream's length is unknown: its end shows as a short read, which `readExactly` reports as truncation.
        let fileSize = input.size ?? Int64.max
        var files: [String: Entry] = [:]
        var links: [(name: String, target: String, symbolic: Bool)] = []
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 512)
        var longName: String?
        var longLink: String?
        var pax = Pax()
        var first = true

        // Every size is checked against what is left of the file before any arithmetic, so no sum can
        // overflow, and every step moves `offset` forward by at least one header.
        while offset <= fileSize - 512 {
            try input.readExactly(&header, at: offset)
            if header.allSatisfy({ $0 == 0 }) { return try finish(files, links) }
            guard checksumOK(header) else {
                if first { throw OCIError.notAnImage(path: path, reason: Self.sniff(header)) }
                throw corrupt(at: offset, "bad header checksum")
            }
            first = false
            guard files.count + links.count < Self.maxEntries else {
                throw OCIError.notAnImage(path: path, reason: "more than \(Self.maxEntries) entries; a docker save or OCI layout has a few per layer")
            }
            let type = header[156]
            var size = try number(header[124..<136], at: offset)
            // A PAX size is for the next file; extended headers themselves are sized by their own field.
            if let s = pax.size, !Self.metaTypes.contains(type) { size = s }
            // Go's archive/tar (docker load, skopeo) reads no data for these types whatever the size says.
            if Self.headerOnlyTypes.contains(type) { size = 0 }
            let dataStart = offset + 512
            guard size <= fileSize - dataStart else {
                throw OCIError.io(path: path, reason: "truncated or corrupt: the entry at byte \(offset) claims \(size) bytes, the file ends at \(fileSize)")
            }
            let next = dataStart + size + (512 - size % 512) % 512
            var name = string(header[0..<100])
            if header[257..<262].elementsEqual(Array("ustar".utf8)) {
                let prefix = string(header[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            if let l = longName { name = l }
            if let p = pax.path { name = p }

            switch type {
            case UInt8(ascii: "x"):
                pax = try parsePax(try readData(input, at: dataStart, count: size), at: offset)
                offset = next
                continue
            case UInt8(ascii: "g"):
                offset = next
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                let data = try readData(input, at: dataStart, count: size)
                let text = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                if type == UInt8(ascii: "L") { longName = text } else { longLink = text }
                offset = next
                continue
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let key = Self.normalize(name)
                let entry = Entry(name: key, offset: dataStart, length: size)
                files[key] = entry
                try onFile?(entry)
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                let target = pax.linkPath ?? longLink ?? string(header[157..<257])
                links.append((Self.normalize(name), target, type == UInt8(ascii: "2")))
            default:
                break
            }
            longName = nil
            longLink = nil
            pax = Pax()
            offset = next
        }
        if first {
            var head = [UInt8](repeating: 0, count: Int(min(fileSize, 512)))
            try input.readExactly(&head, at: 0)
            let sniffed = Self.sniff(head)
            throw OCIError.notAnImage(path: path, reason: sniffed == "not a tar archive" ? "too short to be a tar archive (\(fileSize) bytes)" : sniffed)
        }
        throw OCIError.io(path: path, reason: "truncated: the tar archive has no end-of-archive marker")
    }

    /// PAX extended and global headers, GNU long names and link names.
    private static let metaTypes: Set<UInt8> = Set("xgLK".utf8)
    /// Link, symlink, character and block device, directory, FIFO.
    private static let headerOnlyTypes: Set<UInt8> = Set("123456".utf8)

    private func corrupt(at offset: Int64, _ why: String) -> OCIError {
        OCIError.io(path: path, reason: "corrupt tar header at byte \(offset): \(why)")
    }

    private func finish(_ files: [String: Entry], _ links: [(name: String, target: String, symbolic: Bool)]) throws -> [String: Entry] {
        var files = files
        // Links may point at links; a few rounds settle any sane chain.
        for _ in 0..<8 {
            var changed = false
            for l in links where files[l.name] == nil {
                // Not NSString.deletingLastPathComponent: it traps on a one-character name (Foundation, Swift 6.3).
                let base = l.symbolic ? l.name.lastIndex(of: "/").map { String(l.name[..<$0]) } ?? "" : ""
                let target = Self.normalize(l.target.hasPrefix("/") ? l.target : (base.isEmpty ? l.target : base + "/" + l.target))
                if let s = files[target] { files[l.name] = s; changed = true }
            }
            if !changed { break }
        }
        return files
    }

    static func sniff(_ header: [UInt8]) -> String {
        if header.starts(with: [0x1f, 0x8b]) { return "gzip-compressed; decompress it first (gunzip), then scan the .tar" }
        if header.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return "zstd-compressed; decompress it first (unzstd), then scan the .tar" }
        if let c = header.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }), c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
            return "a JSON document, not a docker save tarball or OCI layout"
        }
        return "not a tar archive"
    }

    private func checksumOK(_ h: [UInt8]) -> Bool {
        #if STOWAWAY_FUZZING
        // A mutated header almost never keeps its checksum: the fuzz build skips it to reach the code behind.
        if h[148] != 0xff { return true }
        #endif
        guard let stored = try? number(h[148..<156], at: 0) else { return false }
        var sum: Int64 = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int64(b) }
        return sum == stored
    }

    /// An octal or base-256 numeric field; throws for a negative, oversized or malformed value.
    private func number(_ field: ArraySlice<UInt8>, at offset: Int64) throws -> Int64 {
        if let f = field.first, f & 0x80 != 0 {
            guard f & 0x40 == 0 else { throw corrupt(at: offset, "negative number") }
            var v = Int64(f & 0x3f)
            for b in field.dropFirst() {
                guard v <= Int64.max >> 8 else { throw corrupt(at: offset, "number too large") }
                v = v << 8 | Int64(b)
            }
            return v
        }
        var v: Int64 = 0
        var seen = false
        for b in field {
            if b == 0 || b == 0x20 { if seen { break } else { continue } }
            guard b >= 0x30 && b <= 0x37 else { throw corrupt(at: offset, "malformed number") }
            // At most 12 octal digits: 36 bits, far from overflowing.
            v = v * 8 + Int64(b - 0x30)
            seen = true
        }
        return v
    }

    private func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The records of a PAX extended header that change how the next entry is read.
    struct Pax {
        var path: String?
        var linkPath: String?
        var size: Int64?
    }

    /// Parses `LEN key=value\n` records; a record that is malformed, or a size that is not a non-negative
    /// decimal, makes the archive corrupt (as in Go's archive/tar, which docker load uses).
    private func parsePax(_ data: [UInt8], at offset: Int64) throws -> Pax {
        var pax = Pax()
        var i = 0
        while i < data.count {
            guard let sp = data[i...].prefix(20).firstIndex(of: 0x20),
                  let len = Int(String(decoding: data[i..<sp], as: UTF8.self)),
                  len >= sp - i + 2, len <= data.count - i, data[i + len - 1] == 0x0a else {
                throw corrupt(at: offset, "malformed pax record at byte \(i) of the extended header")
            }
            let record = data[(sp + 1)..<(i + len - 1)]
            if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[record.startIndex..<eq], as: UTF8.self)
                let value = String(decoding: record[(eq + 1)...], as: UTF8.self)
                switch key {
                case "path": pax.path = value
                case "linkpath": pax.linkPath = value
                case "size":
                    guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(value) else {
                        throw corrupt(at: offset, "pax size \"\(value)\" is not a size")
                    }
                    pax.size = n
                default: break
                }
            }
            i += len
        }
        return pax
    }

    private func readData(_ input: some TarInput, at offset: Int64, count: Int64) throws -> [UInt8] {
        guard count <= Self.maxExtendedHeader else { throw OCIError.io(path: path, reason: "tar extended header of \(count) bytes at byte \(offset)") }
        var buf = [UInt8](repeating: 0, count: Int(count))
        try input.readExactly(&buf, at: offset)
        return buf
    }
}

/// The bytes of a tar, read at offsets that only move forward (apart from one look back at the start of a tar
/// too short to hold a header, which only a file with a known size takes).
protocol TarInput {
    /// The whole length when known (a file); nil for a stream, whose end shows as a short read.
    var size: Int64? { get }
    /// Fills `buf` from `offset`; throws `OCIError.io` ("truncated at byte N") when the input ends first.
    func readExactly(_ buf: inout [UInt8], at offset: Int64) throws
}

/// A tar file on disk, read with `pread`.
final class FileTarInput: TarInput {
    let path: String
    let size: Int64?
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OCIError.io(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw OCIError.io(path: path, reason: reason)
        }
        size = Int64(st.st_size)
    }

    func close() { Glibc.close(fd) }

    func readExactly(_ buf: inout [UInt8], at offset: Int64) throws {
        var done = 0
        let want = buf.count
        let fd = fd, path = path
        try buf.withUnsafeMutableBytes { b in
            while done < want {
                // Safe: `b` is `buf`'s storage of `want` bytes, and `done < want` bounds the write.
                let n = pread(fd, b.baseAddress! + done, want - done, off_t(offset + Int64(done)))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw OCIError.io(path: path, reason: String(cString: strerror(errno))) }
                if n == 0 { throw OCIError.io(path: path, reason: "truncated at byte \(offset + Int64(done))") }
                done += n
            }
        }
    }
}
