import CArchive
import CISAL

/// A kept zip read through its central directory by us, its members inflated with ISA-L (about three times
/// libarchive's zlib): the fast path of `ArchiveWalker` for the plain zips nearly every jar and wheel is.
///
/// It must give exactly what libarchive's seekable zip reader gives, so it takes only zips where the two
/// cannot differ, and says so before any member is read: `init` returns nil (the caller then hands the whole
/// zip to libarchive) for anything not plain: an end record or central directory libarchive would read
/// otherwise (not in the last 16 KiB, data prepended, a multi-volume field, a bad zip64 locator), an encrypted
/// entry, a method other than stored or deflate, a name that is not plain ASCII (libarchive converts those by
/// charset), a local header that disagrees with the central directory, an entry type other than a file,
/// directory or small stored symlink, entries out of range or overlapping. Members come in libarchive's
/// order (by local header offset), with its checks at the end of each (sizes, CRC-32) and its errors' effect:
/// the output of the read that meets the error is not handed over, and a deflate stream that cannot go on
/// ends the zip (libarchive's ARCHIVE_FATAL). ISA-L and zlib do not judge every corrupt stream alike (ISA-L
/// takes some Huffman tables zlib refuses), so a member that fails here is handed to libarchive from where it
/// is: libarchive reads the same member, passes the bytes already handed over, and gives the rest and the
/// verdict (its note, and whether the zip can go on).
final class ZipReader {
    /// One member the walk hands over, or passes (a directory or symlink), in libarchive's order.
    struct Entry {
        var name: String
        /// 0 stored, 8 deflate.
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int64
        var size: Int64
        /// Where the member's data starts in the zip.
        var dataOffset: Int64
        /// A regular file (handed over); false for directories and symlinks.
        var isFile: Bool
    }

    /// A member that cannot be read to its end: `fatal` when libarchive could not go on to the next one.
    struct MemberError: Error {
        var reason: String
        var fatal: Bool
    }

    let entries: [Entry]
    /// Entries a lenient reader passes, each with why (never any for a strict one).
    let rejected: [(name: String, reason: String)]
    /// Bytes of the zip read so far (headers and member data, by this reader and by libarchive after a member failed
    /// here): what a compression ratio is judged against.
    var bytesRead: Int64 { ownBytesRead + (libarchive?.zip.handed ?? 0) }
    private var ownBytesRead: Int64 = 0
    private let spill: SpillBuffer

    /// Central directories larger than this are left to libarchive (a directory is read whole).
    static let maxDirectoryBytes: Int64 = 64 << 20
    /// Zips of more entries are left to libarchive: the plan holds every entry (the walk stops at
    /// `maxMembersPerFile`, 100 000 by default, anyway).
    static let maxEntries: Int64 = 1 << 18

    /// Reads the central directory and every local header; nil when the zip is not plain (see the type).
    ///
    /// `lenient` is for a zip libarchive could not open at all: an entry that is not plain (bad zip64 or extra
    /// fields, encryption, another method, a local header that disagrees) is passed with its reason in `rejected`
    /// instead of leaving the whole zip; the end record and the directory's framing must still be sound.
    ///
    /// `directory` (lenient only) is the part of the directory to plan from: the first records of a zip with more
    /// members than the walk takes (`ZipDirectory.Survey.tooManyMembers`), so the rest is never read.
    init?(spill: SpillBuffer, lenient: Bool = false, directory: (start: Int64, length: Int64)? = nil) {
        self.spill = spill
        var read: Int64 = 0
        var rejected: [(name: String, reason: String)] = []
        guard let entries = Self.plan(spill, read: &read, lenient: lenient || directory != nil, directory: directory,
                                      rejected: &rejected) else { return nil }
        self.entries = entries
        self.rejected = rejected
        ownBytesRead = read
    }

    // MARK: the plan

