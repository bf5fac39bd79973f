import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// libarchive's seekable zip reader (central directory first) over a kept zip's bytes: what `ArchiveWalker` walks
/// a zip with when `ZipReader` does not take it, and what `ZipReader` hands a member to when it fails there.
final class SeekableZip {
    // Unsafe pointer: libarchive's handle, made here and freed in deinit, used by one thread at a time.
    let archive: OpaquePointer
    /// `archive_read_open1`'s result: ARCHIVE_OK or ARCHIVE_WARN when the central directory was read.
    let opened: Int32
    private let box: SeekableZipBox

    /// nil only when libarchive cannot make a handle (out of memory).
    init?(spill: SpillBuffer) {
        guard let a = archive_read_new() else { return nil }
        archive = a
        box = SeekableZipBox(spill: spill)
        archive_read_support_format_zip_seekable(a)
        archive_read_set_read_callback(a, seekableZipRead)
        archive_read_set_seek_callback(a, seekableZipSeek)
        archive_read_set_skip_callback(a, seekableZipSkip)
        // The box is reachable by libarchive only through this pointer; it lives as long as this object, which
        // frees the handle first (deinit).
        archive_read_set_callback_data(a, Unmanaged.passUnretained(box).toOpaque())
        opened = archive_read_open1(a)
    }

    deinit { archive_read_free(archive) }

    /// Whether the central directory was read.
    var isOpen: Bool { opened == ARCHIVE_OK || opened == ARCHIVE_WARN }

    /// Whether libarchive reads the directory of the zip `spill` holds: it does so at the first header, and gives up
    /// on the whole zip for one bad entry (a zip64 size past 2^63, an incomplete AES field). A probe of its own, freed
    /// before the zip is opened again to be walked.
    static func readsDirectory(_ spill: SpillBuffer) -> Bool {
        guard let probe = SeekableZip(spill: spill), probe.isOpen else { return false }
        var e: OpaquePointer?
        let r = archive_read_next_header(probe.archive, &e)
        return r == ARCHIVE_OK || r == ARCHIVE_WARN || r == ARCHIVE_EOF
    }

    /// Bytes of the zip handed to libarchive so far: what a compression ratio is judged against.
    var handed: Int64 { box.handed }

    /// libarchive's message for its last failure.
    var message: String { archive_error_string(archive).map { String(cString: $0) } ?? "unknown error" }
}

/// The context of the callbacks: the bytes, where libarchive is, and how many it was handed.
private final class SeekableZipBox {
    let spill: SpillBuffer
    var position: Int64 = 0
    var handed: Int64 = 0
    // Unsafe buffer: allocated here, freed in deinit; libarchive reads it only until its next callback, and the
    // box outlives the archive handle.
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)
    init(spill: SpillBuffer) { self.spill = spill }
    deinit { block.deallocate() }
}

// Each callback's `ctx` is the box `SeekableZip` registered, alive while the handle is.

private func seekableZipRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<SeekableZipBox>.fromOpaque(ctx!).takeUnretainedValue()
    let n = box.spill.read(at: box.position, into: box.block)
    if n < 0 {
        stowaway_archive_set_error(a, "the kept zip could not be read back")
        return -1
    }
    box.position += Int64(n)
    box.handed += Int64(n)
    out?.pointee = UnsafeRawPointer(box.block.baseAddress)
    return n
}

private func seekableZipSeek(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ offset: Int64, _ whence: Int32) -> Int64 {
    let box = Unmanaged<SeekableZipBox>.fromOpaque(ctx!).takeUnretainedValue()
    let base: Int64
    switch whence {
    case SEEK_SET: base = 0
    case SEEK_CUR: base = box.position
    case SEEK_END: base = box.spill.count
    default: return Int64(ARCHIVE_FATAL)
    }
    let (target, overflow) = base.addingReportingOverflow(offset)
    guard !overflow, target >= 0, target <= box.spill.count else { return Int64(ARCHIVE_FATAL) }
    box.position = target
    return target
}

private func seekableZipSkip(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ request: Int64) -> Int64 {
    let box = Unmanaged<SeekableZipBox>.fromOpaque(ctx!).takeUnretainedValue()
    let n = max(0, min(request, box.spill.count - box.position))
    box.position += n
    return n
}
