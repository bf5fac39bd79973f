import CArchive
import CLZMA

/// The decompressed bytes of a compressed file found in a layer (gzip, zstd, xz, bzip2), before anything decides
/// whether they are a tar or a lone file: `ArchiveWalker` looks at the first block itself, because libarchive's tar
/// reader takes a leading zero block for the end of an empty tar and a lone file starting with 512 NULs was lost.
protocol InflatedStream: AnyObject {
    /// Fills `out` with the next decompressed bytes (0 at the end). Throws `InflateFailed` when the compressed data
    /// is bad or over a limit; anything else the compressed bytes' source threw is passed on as it is.
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int
}

/// The compressed data cannot be decompressed (corrupt, truncated) or would take more than a limit allows.
struct InflateFailed: Error {
    var reason: String
    /// A limit, not corrupt data.
    var limit = false
}

/// gzip by ISA-L (`GzipInflater` over the file's bytes).
final class GzipInflatedStream: InflatedStream {
    private let inflater: GzipInflater
    init(_ inflater: GzipInflater) { self.inflater = inflater }
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        do { return try inflater.read(into: out) } catch LayerError.corrupt(_, let reason) { throw InflateFailed(reason: reason) }
    }
}

/// xz by liblzma with a memory limit: libarchive's xz filter lets a stream's header ask for up to 1 GiB of
/// dictionary, so a 100-byte file could make the process take a gigabyte.
final class XzInflatedStream: InflatedStream {
    private let pull: (UnsafeMutableRawBufferPointer) throws -> Int
    private let memoryLimit: UInt64
    // Unsafe pointers: liblzma's stream state and the compressed block it reads, allocated here and freed in deinit;
    // liblzma sees the block only during `lzma_code`, within `avail_in`.
    private let stream = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private var inputEnded = false
    private var ended = false
    private var initialized = false

    /// A decoder of the xz bytes `pull` gives (0 at their end), failing at more than `memoryLimit` bytes of state.
    init(memoryLimit: UInt64, pull: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        self.pull = pull
        self.memoryLimit = memoryLimit
        // Zeroed: LZMA_STREAM_INIT, a macro Swift cannot import, is all zeros.
        stream.initialize(to: lzma_stream())
        let r = lzma_stream_decoder(stream, memoryLimit, stowaway_lzma_concatenated)
        guard r == LZMA_OK else { throw InflateFailed(reason: "the xz decoder could not start (liblzma error \(r.rawValue))") }
        initialized = true
    }

    deinit {
        if initialized { lzma_end(stream) }
        stream.deallocate()
        input.deallocate()
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended, out.count > 0 else { return 0 }
        // Unsafe pointer: `out` is the caller's, written by liblzma during this call only, within avail_out.
        stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = out.count
        while stream.pointee.avail_out == out.count {
            if stream.pointee.avail_in == 0 && !inputEnded {
                let n = try pull(input)
                if n == 0 { inputEnded = true }
                stream.pointee.next_in = UnsafePointer(input.baseAddress!.assumingMemoryBound(to: UInt8.self))
                stream.pointee.avail_in = n
            }
            let r = lzma_code(stream, inputEnded ? LZMA_FINISH : LZMA_RUN)
            switch r {
            case LZMA_OK:
                if inputEnded && stream.pointee.avail_in == 0 && stream.pointee.avail_out == out.count {
                    throw InflateFailed(reason: "truncated xz stream")
                }
            case LZMA_STREAM_END:
                ended = true
                return out.count - stream.pointee.avail_out
            case LZMA_MEMLIMIT_ERROR:
                let needed = lzma_memusage(stream)
                throw InflateFailed(reason: "xz stream needs \(needed >> 20) MiB of decoder memory (its dictionary), over the limit of \(memoryLimit >> 20) MiB: not decompressed",
                                    limit: true)
            case LZMA_BUF_ERROR:
                throw InflateFailed(reason: "truncated xz stream")
            default:
                throw InflateFailed(reason: "corrupt xz data (liblzma error \(r.rawValue))")
            }
        }
        return out.count - stream.pointee.avail_out
    }
}

/// zstd or bzip2 (or gzip by zlib, which tests compare with ISA-L) by a libarchive filter under its raw format.
final class FilterInflatedStream: InflatedStream {
    // Unsafe pointer: libarchive's handle, made here and freed in deinit (before the box its callback reads).
    private let archive: OpaquePointer
    private let box: FilterBox
    private var ended = false