    private static func plan(_ spill: SpillBuffer, read: inout Int64, lenient: Bool, directory part: (start: Int64, length: Int64)?,
                             rejected: inout [(name: String, reason: String)]) -> [Entry]? {
        let size = spill.count
        guard size >= 22 else { return nil }
        // libarchive looks for the end record in the last 16 KiB only, and takes the last signature there.
        let tailLength = Int(min(size, 16 * 1024))
        let tailStart = size - Int64(tailLength)
        guard let tail = bytes(spill, at: tailStart, count: tailLength, read: &read) else { return nil }
        var found: Int?
        for i in stride(from: tailLength - 22, through: 0, by: -1)
        where tail[i] == 0x50 && tail[i + 1] == 0x4B && tail[i + 2] == 5 && tail[i + 3] == 6 {
            found = i
            break
        }
        guard let i = found else { return nil }
        let eocdAt = tailStart + Int64(i)
        let eocd = Bytes(tail, from: i)
        var directoryStart: Int64
        var directorySize: Int64
        var expected: Int64
        if i >= 20, tail[i - 20] == 0x50, tail[i - 19] == 0x4B, tail[i - 18] == 6, tail[i - 17] == 7 {
            // Zip64: the locator's record says where the directory is (libarchive then ignores the 32-bit one).
            let locator = Bytes(tail, from: i - 20)
            guard locator.u32(4) == 0, locator.u32(16) == 1 else { return nil }
            let at = locator.u64(8)
            guard at < UInt64(eocdAt), let head = bytes(spill, at: Int64(at), count: 56, read: &read) else { return nil }
            let record = Bytes(head, from: 0)
            guard record.u32(0) == 0x0606_4B50 else { return nil }
            let recordSize = record.u64(4)
            guard recordSize >= 44, recordSize <= 16384 - 12, Int64(at) + Int64(recordSize) + 12 <= eocdAt - 20 else { return nil }
            guard record.u32(16) == 0, record.u32(20) == 0, record.u64(24) == record.u64(32) else { return nil }
            let start = record.u64(48), length = record.u64(40)
            guard start <= UInt64(at), length <= UInt64(at) - start, start + length == at else { return nil }
            directoryStart = Int64(start)
            directorySize = Int64(length)
            expected = Int64(min(record.u64(32), UInt64(Int64.max)))
        } else {
            guard eocd.u16(4) == 0, eocd.u16(6) == 0, eocd.u16(8) == eocd.u16(10) else { return nil }
            let length = Int64(eocd.u32(12)), start = Int64(eocd.u32(16))
            // No bytes before the zip nor between its directory and end record: libarchive would shift offsets.
            guard start + length == eocdAt || (lenient && start + length < eocdAt) else { return nil }
            directoryStart = start
            directorySize = length
            expected = Int64(eocd.u16(10))
        }
        if let part {
            directoryStart = part.start
            directorySize = part.length
            expected = part.length / 46
        }
        guard expected > 0 || lenient, expected <= maxEntries, directorySize <= maxDirectoryBytes, expected <= directorySize / 46 else { return nil }
        guard let directory = bytes(spill, at: directoryStart, count: Int(directorySize), read: &read) else { return nil }

        var entries: [(offset: Int64, end: Int64, entry: Entry)] = []
        entries.reserveCapacity(Int(expected))
        var p = 0
        while p < directory.count {
            guard directory.count - p >= 46 else { return nil }
            let h = Bytes(directory, from: p)
            guard h.u32(0) == 0x0201_4B50 else { return nil }
            let system = directory[p + 5]
            let flags = h.u16(8), method = h.u16(10)
            let crc = h.u32(16)
            var compressed = Int64(h.u32(20)), uncompressed = Int64(h.u32(24))
            let nameLength = Int(h.u16(28)), extraLength = Int(h.u16(30)), commentLength = Int(h.u16(32))
            let external = h.u32(38)
            var offset = Int64(h.u32(42))
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= directory.count else { return nil }
            let at = p
            p = next
            let name = Array(directory[(at + 46)..<(at + 46 + nameLength)])
            let shown = String(decoding: name, as: UTF8.self)
            /// In a lenient plan, passes this entry with its reason; in a strict one, leaves the whole zip.
            func reject(_ reason: String) -> Bool {
                guard lenient else { return false }
                rejected.append((shown, reason))
                return true
            }
            // Encrypted (traditional, strong, or a hidden directory), or a method we do not inflate.
            guard flags & 0x2041 == 0 else { if reject("encrypted member: not scanned") { continue } else { return nil } }
            guard method == 0 || method == 8 else {
                if reject("compression method \(method) not supported here: not scanned") { continue } else { return nil }
            }
            guard plainName(name) || lenient else { return nil }
            guard zip64(Array(directory[(at + 46 + nameLength)..<(at + 46 + nameLength + extraLength)]),
                        uncompressed: &uncompressed, compressed: &compressed, offset: &offset, lenient: lenient) else {
                if reject("malformed zip64 extra field (a size or offset past 2^63 or cut short): not scanned") { continue } else { return nil }
            }

            // The type as libarchive works it out: Unix mode bits, the MS-DOS directory bit, a trailing slash.
            var mode: UInt32
            switch system {
            case 3: mode = external >> 16
            case 0:
                // libarchive versions differ on an MS-DOS directory bit without a slash: left to libarchive.
                guard external & 0x10 == 0 || name.last == UInt8(ascii: "/") || lenient else { return nil }
                mode = external & 0x10 != 0 ? 0o040775 : 0o100664
            default: mode = 0
            }
            if mode & 0o170000 == 0o010000 { mode = mode & ~0o170000 | 0o100000 }   // a FIFO: Info-ZIP's pipe bug
            if mode & 0o170000 != 0o040000 {
                if name.last == UInt8(ascii: "/") { mode = mode & ~0o170000 | 0o040000 } else if mode & 0o170000 == 0 { mode |= 0o100000 }
            }
            let type = mode & 0o170000
            // A symlink's target is read by libarchive at its header (and can fail there): only small stored ones.
            if type == 0o120000 && !(method == 0 && compressed <= 64 * 1024) {
                if lenient { continue } else { return nil }
            }
            guard type == 0o100000 || type == 0o040000 || type == 0o120000 else { if lenient { continue } else { return nil } }

            // The local header: libarchive takes the name, method, flags and sizes from it.
            let badLocal = "its local header is missing or disagrees with the central directory: not scanned"
            guard offset >= 0, offset <= directoryStart - 30,
                  let local = bytes(spill, at: offset, count: 30, read: &read) else { if reject(badLocal) { continue } else { return nil } }
            let l = Bytes(local, from: 0)
            guard l.u32(0) == 0x0403_4B50, l.u16(6) & 0x2041 == 0, l.u16(8) == method else { if reject(badLocal) { continue } else { return nil } }
            let localNameLength = Int(l.u16(26)), localExtraLength = Int(l.u16(28))
            guard localNameLength == nameLength, offset + 30 + Int64(nameLength + localExtraLength) <= directoryStart,
                  let localRest = bytes(spill, at: offset + 30, count: nameLength + localExtraLength, read: &read),
                  Array(localRest[..<nameLength]) == name else { if reject(badLocal) { continue } else { return nil } }
            var localCompressed = Int64(l.u32(18)), localUncompressed = Int64(l.u32(22))
            var localOffset = offset
            guard zip64(Array(localRest[nameLength...]), uncompressed: &localUncompressed, compressed: &localCompressed,
                        offset: &localOffset, lenient: lenient) else {
                if reject("malformed zip64 extra field in its local header: not scanned") { continue } else { return nil }
            }
            // Where the local header has a value it must be the directory's: libarchive would use the local one
            // (0xFFFFFFFF without a zip64 field too, in the 3.6 we link).
            let localCRC = l.u32(14)
            guard localCRC == 0 || localCRC == crc, localCompressed == 0 || localCompressed == compressed,
                  localUncompressed == 0 || localUncompressed == uncompressed else { if reject(badLocal) { continue } else { return nil } }
            let dataOffset = offset + 30 + Int64(nameLength + localExtraLength)
            guard compressed <= directoryStart - dataOffset else {
                if reject("its data would run past the central directory: not scanned") { continue } else { return nil }
            }
            let entry = Entry(name: shown, method: method, crc: crc, compressedSize: compressed,
                              size: uncompressed, dataOffset: dataOffset, isFile: type == 0o100000)
            entries.append((offset, dataOffset + compressed, entry))
            guard entries.count <= expected || lenient else { return nil }
            guard entries.count <= maxEntries else { return nil }
        }
        guard entries.count == expected || lenient else { return nil }
        // libarchive's seekable reader goes by local header offset; entries sharing bytes are left to it.
        entries.sort { $0.offset < $1.offset }
        for k in entries.indices.dropFirst() where entries[k].offset < entries[k - 1].end { return nil }
        return entries.map(\.entry)
    }

