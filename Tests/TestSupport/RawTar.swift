/// Tar archives written byte by byte, for tests that need what no well-behaved writer produces: negative
/// or huge sizes, sparse files claiming terabytes, hard links with bodies, bytes after the end marker.
public enum RawTar {
    /// Two zero blocks: the end-of-archive marker.
    public static let endOfArchive = [UInt8](repeating: 0, count: 1024)

    /// A ustar header. `sizeField` replaces the 12-byte size field verbatim (base-256, garbage).
    public static func header(_ name: String, size: Int64 = 0, type: Character = "0", linkName: String = "",
                              sizeField: [UInt8]? = nil) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(Array(name.utf8), at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(sizeField ?? octal(size, width: 12), at: 124, width: 12)
        put(octal(1_700_000_000, width: 12), at: 136, width: 12)
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)
        h[156] = type.asciiValue ?? 0x30
        put(Array(linkName.utf8), at: 157, width: 100)
        put(Array("ustar\0".utf8), at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        let sum = h.reduce(0) { $0 + Int64($1) }
        put(octal(sum, width: 7) + [0x20], at: 148, width: 8)
        return h
    }

    /// `data` followed by zeros up to a multiple of 512.
    public static func padded(_ data: [UInt8]) -> [UInt8] {
        data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A regular file entry.
    public static func file(_ name: String, _ data: [UInt8]) -> [UInt8] {
        header(name, size: Int64(data.count)) + padded(data)
    }

    /// A PAX extended header (`LEN key=value\n` records) applying to the next entry.
    public static func pax(_ records: [(String, String)]) -> [UInt8] {
        var body: [UInt8] = []
        for (key, value) in records {
            let rest = " \(key)=\(value)\n".utf8.count
            var n = rest + 1
            while String(n).count + rest != n { n = String(n).count + rest }
            body += Array("\(n) \(key)=\(value)\n".utf8)
        }
        return header("PaxHeader", size: Int64(body.count), type: "x") + padded(body)
    }

    /// A sparse file in GNU pax format 0.1: `realSize` bytes long, holding only `segments`.
    public static func sparse(_ name: String, realSize: Int64, segments: [(offset: Int64, data: [UInt8])]) -> [UInt8] {
        let map = segments.map { "\($0.offset),\($0.data.count)" }.joined(separator: ",")
        let stored = segments.flatMap(\.data)
        return pax([("GNU.sparse.size", "\(realSize)"), ("GNU.sparse.numblocks", "\(segments.count)"), ("GNU.sparse.map", map)])
            + header(name, size: Int64(stored.count)) + padded(stored)
    }
}
