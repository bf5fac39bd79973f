/// What a kept zip's end record and central directory say about its members, read before any member is opened
/// and before the zip is handed to `ZipReader` or libarchive: how many members there are, and whether any two
/// of them share bytes.
///
/// libarchive's seekable zip reader reads the whole central directory into memory first (about 150 bytes per
/// entry, whatever the count the end record declares), so the member limit must be applied here, from the end
/// record's count and then from the records themselves, counting at most one past the limit. Members whose
/// local header lies inside another member's bytes (David Fifield's overlapping zip bomb: one kernel inflated
/// again for every member) make a zip hostile: each re-read is counted as bytes consumed, so no ratio trips.
///
/// Reads at most `limit + 1` directory records, a block at a time, and keeps two numbers per record.
enum ZipDirectory {
    /// The verdict on a zip.
    enum Survey {
        /// Nothing found against the zip (it may still be corrupt: the reader that opens it says so).
        case plain
        /// More members than the limit: `declared` by the end record or `counted` (at least) in the directory. The
        /// first `limit` records are `directory` (its start and length), for a reader to take those members alone.
        case tooManyMembers(declared: Int64, counted: Int, directory: (start: Int64, length: Int64))
        /// The local header of `member` starts inside the bytes of `inside`.
        case overlapping(member: String, inside: String)
    }

    /// The survey of the zip `spill` holds, with `limit` members at most (more is reported before an overlap).
    static func survey(_ spill: SpillBuffer, limit: Int) -> Survey {
        survey(count: spill.count, limit: limit) { offset, buffer in spill.read(at: offset, into: buffer) }
    }

    /// The survey of a zip of `count` bytes that `read` gives (bytes at an offset; 0 or less at the end or on failure).
    static func survey(count size: Int64, limit: Int, read: @escaping (Int64, UnsafeMutableRawBufferPointer) -> Int) -> Survey {
        let reader = Reader(size: size, read: read)
        guard let end = reader.endRecord() else { return .plain }

        // The records, as libarchive walks them: from the directory's start until a record that is not one.
        var spans: [(start: Int64, end: Int64, record: Int64)] = []
        var p = end.directoryStart
        var counted = 0
        while let h = reader.bytes(at: p, count: 46), h.u32(0) == 0x0201_4B50 {
            counted += 1
            if counted > limit { break }
            let nameLength = Int64(h.u16(28)), extraLength = Int64(h.u16(30)), commentLength = Int64(h.u16(32))
            let recordLength: Int64 = 46 + nameLength + extraLength + commentLength
            var compressed = UInt64(h.u32(20))
            var offset = UInt64(h.u32(42))
            if compressed == 0xFFFF_FFFF || offset == 0xFFFF_FFFF,
               let extra = reader.bytes(at: p + 46 + nameLength, count: Int(extraLength)) {
                zip64(extra, uncompressed: h.u32(24) == 0xFFFF_FFFF, compressed: &compressed, offset: &offset)
            }
            // Shifted as libarchive shifts them when bytes precede the zip (a self-extracting stub).
            let (start, o1) = Int64(clamping: offset).addingReportingOverflow(end.shift)
            // A member spans at least its local header, its name and its compressed data.
            let headerLength: Int64 = 30 + nameLength
            let (dataEnd, o2) = start.addingReportingOverflow(headerLength)
            let (memberEnd, o3) = dataEnd.addingReportingOverflow(Int64(clamping: compressed))
            if !(o1 || o2 || o3), start >= 0 { spans.append((start, memberEnd, p)) }
            p += recordLength
        }
        let prefix = (start: end.directoryStart, length: p - end.directoryStart)
        // The limit first: a reader plans the first records alone, and refuses them if they share bytes.
        if counted > limit || end.declared > Int64(limit) {
            return .tooManyMembers(declared: end.declared, counted: counted, directory: prefix)
        }
        spans.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        var reach: (end: Int64, record: Int64) = (-1, 0)
        for s in spans {
            if s.start < reach.end {
                return .overlapping(member: reader.name(record: s.record), inside: reader.name(record: reach.record))
            }
            if s.end > reach.end { reach = (s.end, s.record) }
        }
        return .plain
    }

    /// Replaces 0xFFFFFFFF placeholders by the zip64 extra field's values, leaving them when it is malformed.
    private static func zip64(_ extra: Bytes, uncompressed: Bool, compressed: inout UInt64, offset: inout UInt64) {
        var p = 0
        while extra.count - p >= 4 {
            let id = extra.u16(p), length = Int(extra.u16(p + 2))
            p += 4
            guard length <= extra.count - p else { return }
            if id == 0x0001 {
                var q = p
                if uncompressed { q += 8 }
                if compressed == 0xFFFF_FFFF {
                    guard q + 8 <= p + length else { return }
                    compressed = extra.u64(q)
                    q += 8
                }
                if offset == 0xFFFF_FFFF {
                    guard q + 8 <= p + length else { return }
                    offset = extra.u64(q)
                }
                return
            }
            p += length
        }
    }