    /// Printable ASCII but the backslash (libarchive turns it into a slash for some writers): the same bytes
    /// whatever the charset conversion libarchive would apply. Not even UTF-8 flagged as such: libarchive
    /// converts it to the process's locale (C.UTF-8 in the CLI, but C in a test or fuzz process, where it gives an
    /// empty name), so it is left to libarchive.
    private static func plainName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }
    }

    /// Walks an extra field as libarchive does: false when it is malformed or names the entry otherwise
    /// (an Info-ZIP Unicode path), else the zip64 sizes and offset replace their 0xFFFFFFFF placeholders.
    private static func zip64(_ extra: [UInt8], uncompressed: inout Int64, compressed: inout Int64, offset: inout Int64,
                              lenient: Bool = false) -> Bool {
        var p = 0
        while extra.count - p >= 4 {
            let b = Bytes(extra, from: p)
            let id = b.u16(0), length = Int(b.u16(2))
            p += 4
            guard length <= extra.count - p else { return false }
            // A lenient plan keeps the directory's name.
            if id == 0x7075 && !lenient { return false }
            if id == 0x0001 {
                var q = p, left = length
                for field in 0..<3 {
                    let placeholder: Bool
                    switch field {
                    case 0: placeholder = uncompressed == 0xFFFF_FFFF
                    case 1: placeholder = compressed == 0xFFFF_FFFF
                    default: placeholder = offset == 0xFFFF_FFFF
                    }
                    guard placeholder else { continue }
                    guard left >= 8 else { return false }
                    let v = Bytes(extra, from: q).u64(0)
                    guard v <= UInt64(Int64.max) else { return false }
                    switch field {
                    case 0: uncompressed = Int64(v)
                    case 1: compressed = Int64(v)
                    default: offset = Int64(v)
                    }
                    q += 8
                    left -= 8
                }
            }
            p += length
        }
        return true
    }

    /// `count` bytes at `offset`, or nil when the zip ends first or cannot be read back.
    private static func bytes(_ spill: SpillBuffer, at offset: Int64, count: Int, read: inout Int64) -> [UInt8]? {
        guard offset >= 0, count >= 0, Int64(count) <= spill.count - offset else { return nil }
        var failed = false
        // Unsafe buffer: the array's own storage, written only within its capacity; `filled` counts what was.
        let out = [UInt8](unsafeUninitializedCapacity: count) { b, filled in
            let raw = UnsafeMutableRawBufferPointer(b)
            while filled < count {
                let n = spill.read(at: offset + Int64(filled), into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                if n <= 0 {
                    failed = true
                    break
                }
                filled += n
            }
        }
        read += Int64(out.count)
        return failed ? nil : out
    }

    // MARK: reading a member

    /// The bytes of member `index` of `entries`, inflated as they are pulled (one stream of a reader at a time,
    /// in order).
    func open(_ index: Int) -> Member { Member(reader: self, entry: entries[index], index: index) }

    /// ISA-L's state and the blocks members are inflated through, made at the first deflate member and reused by
    /// the next ones (members are read one at a time): no allocation per member.
    fileprivate private(set) lazy var workspace = Workspace()

    /// libarchive on the same zip, opened at the first member that fails here.
    private var libarchive: Libarchive?
    private var libarchiveFailed = false

    /// libarchive positioned in member `index` past `skip` bytes, or its error on the way there.
    fileprivate func libarchive(at index: Int, skip: Int64) -> Result<Libarchive, MemberError> {
        if libarchive == nil && !libarchiveFailed {
            libarchive = Libarchive(spill: spill)
            libarchiveFailed = libarchive == nil
        }
        guard let l = libarchive else { return .failure(MemberError(reason: "the zip could not be opened again", fatal: true)) }
        if let e = l.advance(to: index, skip: skip) { return .failure(e) }
        return .success(l)
    }

    fileprivate func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        let n = spill.read(at: offset, into: buffer)
        if n > 0 { ownBytesRead += Int64(n) }
        return n
    }

    /// One member being read: stored bytes copied, deflate inflated by ISA-L, in blocks, never whole.
    final class Member {
        private let reader: ZipReader
        private let entry: Entry
        /// The reader's inflate state and buffers, this member's while it is read.
        private let work: Workspace
        private var inputFilled = 0
        private var inputUsed = 0
        /// Compressed bytes taken from the zip, and handed to ISA-L or copied.
        private var taken: Int64 = 0
        private var consumed: Int64 = 0
        private var produced: Int64 = 0
        private var crc: UInt32 = 0
        private var ended = false
        private var blockFilled = 0
        private var blockUsed = 0

        private let index: Int
        /// Bytes handed over so far; once a member failed here, libarchive reads it.
        private var delivered: Int64 = 0
        private var handedOver: Libarchive?

        fileprivate init(reader: ZipReader, entry: Entry, index: Int) {
            self.reader = reader
            self.entry = entry
            self.index = index
            work = reader.workspace
            if entry.method == 8 {
                isal_inflate_reset(work.state)
                work.state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR)
            }
            // libarchive ends a member with no data at once, unchecked.
            ended = entry.compressedSize == 0
        }

        /// Fills `out` (short only at the member's end, 0 after it), as libarchive's `archive_read_data` does;
        /// throws when the member is corrupt, and then nothing of this read is handed over (nor is anything of
        /// libarchive's). A deflate member is inflated a block at a time, as libarchive does, so a stream that
        /// turns out corrupt loses the same bytes with either reader.
        func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
            if let l = handedOver { return try l.read(into: out) }
            do {
                let n = try readHere(into: out)
                delivered += Int64(n)
                return n
            } catch is MemberError {
                // libarchive's verdict, and its bytes from where ours stopped.
                ended = true
                switch reader.libarchive(at: index, skip: delivered) {
                case .failure(let e): throw e
                case .success(let l):
                    handedOver = l
                    return try l.read(into: out)
                }
            }
        }

        private func readHere(into out: UnsafeMutableRawBufferPointer) throws -> Int {
            var filled = 0
            if entry.method == 0 {
                while filled < out.count {
                    if taken == entry.compressedSize {
                        if !ended {
                            ended = true
                            try check()
                        }
                        break
                    }
                    let want = Int(min(Int64(out.count - filled), entry.compressedSize - taken))
                    let n = reader.fill(UnsafeMutableRawBufferPointer(rebasing: out[filled..<(filled + want)]), at: entry.dataOffset + taken)
                    guard n > 0 else { throw MemberError(reason: "Truncated ZIP file data", fatal: true) }
                    // Unsafe pointer: the `n` bytes just copied into `out`, read by ISA-L during this call only.
                    crc = crc32_gzip_refl(crc, out.baseAddress!.advanced(by: filled).assumingMemoryBound(to: UInt8.self), UInt64(n))
                    taken += Int64(n)
                    consumed = taken
                    produced += Int64(n)
                    filled += n
                }
                return filled
            }
            while filled < out.count {
                if blockUsed < blockFilled {
                    let n = min(out.count - filled, blockFilled - blockUsed)
                    (out.baseAddress! + filled).copyMemory(from: work.block.baseAddress! + blockUsed, byteCount: n)
                    blockUsed += n
                    filled += n
                } else if ended {
                    break
                } else {
                    do { try inflateBlock() } catch {
                        blockFilled = 0
                        throw error
                    }
                }
            }
            return filled
        }

        /// Inflates the next block (up to `blockSize` bytes) into `block`; at the stream's end, checks it.
        private func inflateBlock() throws {
            blockUsed = 0
            blockFilled = 0
            while blockFilled < work.block.count {
                if inputUsed == inputFilled && taken < entry.compressedSize {
                    let want = Int(min(Int64(work.input.count), entry.compressedSize - taken))
                    let n = reader.fill(UnsafeMutableRawBufferPointer(rebasing: work.input[..<want]), at: entry.dataOffset + taken)
                    guard n > 0 else {
                        ended = true
                        throw MemberError(reason: "Truncated ZIP file data", fatal: true)
                    }
                    taken += Int64(n)
                    inputFilled = n
                    inputUsed = 0
                }
                let pending = inputFilled - inputUsed
                let space = work.block.count - blockFilled
                // Unsafe pointers: ISA-L reads `input` and writes into `block` (the workspace's) only during this
                // call, within avail_in and avail_out.
                work.state.pointee.next_in = work.input.baseAddress!.advanced(by: inputUsed).assumingMemoryBound(to: UInt8.self)
                work.state.pointee.avail_in = UInt32(pending)
                work.state.pointee.next_out = work.block.baseAddress!.advanced(by: blockFilled).assumingMemoryBound(to: UInt8.self)
                work.state.pointee.avail_out = UInt32(space)
                let ret = isal_inflate(work.state)
                let used = pending - Int(work.state.pointee.avail_in)
                let made = space - Int(work.state.pointee.avail_out)
                inputUsed += used
                consumed += Int64(used)
                blockFilled += made
                produced += Int64(made)
                if ret < 0 {
                    ended = true
                    throw MemberError(reason: "ZIP decompression failed (\(Self.describe(ret)))", fatal: true)
                }
                if work.state.pointee.block_state == ISAL_BLOCK_FINISH {
                    ended = true
                    // ISA-L takes input ahead into a bit buffer: whole bytes left there are not the stream's.
                    consumed -= Int64(max(0, work.state.pointee.read_in_length) / 8)
                    crc = work.state.pointee.crc
                    try check()
                    return
                }
                if inputUsed == inputFilled && taken == entry.compressedSize && blockFilled > 0 {
                    // The compressed bytes ran out inside the stream: libarchive hands over what zlib made of them
                    // and fails at its next call, so this block ends here and the next one fails.
                    return
                }
                if used == 0 && made == 0 {
                    // No progress with room to write: the compressed bytes ran out inside the stream (zlib's
                    // Z_BUF_ERROR for libarchive).
                    ended = true
                    throw MemberError(reason: "ZIP decompression failed (the deflate stream is cut short)", fatal: true)
                }
            }
        }

        /// libarchive's checks at a member's end, in its order: compressed size, size (mod 2^32), CRC-32.
        private func check() throws {
            if consumed != entry.compressedSize {
                throw MemberError(reason: "ZIP compressed data is wrong size (read \(consumed), expected \(entry.compressedSize))", fatal: false)
            }
            if UInt32(truncatingIfNeeded: produced) != UInt32(truncatingIfNeeded: entry.size) {
                throw MemberError(reason: "ZIP uncompressed data is wrong size (read \(produced), expected \(entry.size))", fatal: false)
            }
            if crc != entry.crc {
                throw MemberError(reason: "ZIP bad CRC: 0x\(String(crc, radix: 16)) should be 0x\(String(entry.crc, radix: 16))", fatal: false)
            }
        }

        private static func describe(_ ret: Int32) -> String {
            switch ret {
            case ISAL_INVALID_BLOCK: return "invalid deflate block"
            case ISAL_INVALID_SYMBOL: return "invalid deflate symbol"
            case ISAL_INVALID_LOOKBACK: return "invalid deflate distance"
            default: return "ISA-L error \(ret)"
            }
        }
    }
}