    /// A decompressor of the bytes `pull` gives with libarchive's filter for `kind`.
    init(kind: ArchiveKind, pull: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        guard let a = archive_read_new() else { throw LayerError.archive(call: "archive_read_new", reason: "out of memory") }
        archive = a
        box = FilterBox(pull: pull)
        switch kind {
        case .zstd: archive_read_support_filter_zstd(a)
        case .bzip2: archive_read_support_filter_bzip2(a)
        case .gzip: archive_read_support_filter_gzip(a)
        default: break
        }
        archive_read_support_format_raw(a)
        archive_read_support_format_empty(a)
        // The box is reachable by libarchive only through this pointer; it lives as long as this object, which frees
        // the handle first (deinit).
        let r = archive_read_open(a, Unmanaged.passUnretained(box).toOpaque(), nil, filterRead, nil)
        if r != ARCHIVE_OK && r != ARCHIVE_WARN { throw failure() }
        var e: OpaquePointer?
        let h = archive_read_next_header(a, &e)
        if h == ARCHIVE_EOF {
            ended = true
        } else if h != ARCHIVE_OK && h != ARCHIVE_WARN {
            throw failure()
        }
    }

    deinit { archive_read_free(archive) }

    /// What the source threw, else libarchive's message as bad compressed data.
    private func failure() -> Error {
        if let e = box.error { return e }
        return InflateFailed(reason: archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended else { return 0 }
        let n = archive_read_data(archive, out.baseAddress, out.count)
        if n < 0 { throw failure() }
        if n == 0 { ended = true }
        return n
    }
}

/// The context of a filter's read callback: where the compressed bytes come from, and what that threw.
private final class FilterBox {
    let pull: (UnsafeMutableRawBufferPointer) throws -> Int
    // Unsafe buffer: allocated here, freed in deinit; libarchive reads it only until the next callback, and the box
    // outlives the archive handle.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)
    var error: Error?
    init(pull: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) { self.pull = pull }
    deinit { buffer.deallocate() }
}

private func filterRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<FilterBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        let n = try box.pull(box.buffer)
        out?.pointee = UnsafeRawPointer(box.buffer.baseAddress)
        return n
    } catch {
        // Never thrown across C: kept for the Swift side, which rethrows it.
        box.error = error
        stowaway_archive_set_error(a, "the compressed bytes could not be read")
        return -1
    }
}

/// A decompressed stream whose first bytes were looked at: they are given again first.
final class PeekedStream {
    let stream: InflatedStream
    private(set) var head: [UInt8] = []
    private var headOffset = 0

    init(_ stream: InflatedStream) { self.stream = stream }

    /// Reads up to `count` first bytes into `head` (fewer only at the stream's end).
    func peek(_ count: Int) throws {
        var b = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try b.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        head = Array(b[..<filled])
    }

    private var deferred: Error?

    /// Fills `out` whole (short only at the stream's end), whatever sizes the decompressor gives: a member's bytes
    /// then come in the same reads from every decompressor, so limits stop at the same byte. An error met after some
    /// bytes is thrown on the next call, so those bytes are handed over first.
    func readFull(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if let e = deferred {
            deferred = nil
            throw e
        }
        var filled = 0
        while filled < out.count {
            let n: Int
            do { n = try read(into: UnsafeMutableRawBufferPointer(rebasing: out[filled...])) } catch {
                if filled == 0 { throw error }
                deferred = error
                break
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if headOffset < head.count {
            let n = min(out.count, head.count - headOffset)
            head.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + headOffset, byteCount: n) }
            headOffset += n
            return n
        }
        return try stream.read(into: out)
    }

    /// Whether the first block is a tar header: not all zeros, and its checksum right (what every tar writer sets
    /// and libarchive's tar reader checks). A lone file whose bytes happen to look so is still scanned, as a tar's.
    var startsWithTarHeader: Bool {
        guard head.count >= 512, head[..<512].contains(where: { $0 != 0 }) else { return false }
        let field = head[148..<156]
        var stored = 0
        var digits = 0
        for c in field {
            if c == 0x20 || c == 0 {
                if digits > 0 { break } else { continue }
            }
            guard (0x30...0x37).contains(c) else { return false }
            stored = stored * 8 + Int(c - 0x30)
            digits += 1
        }
        guard digits > 0 else { return false }
        var unsigned = 0, signed = 0
        for (i, c) in head[..<512].enumerated() {
            let v = (148..<156).contains(i) ? 0x20 : c
            unsigned += Int(v)
            signed += Int(Int8(bitPattern: v))
        }
        return stored == unsigned || stored == signed
    }
}