    /// Where the directory starts, how many entries the end record declares, and how far libarchive shifts offsets.
    struct End {
        var directoryStart: Int64
        var declared: Int64
        var shift: Int64
    }

    /// Bounded reads of the zip: a block kept for the directory's records, small reads elsewhere.
    private final class Reader {
        let size: Int64
        let read: (Int64, UnsafeMutableRawBufferPointer) -> Int
        private var block: [UInt8] = []
        private var blockStart: Int64 = 0
        static let blockSize = 256 * 1024

        init(size: Int64, read: @escaping (Int64, UnsafeMutableRawBufferPointer) -> Int) {
            self.size = size
            self.read = read
        }

        /// `count` bytes at `offset`, or nil when the zip ends first or cannot be read.
        func bytes(at offset: Int64, count: Int) -> Bytes? {
            guard offset >= 0, count >= 0, Int64(count) <= size - offset else { return nil }
            if offset < blockStart || offset + Int64(count) > blockStart + Int64(block.count) {
                let want = Int(min(Int64(max(count, Self.blockSize)), size - offset))
                guard let b = fill(at: offset, count: want) else { return nil }
                block = b
                blockStart = offset
            }
            return Bytes(block, from: Int(offset - blockStart), count: count)
        }

        private func fill(at offset: Int64, count: Int) -> [UInt8]? {
            var failed = false
            // Unsafe buffer: the array's own storage, written only within its capacity; `filled` counts what was.
            let out = [UInt8](unsafeUninitializedCapacity: count) { b, filled in
                let raw = UnsafeMutableRawBufferPointer(b)
                while filled < count {
                    let n = read(offset + Int64(filled), UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                    if n <= 0 {
                        failed = true
                        break
                    }
                    filled += n
                }
            }
            return failed ? nil : out
        }

        /// The name of the directory record at `record`, printable (control bytes as `?`), at most 256 bytes.
        func name(record: Int64) -> String {
            guard let h = bytes(at: record, count: 46),
                  let n = bytes(at: record + 46, count: min(Int(h.u16(28)), 256)) else { return "?" }
            return String(decoding: (0..<n.count).map { n[$0] }, as: UTF8.self)
        }

        /// The end record, as libarchive finds it: the last signature in the last 16 KiB, then a zip64 record.
        func endRecord() -> End? {
            guard size >= 22 else { return nil }
            let tailLength = Int(min(size, 16 * 1024))
            let tailStart = size - Int64(tailLength)
            guard let tail = bytes(at: tailStart, count: tailLength) else { return nil }
            var found: Int?
            for i in stride(from: tailLength - 22, through: 0, by: -1) where tail.u32(i) == 0x0605_4B50 {
                found = i
                break
            }
            guard let i = found else { return nil }
            let eocdAt = tailStart + Int64(i)
            if i >= 20, tail.u32(i - 20) == 0x0706_4B50 {
                let at = tail.u64(i - 20 + 8)
                guard at < UInt64(eocdAt), let record = bytes(at: Int64(at), count: 56), record.u32(0) == 0x0606_4B50 else { return nil }
                let declared = Int64(clamping: max(record.u64(24), record.u64(32)))
                let start = record.u64(48)
                guard start <= UInt64(Int64.max) else { return nil }
                return End(directoryStart: Int64(start), declared: declared, shift: 0)
            }
            let tailBytes = tail
            let declared = Int64(max(tailBytes.u16(i + 8), tailBytes.u16(i + 10)))
            let length = Int64(tailBytes.u32(i + 12)), start = Int64(tailBytes.u32(i + 16))
            guard length <= eocdAt else { return nil }
            let adjusted = eocdAt - length
            return End(directoryStart: adjusted, declared: declared, shift: adjusted - start)
        }
    }

    /// Little-endian fields of a slice of bytes; reads past `count` give 0.
    struct Bytes {
        let a: [UInt8]
        let base: Int
        let count: Int
        init(_ a: [UInt8], from base: Int, count: Int) {
            self.a = a
            self.base = base
            self.count = count
        }
        subscript(i: Int) -> UInt8 { i >= 0 && i < count ? a[base + i] : 0 }
        func u16(_ i: Int) -> UInt16 { UInt16(self[i]) | UInt16(self[i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
        func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }
    }
}
