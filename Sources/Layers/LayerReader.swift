import CArchive
import Core

/// Streams the entries of one layer blob with libarchive, never extracting it or holding it whole.
///
/// Decompression is ours (`TarStream`: ISA-L for gzip, libzstd for zstd, plain tar as is), on a thread
/// of its own for all but small blobs, hashing the blob digest as the source is read and the diffID as
/// it decompresses; libarchive parses the tar from the decompressed stream through its read callback.
/// `finish()` drains the stream and throws on trailing data or any digest or size mismatch.
public final class LayerReader {
    public let name: String
    private let expectedDigest: Digest?
    private let expectedDiffID: Digest?
    private let expectedSize: Int64?

    private var tar: OpaquePointer?
    private let stream: TarStream
    private let tarBox: TarBox
    private var finished = false
    /// libarchive reported the end of the tar (it must not be asked again).
    private var tarAtEOF = false
    /// The trailing-data pseudo-entry: offered once after the tar, then read through `trailingBlock`.
    private var trailingOffered = false
    private var readingTrailing = false
    // Unsafe pointer: the rest of the stream's current trailing block, valid until its next call.
    private var trailingBlock = UnsafeRawBufferPointer(start: nil, count: 0)

    /// What `finish()` measured.
    public struct Digests: Sendable {
        public var blobDigest: Digest
        public var blobSize: Int64
        public var diffID: Digest
        public var uncompressedSize: Int64
        public var compression: String
    }

    /// Where the bytes after the end of a blob's compressed stream are reported (never a tar path,
    /// which is always absolute).
    public static func trailingDataPath(compression: String) -> String { "(after \(compression) stream)" }

    /// Blobs up to this size are decompressed on the calling thread: a thread of their own costs more than it saves.
    static let inlineBelow: Int64 = 1 << 20

    /// Opens a layer for reading; nothing past the first bytes (which tell the compression) is read until `next()`.
    public convenience init(source: ByteSource, name: String, expectedDigest: Digest? = nil, expectedDiffID: Digest? = nil,
                            expectedSize: Int64? = nil) throws {
        try self.init(source: source, name: name, expectedDigest: expectedDigest, expectedDiffID: expectedDiffID,
                      expectedSize: expectedSize, threaded: (expectedSize ?? Int64.max) >= Self.inlineBelow)
    }

    /// As above, choosing whether decompression runs on a thread of its own (tests exercise both).
    init(source: ByteSource, name: String, expectedDigest: Digest?, expectedDiffID: Digest?, expectedSize: Int64?,
         threaded: Bool) throws {
        self.name = name
        self.expectedDigest = expectedDigest
        self.expectedDiffID = expectedDiffID
        self.expectedSize = expectedSize
        do {
            stream = try TarStream(source: source, layer: name, threaded: threaded)
        } catch {
            source.close()
            throw error
        }
        tarBox = TarBox(stream: stream)

        tar = archive_read_new()
        guard let tar else { throw LayerError.archive(call: "archive_read_new", reason: "out of memory") }
        archive_read_support_format_tar(tar)
        archive_read_support_format_empty(tar)
        let tarCtx = Unmanaged.passUnretained(tarBox).toOpaque()
        if archive_read_open(tar, tarCtx, nil, tarRead, nil) != ARCHIVE_OK {
            throw failure(tar, "reading the tar")
        }
    }

    deinit {
        if let tar { archive_read_free(tar) }
        stream.cancel()
    }

    /// The next entry, or nil at the end of the layer. Throws on a corrupt or truncated layer.
    public func next() throws -> LayerEntry? {
        guard let tar else { return nil }
        if tarAtEOF { return try trailingEntry() }
        var e: OpaquePointer?
        let r = StageTimes.measure(.tarWalk) { archive_read_next_header(tar, &e) }
        if r == ARCHIVE_EOF {
            tarAtEOF = true
            return try trailingEntry()
        }
        // ARCHIVE_WARN: names that do not convert to the locale's charset; the entry is usable.
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e else { throw failure(tar, "reading an entry header") }
        let pathBytes = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
        let path = LayerPath.normalize(pathBytes)
        if let h = archive_entry_hardlink(e) {
            return LayerEntry(path: path, kind: .hardlink, size: 0, linkTarget: LayerPath.normalize(String(cString: h)))
        }
        let size = archive_entry_size(e)
        switch archive_entry_filetype(e) {
        case stowaway_ae_ifreg: return LayerEntry(path: path, kind: .file, size: size)
        case stowaway_ae_ifdir: return LayerEntry(path: path, kind: .directory, size: 0)
        case stowaway_ae_iflnk:
            return LayerEntry(path: path, kind: .symlink, size: 0, linkTarget: archive_entry_symlink(e).map { String(cString: $0) })
        default: return LayerEntry(path: path, kind: .other, size: 0)
        }
    }

