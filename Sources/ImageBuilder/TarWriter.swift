import CArchive
import Core
import Layers
import OCI

/// Writes a tar stream with libarchive, optionally compressed, to a sink closure; hashes the
/// uncompressed tar (the diffID) and the bytes that reach the sink (the blob digest) on the way.
/// Used to build images (test fixtures, the demo, benchmarks) with our own code.
public final class TarWriter {
    public enum Compression: String, Sendable, CaseIterable { case none, gzip, zstd }

    private var tar: OpaquePointer?
    private var compressor: OpaquePointer?
    private let box: WriteBox

    /// Starts a tar written to `sink`; throws `LayerError.archive` if libarchive refuses the setup.
    public init(compression: Compression, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        box = WriteBox(sink: sink)
        tar = archive_write_new()
        archive_write_set_format_pax_restricted(tar)
        archive_write_set_bytes_in_last_block(tar, 1)
        if compression != .none {
            compressor = archive_write_new()
            archive_write_set_format_raw(compressor)
            archive_write_set_bytes_in_last_block(compressor, 1)
            if compression == .gzip {
                archive_write_add_filter_gzip(compressor)
                archive_write_set_filter_option(compressor, "gzip", "timestamp", nil)
            } else {
                archive_write_add_filter_zstd(compressor)
            }
            let ctx = Unmanaged.passUnretained(box).toOpaque()
            try check(compressor, archive_write_open(compressor, ctx, nil, compressedWrite, nil), "open compressor")
            let e = archive_entry_new()
            archive_entry_set_pathname(e, "layer")
            archive_entry_set_filetype(e, stowaway_ae_ifreg)
            try check(compressor, archive_write_header(compressor, e), "compressor header")
            archive_entry_free(e)
            box.compressor = compressor
        }
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        try check(tar, archive_write_open(tar, ctx, nil, tarWrite, nil), "open tar")
    }

    deinit {
        if let tar { archive_write_free(tar) }
        if let compressor { archive_write_free(compressor) }
    }

    /// Adds a regular file whose bytes come from `content` (called until it returns 0).
    public func addFile(_ path: String, size: Int64, mode: Int32 = 0o644, content: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        try header(path, type: stowaway_ae_ifreg, size: size, mode: mode)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buf.deallocate() }
        var written: Int64 = 0
        while written < size {
            let n = try content(buf)
            if n == 0 { break }
            let w = archive_write_data(tar, buf.baseAddress, n)
            if w < 0 { throw failure(tar, "write data") }
            written += Int64(n)
        }
        guard written == size else { throw LayerError.archive(call: "addFile", reason: "\(path): got \(written) of \(size) bytes") }
    }

    /// A whole tar of `members` (path, bytes) in memory, compressed as asked: archives to put inside test images.
    public static func archive(_ members: [(String, [UInt8])], compression: Compression = .none) throws -> [UInt8] {
        var out: [UInt8] = []
        let w = try TarWriter(compression: compression) { out += $0 }
        for (path, bytes) in members { try w.addFile(path, bytes: bytes) }
        _ = try w.finish()
        return out
    }

    public func addFile(_ path: String, bytes: [UInt8], mode: Int32 = 0o644) throws {
        var offset = 0
        try addFile(path, size: Int64(bytes.count), mode: mode) { buf in
            let n = min(buf.count, bytes.count - offset)
            bytes.withUnsafeBytes { buf.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
    }

    public func addDirectory(_ path: String) throws {
        try header(path, type: stowaway_ae_ifdir, size: 0, mode: 0o755)
    }

    public func addSymlink(_ path: String, target: String) throws {
        try header(path, type: stowaway_ae_iflnk, size: 0, mode: 0o777, symlink: target)
    }

    public func addHardlink(_ path: String, target: String) throws {
        let e = archive_entry_new()
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, path)
        archive_entry_set_hardlink(e, target)
        archive_entry_set_perm(e, 0o644)
        try check(tar, archive_write_header(tar, e), "hardlink header")
    }

    /// Ends the tar (and the compressed stream) and returns the diffID and the blob digest and size.
    public func finish() throws -> (diffID: Digest, blobDigest: Digest, blobSize: Int64) {
        try check(tar, archive_write_close(tar), "close tar")
        if let compressor { try check(compressor, archive_write_close(compressor), "close compressor") }
        if let e = box.error { throw e }
        let diffID = box.tarHasher.finalize()
        if compressor == nil { return (diffID, diffID, box.tarHasher.count) }
        return (diffID, box.blobHasher.finalize(), box.blobHasher.count)
    }

    private func header(_ path: String, type: UInt32, size: Int64, mode: Int32, symlink: String? = nil) throws {
        let e = archive_entry_new()
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, path)
        archive_entry_set_filetype(e, type)
        archive_entry_set_perm(e, mode_t(mode))
        archive_entry_set_size(e, size)
        archive_entry_set_mtime(e, 1_700_000_000, 0)
        if let symlink { archive_entry_set_symlink(e, symlink) }
        try check(tar, archive_write_header(tar, e), "header \(path)")
    }

    private func check(_ a: OpaquePointer?, _ rc: Int32, _ what: String) throws {
        if rc != ARCHIVE_OK && rc != ARCHIVE_WARN { throw failure(a, what) }
    }

    private func failure(_ a: OpaquePointer?, _ what: String) -> Error {
        if let e = box.error { return e }
        let msg = a.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "failed"
        return LayerError.archive(call: what, reason: msg)
    }
}

private final class WriteBox {
    let sink: (UnsafeRawBufferPointer) throws -> Void
    var compressor: OpaquePointer?
    var tarHasher = DigestHasher()
    var blobHasher = DigestHasher()
    var error: Error?

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.sink = sink }
}

private func tarWrite(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ buf: UnsafeRawPointer?, _ n: Int) -> Int {
    let box = Unmanaged<WriteBox>.fromOpaque(ctx!).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: buf, count: n)
    box.tarHasher.update(bytes)
    if let c = box.compressor {
        return archive_write_data(c, buf, n) < 0 ? -1 : n
    }
    do { try box.sink(bytes) } catch { box.error = error; return -1 }
    return n
}

private func compressedWrite(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ buf: UnsafeRawPointer?, _ n: Int) -> Int {
    let box = Unmanaged<WriteBox>.fromOpaque(ctx!).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: buf, count: n)
    box.blobHasher.update(bytes)
    do { try box.sink(bytes) } catch { box.error = error; return -1 }
    return n
}
