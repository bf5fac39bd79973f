import CArchive
import Core

/// Streams the entries of one layer blob with libarchive, never extracting it or holding it whole.
///
/// Two archive objects form a pipeline on the calling thread: the first decompresses (gzip, zstd, …,
/// detected from the bytes) in libarchive's raw format, so the uncompressed tar passes through our hands
/// and its diffID is hashed on the way; the second parses that tar. The blob digest is hashed as the
/// source is read. `finish()` drains both streams and throws on any digest or size mismatch.
public final class LayerReader {
    public let name: String
    private let expectedDigest: Digest?
    private let expectedDiffID: Digest?
    private let expectedSize: Int64?

    private var raw: OpaquePointer?
    private var tar: OpaquePointer?
    private let rawBox: RawBox
    private let tarBox: TarBox
    private var finished = false
    /// What `read` returns bytes of: the current tar entry, or the data after the end-of-archive marker.
    private var reading = Reading.none
    /// The unread part of the block libarchive last returned (valid until the next call on that archive).
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Bytes after the end-of-archive marker that the tar reader pulled but did not consume (copied: they
    /// may sit in its own buffer, or in a decompressor block the next pull replaces).
    private var trailing: [UInt8] = []
    private var trailingOffset = 0

    private enum Reading { case none, entry, trailing, done }

    /// What `finish()` measured.
    public struct Digests: Sendable {
        public var blobDigest: Digest
        public var blobSize: Int64
        public var diffID: Digest
        public var uncompressedSize: Int64
        public var compression: String
    }

    /// Opens a layer for reading; nothing is read until `next()`.
    public init(source: ByteSource, name: String, expectedDigest: Digest? = nil, expectedDiffID: Digest? = nil, expectedSize: Int64? = nil) throws {
        self.name = name
        self.expectedDigest = expectedDigest
        self.expectedDiffID = expectedDiffID
        self.expectedSize = expectedSize
        rawBox = RawBox(source: source)
        tarBox = TarBox()

        raw = archive_read_new()
        tar = archive_read_new()
        guard let raw, let tar else { throw LayerError.archive(call: "archive_read_new", reason: "out of memory") }
        archive_read_support_filter_gzip(raw)
        archive_read_support_filter_zstd(raw)
        archive_read_support_filter_bzip2(raw)
        archive_read_support_filter_xz(raw)
        archive_read_support_filter_lz4(raw)
        archive_read_support_format_raw(raw)
        archive_read_support_format_empty(raw)
        archive_read_support_format_tar(tar)
        archive_read_support_format_empty(tar)

        let rawCtx = Unmanaged.passUnretained(rawBox).toOpaque()
        if archive_read_open(raw, rawCtx, nil, rawRead, nil) != ARCHIVE_OK {
            throw failure(raw, "opening the blob")
        }
        var entry: OpaquePointer?
        let r = archive_read_next_header(raw, &entry)
        if r == ARCHIVE_EOF {
            tarBox.rawEOF = true
        } else if r != ARCHIVE_OK && r != ARCHIVE_WARN {
            throw failure(raw, "opening the blob")
        }
        tarBox.raw = raw
        tarBox.compression = String(cString: archive_filter_name(raw, 0))
        let tarCtx = Unmanaged.passUnretained(tarBox).toOpaque()
        if archive_read_open(tar, tarCtx, nil, tarRead, nil) != ARCHIVE_OK {
            throw failure(tar, "reading the tar")
        }
    }

    deinit {
        if let tar { archive_read_free(tar) }
        if let raw { archive_read_free(raw) }
        rawBox.source.close()
    }

    /// The next entry, or nil at the end of the layer. Throws on a corrupt or truncated layer.
    ///
    /// After the last tar entry comes one `.trailingData` pseudo-entry if anything but zeros follows the
    /// end-of-archive marker (the zeros are tar padding, and cannot be part of a secret).
    public func next() throws -> LayerEntry? {
        guard let tar, reading != .done, reading != .trailing else {
            reading = .done
            return nil
        }
        block = UnsafeRawBufferPointer(start: nil, count: 0)
        var e: OpaquePointer?
        let r = archive_read_next_header(tar, &e)
        if r == ARCHIVE_EOF { return try trailingEntry() }
        // ARCHIVE_WARN: names that do not convert to the locale's charset; the entry is usable.
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e else { throw failure(tar, "reading an entry header") }
        reading = .entry
        let pathBytes = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
        let path = LayerPath.normalize(pathBytes)
        // The declared size; for a sparse file the full length, though only its stored data is read.
        let size = max(0, archive_entry_size(e))
        if let h = archive_entry_hardlink(e) {
            // libarchive gives a hard link a body when the archive says it has one (pax allows it): the
            // body is data no extractor writes, so it is read like a file's.
            return LayerEntry(path: path, kind: .hardlink, size: size, linkTarget: LayerPath.normalize(String(cString: h)))
        }
        switch archive_entry_filetype(e) {
        case stowaway_ae_ifreg: return LayerEntry(path: path, kind: .file, size: size)
        case stowaway_ae_ifdir: return LayerEntry(path: path, kind: .directory, size: 0)
        case stowaway_ae_iflnk:
            return LayerEntry(path: path, kind: .symlink, size: 0, linkTarget: archive_entry_symlink(e).map { String(cString: $0) })
        default: return LayerEntry(path: path, kind: .other, size: 0)
        }
    }

    /// Reads the current entry's data; 0 at its end. Throws on truncation or corruption.
    ///
    /// Only data stored in the archive is returned: the holes of a sparse file are skipped, not zero-filled
    /// (a 3 KB entry can claim a terabyte), so the bytes of the data segments follow one another.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !buffer.isEmpty else { return 0 }
        switch reading {
        case .none, .done: return 0
        case .entry:
            while block.isEmpty {
                var p: UnsafeRawPointer?
                var n = 0
                var offset: Int64 = 0
                let r = archive_read_data_block(tar, &p, &n, &offset)
                if r == ARCHIVE_EOF { return 0 }
                if r != ARCHIVE_OK && r != ARCHIVE_WARN { throw failure(tar, "reading file data") }
                block = UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n)
            }
            return take(into: buffer)
        case .trailing:
            if trailingOffset < trailing.count {
                let n = min(buffer.count, trailing.count - trailingOffset)
                trailing.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + trailingOffset, byteCount: n) }
                trailingOffset += n
                return n
            }
            // `block` points into the decompressor's buffer, valid until the next pullDecompressed().
            while block.isEmpty {
                guard let next = try pullDecompressed() else { return 0 }
                block = next
            }
            return take(into: buffer)
        }
    }

    private func take(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, block.count)
        buffer.baseAddress!.copyMemory(from: block.baseAddress!, byteCount: n)
        block = UnsafeRawBufferPointer(rebasing: block[n...])
        return n
    }

    /// At the tar reader's end: finds the first non-zero byte after the end-of-archive marker, and if there
    /// is one, returns the pseudo-entry whose data starts there.
    ///
    /// The tar reader has pulled more than it consumed (the marker's second block, read-ahead): those bytes
    /// are the last `handed - consumed` bytes handed to it, kept by `TarBox.remember`. Then the decompressor
    /// carries on from where the tar reader left it.
    private func trailingEntry() throws -> LayerEntry? {
        reading = .done
        let consumed = archive_filter_bytes(tar, -1)
        let handed = tarBox.hasher.count
        guard consumed >= 0, consumed <= handed, let pending = tarBox.lastBytes(Int(handed - consumed)) else {
            throw LayerError.corrupt(layer: name, reason: "cannot locate the data after the end-of-archive marker (\(consumed) of \(handed) bytes read)")
        }
        trailingOffset = 0
        block = UnsafeRawBufferPointer(start: nil, count: 0)
        if let first = pending.firstIndex(where: { $0 != 0 }) {
            trailing = Array(pending[first...])
        } else {
            // Padding so far: skip zeros block by block; the first block with data is read from in place.
            while true {
                guard let next = try pullDecompressed() else { return nil }
                if let first = next.firstIndex(where: { $0 != 0 }) {
                    block = UnsafeRawBufferPointer(rebasing: next[first...])
                    break
                }
            }
        }
        reading = .trailing
        return LayerEntry(path: LayerEntry.trailingDataPath, kind: .trailingData, size: 0)
    }

    /// The next block of the uncompressed stream past what the tar reader took, hashed into the diffID;
    /// nil at its end. Valid until the next call.
    private func pullDecompressed() throws -> UnsafeRawBufferPointer? {
        while !tarBox.rawEOF {
            var p: UnsafeRawPointer?
            var n = 0
            var offset: Int64 = 0
            let r = archive_read_data_block(raw, &p, &n, &offset)
            if r == ARCHIVE_EOF { tarBox.rawEOF = true; break }
            if r != ARCHIVE_OK && r != ARCHIVE_WARN { throw failure(raw, "decompressing") }
            guard let p, n > 0 else { continue }
            let bytes = UnsafeRawBufferPointer(start: p, count: n)
            tarBox.hasher.update(bytes)
            return bytes
        }
        return nil
    }

    /// Reads what is left of both streams and checks digests and size.
    @discardableResult
    public func finish() throws -> Digests {
        precondition(!finished, "finish() called twice")
        finished = true
        reading = .done
        // Whatever the caller did not read (the tar padding, data after it) still counts towards the diffID.
        while try pullDecompressed() != nil {}
        // And the blob may have bytes the decompressor did not need.
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try scratch.withUnsafeMutableBytes { try rawBox.source.read(into: $0) }
            if n == 0 { break }
            scratch.withUnsafeBytes { rawBox.hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
        let digests = Digests(blobDigest: rawBox.hasher.finalize(), blobSize: rawBox.hasher.count,
                              diffID: tarBox.hasher.finalize(), uncompressedSize: tarBox.hasher.count,
                              compression: tarBox.compression)
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

    /// The most specific error: a source failure (I/O) wins over libarchive's own message.
    private func failure(_ a: OpaquePointer?, _ doing: String) -> Error {
        if let e = rawBox.error { return e }
        if let e = tarBox.error { return e }
        let message = a.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return LayerError.corrupt(layer: name, reason: "\(message) (while \(doing))")
    }
}

/// State of the compressed side: the source and the blob hash.
private final class RawBox {
    let source: ByteSource
    var hasher = DigestHasher()
    var error: Error?
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)

    init(source: ByteSource) { self.source = source }
    deinit { buffer.deallocate() }
}