    /// Reads the current entry's data; 0 at its end. Throws on truncation or corruption.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if readingTrailing { return try readTrailing(into: buffer) }
        let n = StageTimes.measure(.tarWalk) { archive_read_data(tar, buffer.baseAddress, buffer.count) }
        if n < 0 { throw failure(tar, "reading file data") }
        return n
    }

    /// Reads what is left of the stream and checks for trailing data, then digests and size.
    @discardableResult
    public func finish() throws -> Digests {
        precondition(!finished, "finish() called twice")
        finished = true
        // Tar end-of-archive padding and anything after it still count towards the diffID, and trailing
        // bytes towards the blob digest: the producer gets to the end of the blob.
        do { try stream.drain() } catch { throw tarBox.error ?? error }
        if stream.trailingBytes > 0 {
            throw LayerError.corrupt(layer: name, reason: "trailing data after the \(stream.compression) stream (\(stream.trailingBytes) bytes)")
        }
        let diffID = stream.diffID.finalize()
        let plain = stream.compression == "none"
        let digests = Digests(blobDigest: plain ? diffID : stream.input.hasher.finalize(), blobSize: stream.input.total,
                              diffID: diffID, uncompressedSize: stream.diffID.count, compression: stream.compression)
        if let expectedSize, expectedSize != digests.blobSize {
            throw LayerError.sizeMismatch(layer: name, expected: expectedSize, actual: digests.blobSize)
        }
        if let expectedDigest, expectedDigest != digests.blobDigest {
            throw LayerError.digestMismatch(layer: name, what: "digest", expected: expectedDigest.description, actual: digests.blobDigest.description)
        }
        if let expectedDiffID, expectedDiffID != digests.diffID {
            throw LayerError.digestMismatch(layer: name, what: "diff_id", expected: expectedDiffID.description, actual: digests.diffID.description)
        }
        return digests
    }

    /// After the tar: bytes past the end of the blob's compressed stream, offered once as a file so a
    /// secret hidden there is reported; `finish()` then calls the layer corrupt.
    private func trailingEntry() throws -> LayerEntry? {
        guard !trailingOffered else { return nil }
        trailingOffered = true
        let found: Bool
        do { found = try stream.hasTrailingData() } catch { throw tarBox.error ?? error }
        guard found else { return nil }
        readingTrailing = true
        return LayerEntry(path: Self.trailingDataPath(compression: stream.compression), kind: .file, size: 0)
    }

    private func readTrailing(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if trailingBlock.isEmpty {
            guard let b = try stream.nextTrailingBlock() else { return 0 }
            trailingBlock = b
        }
        let n = min(buffer.count, trailingBlock.count)
        buffer.baseAddress!.copyMemory(from: trailingBlock.baseAddress!, byteCount: n)
        trailingBlock = UnsafeRawBufferPointer(rebasing: trailingBlock[n...])
        return n
    }

    /// The most specific error: a source failure (I/O) wins over libarchive's own message.
    private func failure(_ a: OpaquePointer?, _ doing: String) -> Error {
        if let e = tarBox.error { return e }
        let message = a.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return LayerError.corrupt(layer: name, reason: "\(message) (while \(doing))")
    }
}

/// The read callback's context: the decompressed stream and the error it threw, if any.
private final class TarBox {
    let stream: TarStream
    var error: Error?

    init(stream: TarStream) { self.stream = stream }
}

private func tarRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<TarBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        guard let block = try box.stream.nextTarBlock() else { return 0 }
        out?.pointee = block.baseAddress
        return block.count
    } catch {
        box.error = error
        stowaway_archive_set_error(a, "\(error)")
        return -1
    }
}
