import CArchive

/// How a layer's blob is compressed, told from its first bytes (never from a media type, which may lie).
public enum LayerCompression: Sendable, Hashable, CustomStringConvertible {
    /// A plain tar: the blob is the layer, its digest the diffID.
    case none
    case gzip
    case zstd
    /// A compression no image tool writes any more, read through libarchive's filter of this name (bzip2, xz, lz4).
    case filter(String)

    /// libarchive's filter names: `none`, `gzip`, `zstd`, `bzip2`, …
    public var description: String {
        switch self {
        case .none: return "none"
        case .gzip: return "gzip"
        case .zstd: return "zstd"
        case .filter(let name): return name
        }
    }
}

/// Turns a layer blob (read through a `BlobInput`) into its tar stream.
protocol Decompressor: AnyObject {
    /// What `LayerReader.Digests.compression` reports.
    var compression: LayerCompression { get }
    /// Fills `out` with the next bytes of the tar stream (as many as fit, unless the stream ends);
    /// 0 once the compressed stream has ended cleanly. Throws `LayerError` on corrupt or truncated data.
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int
    /// After `read` returned 0: the blob goes on past the end of the compressed stream with bytes that
    /// do not start another member or frame. They stay pending in the input.
    var hasTrailingData: Bool { get }
}

enum Decompressors {
    /// Picks the decompressor from the blob's first bytes, as `gzip -d`, `zstd -d` and libarchive do:
    /// gzip and zstd are ours (ISA-L, libzstd); bzip2, xz and lz4 go through libarchive's filters;
    /// anything else is taken for a plain tar (an empty blob is an empty tar).
    static func make(for input: BlobInput, layer: String) throws -> Decompressor {
        let n = try input.ensure(6)
        let b = Array(input.pending.prefix(n))
        func starts(_ magic: [UInt8]) -> Bool { b.count >= magic.count && Array(b.prefix(magic.count)) == magic }
        if starts([0x1f, 0x8b]) { return try GzipInflater(input: input, layer: layer) }
        if ZstdDecompressor.startsFrame(b) { return try ZstdDecompressor(input: input, layer: layer) }
        for (magic, filter) in [([0x42, 0x5a, 0x68], "bzip2"), ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"),
                                ([0x04, 0x22, 0x4d, 0x18], "lz4"), ([0x02, 0x21, 0x4c, 0x18], "lz4")] as [([UInt8], String)]
        where starts(magic) {
            return try LibarchiveFilter(input: input, layer: layer, filter: filter)
        }
        return PlainTar(input: input)
    }
}

/// An uncompressed layer: the blob is the tar. Its blob digest is its diffID, so the blob is not hashed twice.
final class PlainTar: Decompressor {
    let compression = LayerCompression.none
    let hasTrailingData = false
    private let input: BlobInput

    init(input: BlobInput) {
        self.input = input
        input.hashing = false
    }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < out.count {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: out[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// The compressions no image tool writes any more (bzip2, xz, lz4): libarchive's filter in its raw format.
final class LibarchiveFilter: Decompressor {
    let compression: LayerCompression
    let hasTrailingData = false
    private let layer: String
    private let box: FilterBox
    private var archive: OpaquePointer?
    private var ended = false
    // Unsafe pointer: libarchive's current block, valid until the next archive call on `archive`.
    private var block: UnsafeRawBufferPointer?

    init(input: BlobInput, layer: String, filter: String) throws {
        self.layer = layer
        compression = .filter(filter)
        box = FilterBox(input: input)
        guard let a = archive_read_new() else { throw LayerError.archive(call: "archive_read_new", reason: "out of memory") }
        archive = a
        switch filter {
        case "bzip2": archive_read_support_filter_bzip2(a)
        case "xz": archive_read_support_filter_xz(a)
        default: archive_read_support_filter_lz4(a)
        }
        archive_read_support_format_raw(a)
        archive_read_support_format_empty(a)
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        if archive_read_open(a, ctx, nil, filterRead, nil) != ARCHIVE_OK { throw failure("opening the blob") }
        var entry: OpaquePointer?
        let r = archive_read_next_header(a, &entry)
        if r == ARCHIVE_EOF {
            ended = true
        } else if r != ARCHIVE_OK && r != ARCHIVE_WARN {
            throw failure("opening the blob")
        }
    }

    deinit { if let archive { archive_read_free(archive) } }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < out.count {
            if let b = block, !b.isEmpty {
                let n = min(b.count, out.count - filled)
                out.baseAddress!.advanced(by: filled).copyMemory(from: b.baseAddress!, byteCount: n)
                block = UnsafeRawBufferPointer(rebasing: b[n...])
                filled += n
                continue
            }
            if ended { break }
            var p: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            let r = archive_read_data_block(archive, &p, &size, &offset)
            if r == ARCHIVE_EOF {
                ended = true
                break
            }
            if r != ARCHIVE_OK && r != ARCHIVE_WARN { throw failure("decompressing") }
            block = UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : size)
        }
        return filled
    }

    private func failure(_ doing: String) -> Error {
        if let e = box.error { return e }
        let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return LayerError.corrupt(layer: layer, reason: "\(message) (while \(doing))")
    }
}

/// The read callback's context: the blob input and the source's failure, if any.
private final class FilterBox {
    let input: BlobInput
    var error: Error?
    init(input: BlobInput) { self.input = input }
}

private func filterRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<FilterBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        // libarchive is done with the previous block when it asks for the next one.
        if box.input.available == 0, try !box.input.refill() { return 0 }
        let p = box.input.pending
        box.input.consume(p.count)
        out?.pointee = p.baseAddress
        return p.count
    } catch {
        box.error = error
        stowaway_archive_set_error(a, "\(error)")
        return -1
    }
}