/// State of the uncompressed side: the raw archive to pull from and the diffID hash.
private final class TarBox {
    var raw: OpaquePointer?
    var hasher = DigestHasher()
    var rawEOF = false
    var error: Error?
    var compression = "none"
    /// The last block handed to the tar reader (still valid while the tar reader has not asked for more)
    /// and a copy of the bytes handed before it, so what the tar reader pulled but never consumed can be
    /// recovered at its end.
    private var last = UnsafeRawBufferPointer(start: nil, count: 0)
    private var before: [UInt8] = []
    /// The tar reader leaves at most a header's worth of a previous block unconsumed (its copy buffer);
    /// a generous multiple of that.
    private let keep = 8192

    func remember(_ block: UnsafeRawBufferPointer) {
        if !last.isEmpty {
            before.append(contentsOf: last.suffix(keep))
            if before.count > keep { before.removeFirst(before.count - keep) }
        }
        last = block
    }

    /// The last `count` bytes handed to the tar reader, or nil if they are no longer known.
    func lastBytes(_ count: Int) -> [UInt8]? {
        guard count > 0 else { return [] }
        if count <= last.count { return Array(last.suffix(count)) }
        guard count - last.count <= before.count else { return nil }
        return Array(before.suffix(count - last.count)) + Array(last)
    }
}

private func rawRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<RawBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        let n = try box.source.read(into: box.buffer)
        box.hasher.update(UnsafeRawBufferPointer(rebasing: box.buffer[..<n]))
        out?.pointee = UnsafeRawPointer(box.buffer.baseAddress)
        return n
    } catch {
        box.error = error
        stowaway_archive_set_error(a, "\(error)")
        return -1
    }
}

private func tarRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<TarBox>.fromOpaque(ctx!).takeUnretainedValue()
    if box.rawEOF { return 0 }
    var block: UnsafeRawPointer?
    var size = 0
    var offset: Int64 = 0
    let r = archive_read_data_block(box.raw, &block, &size, &offset)
    if r == ARCHIVE_EOF {
        box.rawEOF = true
        return 0
    }
    if r != ARCHIVE_OK && r != ARCHIVE_WARN {
        let message = archive_error_string(box.raw).map { String(cString: $0) } ?? "decompression failed"
        stowaway_archive_set_error(a, message)
        return -1
    }
    guard let block, size > 0 else { return tarRead(a, ctx, out) }
    box.hasher.update(UnsafeRawBufferPointer(start: block, count: size))
    box.remember(UnsafeRawBufferPointer(start: block, count: size))
    out?.pointee = block
    return size
}