/// libarchive's seekable zip reader over the same kept bytes, for members that fail in `ZipReader` (rare: the
/// zip is corrupt). Its headers come in the order of `ZipReader.entries`, directories and symlinks included.
private final class Libarchive {
    let zip: SeekableZip
    /// The header libarchive is at (-1 before the first).
    private var at = -1

    init?(spill: SpillBuffer) {
        guard let zip = SeekableZip(spill: spill), zip.isOpen else { return nil }
        self.zip = zip
    }

    /// Moves to header `index` and reads `skip` bytes of its data (already handed over by `ZipReader`).
    func advance(to index: Int, skip: Int64) -> ZipReader.MemberError? {
        while at < index {
            var e: OpaquePointer?
            let r = archive_read_next_header(zip.archive, &e)
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN else { return ZipReader.MemberError(reason: zip.message, fatal: true) }
            at += 1
        }
        var left = skip
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)
        defer { scratch.deallocate() }
        while left > 0 {
            let n = archive_read_data(zip.archive, scratch.baseAddress, Int(min(left, Int64(scratch.count))))
            if n < 0 { return ZipReader.MemberError(reason: zip.message, fatal: n == Int(ARCHIVE_FATAL)) }
            if n == 0 { break }
            left -= Int64(n)
        }
        return nil
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(zip.archive, out.baseAddress, out.count)
        if n < 0 { throw ZipReader.MemberError(reason: zip.message, fatal: n == Int(ARCHIVE_FATAL)) }
        return n
    }
}

/// What a deflate member is inflated with.
private final class Workspace {
    // Unsafe pointers, all owned here and freed in deinit: ISA-L's inflate state (about 40 KB, too large for the
    // stack), the compressed bytes it reads and the block it writes, lent to ISA-L only during a call.
    let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
    let input = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)

    init() { isal_inflate_init(state) }

    deinit {
        state.deallocate()
        input.deallocate()
        block.deallocate()
    }
}

/// Little-endian fields of a byte array from a base offset; every caller checked the bounds first.
private struct Bytes {
    let a: [UInt8]
    let base: Int
    init(_ a: [UInt8], from base: Int) {
        self.a = a
        self.base = base
    }
    func u16(_ i: Int) -> UInt16 { UInt16(a[base + i]) | UInt16(a[base + i + 1]) << 8 }
    func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
    func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }
}
