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
    /// What `read` returns bytes of: the current tar entry, the data after the end-of-archive marker, or
    /// the blob's bytes after its compressed stream. libarchive is never asked again after its end.
    private var reading = Reading.none
    /// The unread part of the block last returned (by libarchive, valid until the next call on it; or by
    /// the stream, valid until its next call).
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Bytes after the end-of-archive marker that the tar reader pulled but did not consume (copied: they
    /// may sit in its own buffer, or in a stream block the next pull replaces).
    private var trailing: [UInt8] = []
    private var trailingOffset = 0

    private enum Reading { case none, entry, trailing, endOfTar, afterStream, done }

    /// What `finish()` measured.
    public struct Digests: Sendable {
        public var blobDigest: Digest
        public var blobSize: Int64
        public var diffID: Digest
        public var uncompressedSize: Int64
        public var compression: LayerCompression
    }

    /// Where the bytes after the end of a blob's compressed stream are reported, as a `.trailingData` entry
    /// (never a tar path, which is always absolute).
    public static func afterStreamPath(compression: LayerCompression) -> String { "(after \(compression) stream)" }

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
    ///
    /// After the last tar entry comes one `.trailingData` pseudo-entry if anything but zeros follows the
    /// end-of-archive marker (the zeros are tar padding, and cannot be part of a secret), then another if
    /// the blob has bytes after its compressed stream (which `finish()` then calls corruption).
    public func next() throws -> LayerEntry? {
        guard let tar else { return nil }
        switch reading {
        case .none, .entry: break
        case .trailing, .endOfTar: return try afterStreamEntry()
        case .afterStream, .done:
            reading = .done
            return nil
        }
        block = UnsafeRawBufferPointer(start: nil, count: 0)
        var e: OpaquePointer?
        let r = StageTimes.measure(.tarWalk) { archive_read_next_header(tar, &e) }
        if r == ARCHIVE_EOF {
            if let entry = try trailingEntry() { return entry }
            return try afterStreamEntry()
        }
        // ARCHIVE_WARN: names that do not convert to the locale's charset; the entry is usable.
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e else { throw failure(tar, "reading an entry header") }
        reading = .entry
        let pathBytes = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
        let path = LayerPath.normalize(pathBytes)
        // The declared size; for a sparse file the full length, though only its stored data is read.
        let size = max(0, archive_entry_size(e))
        var entry: LayerEntry
        if let h = archive_entry_hardlink(e) {
            // libarchive gives a hard link a body when the archive says it has one (pax allows it): the
            // body is data no extractor writes, so it is read like a file's.
            entry = LayerEntry(path: path, kind: .hardlink, size: size, linkTarget: LayerPath.normalize(String(cString: h)))
        } else {
            switch archive_entry_filetype(e) {
            case stowaway_ae_ifreg: entry = LayerEntry(path: path, kind: .file, size: size, mode: UInt32(archive_entry_perm(e)))
            case stowaway_ae_ifdir: entry = LayerEntry(path: path, kind: .directory, size: 0, mode: UInt32(archive_entry_perm(e)))
            case stowaway_ae_iflnk:
                entry = LayerEntry(path: path, kind: .symlink, size: 0, linkTarget: archive_entry_symlink(e).map { String(cString: $0) },
                                   mode: UInt32(archive_entry_perm(e)))
            default: entry = LayerEntry(path: path, kind: .other, size: 0, mode: UInt32(archive_entry_perm(e)))
            }
        }
        // Ids outside 0…UInt32.max (a hostile header) are clamped, never trapped on.
        entry.uid = UInt32(clamping: archive_entry_uid(e))
        entry.gid = UInt32(clamping: archive_entry_gid(e))
        return entry
    }

    /// Reads the current entry's data; 0 at its end. Throws on truncation or corruption.
    ///
    /// Only data stored in the archive is returned: the holes of a sparse file are skipped, not zero-filled
    /// (a 3 KB entry can claim a terabyte), so the bytes of the data segments follow one another.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !buffer.isEmpty else { return 0 }
        switch reading {
        case .none, .endOfTar, .done: return 0
        case .entry:
            while block.isEmpty {
                var p: UnsafeRawPointer?
                var n = 0
                var offset: Int64 = 0
                let r = StageTimes.measure(.tarWalk) { archive_read_data_block(tar, &p, &n, &offset) }
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
            // `block` points into the stream's buffer, valid until the next pullDecompressed().
            while block.isEmpty {
                guard let next = try pullDecompressed() else { return 0 }
                block = next
            }
            return take(into: buffer)
        case .afterStream:
            while block.isEmpty {
                guard let next = try stream.nextTrailingBlock() else { return 0 }
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
    /// are the last `handed - consumed` bytes handed to it, kept by `TarBox.remember`. Then the stream
    /// carries on from where the tar reader left it.
    private func trailingEntry() throws -> LayerEntry? {
        reading = .endOfTar
        let consumed = archive_filter_bytes(tar, -1)
        let handed = tarBox.handed
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

    /// The next block of the uncompressed stream past what the tar reader took (the stream hashes it into
    /// the diffID); nil at its end. Valid until the next call.
    private func pullDecompressed() throws -> UnsafeRawBufferPointer? {
        do { return try stream.nextTarBlock() } catch { throw tarBox.error ?? error }
    }

    /// After the tar stream: the blob's bytes past the end of its compressed stream, offered once as a
    /// `.trailingData` entry so a secret hidden there is reported; `finish()` then calls the layer corrupt.
    private func afterStreamEntry() throws -> LayerEntry? {
        reading = .done
        block = UnsafeRawBufferPointer(start: nil, count: 0)
        let found: Bool
        do { found = try stream.hasTrailingData() } catch { throw tarBox.error ?? error }
        guard found else { return nil }
        reading = .afterStream
        return LayerEntry(path: Self.afterStreamPath(compression: stream.compression), kind: .trailingData, size: 0)
    }

    /// Reads what is left of the stream and checks for trailing data, then digests and size.
    @discardableResult
    public func finish() throws -> Digests {
        precondition(!finished, "finish() called twice")
        finished = true
        reading = .done
        block = UnsafeRawBufferPointer(start: nil, count: 0)
        // Tar end-of-archive padding and anything after it still count towards the diffID, and trailing
        // bytes towards the blob digest: the producer gets to the end of the blob.
        do { try stream.drain() } catch { throw tarBox.error ?? error }
        if stream.trailingBytes > 0 {
            throw LayerError.corrupt(layer: name, reason: "trailing data after the \(stream.compression) stream (\(stream.trailingBytes) bytes)")
        }
        let diffID = stream.diffID.finalize()
        let plain = stream.compression == .none
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

    /// The most specific error: a source failure (I/O) wins over libarchive's own message.
    private func failure(_ a: OpaquePointer?, _ doing: String) -> Error {
        if let e = tarBox.error { return e }
        let message = a.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return LayerError.corrupt(layer: name, reason: "\(message) (while \(doing))")
    }
}

/// The read callback's context: the decompressed stream, the error it threw, if any, and what was handed
/// to the tar reader.
private final class TarBox {
    let stream: TarStream
    var error: Error?
    /// Bytes handed to the tar reader.
    var handed: Int64 = 0
    /// The last block handed to the tar reader (still valid while the tar reader has not asked for more)
    /// and a copy of the bytes handed before it, so what the tar reader pulled but never consumed can be
    /// recovered at its end.
    private var last = UnsafeRawBufferPointer(start: nil, count: 0)
    private var before: [UInt8] = []
    /// The tar reader leaves at most a header's worth of a previous block unconsumed (its copy buffer);
    /// a generous multiple of that.
    private let keep = 8192

    init(stream: TarStream) { self.stream = stream }

    func remember(_ block: UnsafeRawBufferPointer) {
        if !last.isEmpty {
            before.append(contentsOf: last.suffix(keep))
            if before.count > keep { before.removeFirst(before.count - keep) }
        }
        last = block
        handed += Int64(block.count)
    }

    /// The last `count` bytes handed to the tar reader, or nil if they are no longer known.
    func lastBytes(_ count: Int) -> [UInt8]? {
        guard count > 0 else { return [] }
        if count <= last.count { return Array(last.suffix(count)) }
        guard count - last.count <= before.count else { return nil }
        return Array(before.suffix(count - last.count)) + Array(last)
    }
}

private func tarRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<TarBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        guard let block = try box.stream.nextTarBlock() else { return 0 }
        box.remember(block)
        out?.pointee = block.baseAddress
        return block.count
    } catch {
        box.error = error
        stowaway_archive_set_error(a, "\(error)")
        return -1
    }
}
