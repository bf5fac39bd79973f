import CArchive
import CISAL
#if !STOWAWAY_FUZZING
import Core
#endif
import Foundation

/// The kinds of archive the walk opens, told by their first bytes (never by name).
public enum ArchiveKind: String, Sendable {
    case zip, tar, gzip, zstd, xz, bzip2

    /// Bytes `sniff` wants to see when the file has them.
    public static let sniffLength = 512

    /// The kind the bytes start like, or nil.
    public static func sniff(_ b: UnsafeRawBufferPointer) -> ArchiveKind? {
        func starts(_ m: [UInt8], at offset: Int = 0) -> Bool {
            guard b.count >= offset + m.count else { return false }
            for (i, x) in m.enumerated() where b[offset + i] != x { return false }
            return true
        }
        // A local file header: jar, war, ear, whl, egg, nupkg, apk, aar, ipa, xpi all start so.
        if starts([0x50, 0x4B, 0x03, 0x04]) { return .zip }
        if starts([0x1F, 0x8B, 0x08]) { return .gzip }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        // "BZh", the block size, then the first block's magic (the digits of pi): text that starts with BZh is not one.
        if starts(Array("BZh".utf8)), b.count >= 10, (0x31...0x39).contains(b[3]), starts([0x31, 0x41, 0x59, 0x26, 0x53, 0x59], at: 4) {
            return .bzip2
        }
        if starts(Array("ustar".utf8), at: 257) { return .tar }
        return nil
    }
}

/// Walks a file of a layer and, recursively, the archives it is or holds (zip family, tar, and tar or lone
/// files compressed with gzip, zstd, xz or bzip2), handing every file's bytes to an `ArchiveVisitor`.
///
/// Streamed formats are read by libarchive as their bytes arrive. A zip is read through its central directory
/// (what the JVM and Python's zipimport read; the local headers alone miss members and can lie), so its bytes
/// are kept first: in memory within a process-wide budget (`SpillBuffer.memoryBudget`), then in a temporary
/// file unlinked as soon as it is made, never more than `maxBytesPerFile`. Every limit of `ArchiveLimits`
/// reached and every archive that cannot be read becomes a note; only a failure of the layer itself (the
/// pull at depth 0) or of the visitor is thrown.
public final class ArchiveWalker {
    public let limits: ArchiveLimits
    /// false: files are handed over as bytes, no archive is opened.
    public let enabled: Bool
    /// Whether the archive at a chain path is worth opening (not when every finding inside would be suppressed).
    private let worthOpening: (String) -> Bool

    private let budget: ArchiveBudget?
    private var layerBytes: Int64 = 0
    private var layerStopped = false
    private var fileBytes: Int64 = 0
    private var fileMembers = 0
    private var fileStopped = false
    private var outer = ""
    private weak var visitor: ArchiveVisitor?
    /// Libarchive's blocks are pulled into these, one per archive level (released with the walk).
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    static let blockSize = 256 * 1024

    /// Whether gzip inside files is inflated by ISA-L (false: libarchive's zlib filter, which tests compare it with).
    var nativeGzip = true

    /// A walker for one layer: the per-layer limit counts from here. `worthOpening` is asked about each archive
    /// found (by its chain path) before it is opened; one it refuses is handed over as bytes only.
    /// `budget`, when given, is shared with the walkers of the other layers of the scan (`maxBytesPerImage`).
    public init(limits: ArchiveLimits = ArchiveLimits(), enabled: Bool = true, budget: ArchiveBudget? = nil,
                worthOpening: @escaping (String) -> Bool = { _ in true }) {
        self.limits = limits
        self.budget = budget
        self.enabled = enabled
        self.worthOpening = worthOpening
    }

    /// ISA-L's inflate state and the compressed-side buffer for gzip at each archive level, made once and lent to the
    /// inflater of each file: man page directories hold thousands of small .gz files, and an 85 KB state plus a
    /// 64 KB buffer made and freed for each let glibc's heap grow by fragments (110 MB more for 16,000 of them).
    // Unsafe pointers: allocated here, freed in deinit; lent to one inflater at a time per level, which is gone
    // before the next file of that level starts (walkStream's locals).
    private var gzipWork: [(state: UnsafeMutablePointer<inflate_state>, input: UnsafeMutableRawBufferPointer)] = []

    private func gzipWork(_ depth: Int) -> (state: UnsafeMutablePointer<inflate_state>, input: UnsafeMutableRawBufferPointer) {
        while gzipWork.count <= depth {
            gzipWork.append((.allocate(capacity: 1), .allocate(byteCount: 64 << 10, alignment: 64)))
        }
        return gzipWork[depth]
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        for w in gzipWork {
            w.state.deallocate()
            w.input.deallocate()
        }
    }

    /// Walks one file of the layer whose bytes `pull` gives (0 at its end): its bytes at depth 0, then the members
    /// of any archive it is, deeper. Throws only what `pull` or the visitor threw.
    public func walk(path: String, size: Int64, visitor: ArchiveVisitor,
                     pull: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        self.visitor = visitor
        outer = path
        fileBytes = 0
        fileMembers = 0
        fileStopped = false
        let source = Source(depth: 0, walker: self, pull: { b in
            do { return try pull(b) } catch { throw Passthrough(error: error) }
        })
        do {
            try walkFile(source, path: path, depth: 0, size: size)
        } catch let p as Passthrough {
            throw p.error
        }
    }

    // MARK: the walk

    /// A failure of the layer or of the visitor: carried through libarchive and every level untouched.
    struct Passthrough: Error { var error: Error }
    /// A limit or a read failure that ends the walk of one archive (`scope` identifies it), of the whole file
    /// of the layer (`fileScope`) or of the layer's archives (`layerScope`).
    struct Stop: Error {
        var scope: ObjectIdentifier?
        static let fileScope = Stop(scope: nil)
    }

    private func tell(_ note: ArchiveNote) { visitor?.note(note) }

    private func callVisitor(_ f: (ArchiveVisitor) throws -> Void) throws {
        guard let visitor else { return }
        do { try f(visitor) } catch { throw Passthrough(error: error) }
    }

    func emit(_ chunk: UnsafeRawBufferPointer, depth: Int) throws {
        try callVisitor { try $0.bytes(chunk, depth: depth) }
    }

    private func buffer(_ depth: Int) -> UnsafeMutableRawBufferPointer {
        while buffers.count <= depth { buffers.append(.allocate(byteCount: Self.blockSize, alignment: 16)) }
        return buffers[depth]
    }

    private func walkFile(_ source: Source, path: String, depth: Int, size: Int64) throws {
        try callVisitor { try $0.begin(path: path, outer: outer, depth: depth, size: size) }
        var bytesEnded = false
        do {
            var kind: ArchiveKind?
            var script = false
            if enabled && !layerStopped && !fileStopped {
                try source.fillPeek()
                kind = source.peek.withUnsafeBytes { ArchiveKind.sniff($0) }
                if kind != nil && !worthOpening(path) { kind = nil }
                if kind != nil && depth >= limits.maxDepth {
                    tell(ArchiveNote(kind: .limit, path: path, reason: "archive nested deeper than \(limits.maxDepth) levels: scanned as bytes, not opened"))
                    kind = nil
                }
                // An executable jar is a launch script with a zip after it: only its end says so.
                script = kind == nil && depth < limits.maxDepth && source.peek.starts(with: [0x23, 0x21]) && size <= Self.scriptLimit
                    && worthOpening(path)
            }
            switch kind {
            case nil where script:
                let spill = try keep(source, path: path, depth: depth, quiet: true)
                bytesEnded = true
                try callVisitor { try $0.bytesEnded(depth: depth) }
                if let spill, spill.endsLikeZip() { try walkZip(spill, path: path, depth: depth) }
            case nil:
                try source.drain(into: buffer(depth))
                bytesEnded = true
                try callVisitor { try $0.bytesEnded(depth: depth) }
            case .zip?:
                let spill = try keep(source, path: path, depth: depth)
                bytesEnded = true
                try callVisitor { try $0.bytesEnded(depth: depth) }
                if let spill { try walkZip(spill, path: path, depth: depth) }
            case let k?:
                try walkStream(source, kind: k, path: path, depth: depth)
                try source.drain(into: buffer(depth))
                bytesEnded = true
                try callVisitor { try $0.bytesEnded(depth: depth) }
            }
        } catch let e where !(e is Passthrough) {
            // A stop or failure of an enclosing archive: this file ends here, with what was read of it.
            if !bytesEnded { try callVisitor { try $0.bytesEnded(depth: depth) } }
            try callVisitor { try $0.end(depth: depth) }
            throw e
        }
        try callVisitor { try $0.end(depth: depth) }
    }

    /// Files starting `#!` up to this size are kept, in case a zip follows the script (an executable jar).
    static let scriptLimit: Int64 = 256 << 20

    /// Reads a zip's bytes whole (handing them on as they pass) into a spill buffer; nil when it is over the
    /// size limit, which is noted unless `quiet` (a script that may not hold a zip at all).
    private func keep(_ source: Source, path: String, depth: Int, quiet: Bool = false) throws -> SpillBuffer? {
        var spill: SpillBuffer? = SpillBuffer(limit: quiet ? min(Self.scriptLimit, limits.maxBytesPerFile) : limits.maxBytesPerFile)
        let b = buffer(depth)
        while true {
            let n = try source.read(into: b)
            if n == 0 { break }
            guard let s = spill else { continue }
            let fits: Bool
            do { fits = try s.append(UnsafeRawBufferPointer(rebasing: b[..<n])) } catch {
                tell(ArchiveNote(kind: .unreadable, path: path, reason: "cannot keep the zip to read it: \(error)"))
                spill = nil
                continue
            }
            if !fits {
                if !quiet { tell(ArchiveNote(kind: .limit, path: path,
                                 reason: "zip larger than \(limits.maxBytesPerFile) bytes: scanned as bytes, its members not opened")) }
                spill = nil
            }
        }
        return spill
    }

    /// false: every zip goes through libarchive (tests compare the two readers).
    var fastZips = true

    /// The members of a zip our own reader took (`ZipReader`), walked exactly as `members` walks libarchive's.
    private func walkZip(_ zip: ZipReader, path: String, depth: Int) throws {
        let archive = Archive(path: path) { zip.bytesRead }
        for r in zip.rejected {
            tell(ArchiveNote(kind: .unreadable, path: path + "!" + LayerPath.normalize(r.name), reason: r.reason))
        }
        do {
            for (index, entry) in zip.entries.enumerated() where entry.isFile {
                fileMembers += 1
                if fileMembers > limits.maxMembersPerFile {
                    fileStopped = true
                    tell(ArchiveNote(kind: .limit, path: path, reason: "more than \(limits.maxMembersPerFile) members in \(outer): the rest not scanned"))
                    throw Stop.fileScope
                }
                let memberPath = path + "!" + LayerPath.normalize(entry.name)
                let stream = zip.open(index)
                let member = Source(depth: depth + 1, walker: self) { [unowned self] b in
                    let n: Int
                    do { n = try stream.read(into: b) } catch let e as ZipReader.MemberError {
                        throw MemberFailed(archive: ObjectIdentifier(archive), member: memberPath, reason: e.reason, fatal: e.fatal)
                    }
                    try account(n, archive: archive)
                    return n
                }
                do {
                    try walkFile(member, path: memberPath, depth: depth + 1, size: entry.size)
                } catch let m as MemberFailed where m.archive == ObjectIdentifier(archive) {
                    tell(ArchiveNote(kind: .unreadable, path: m.member, reason: m.reason))
                    if m.fatal { break }
                }
            }
        } catch let s as Stop where s.scope == ObjectIdentifier(archive) || (depth == 0 && s.scope == nil) {
            // Noted where it was reached, as in `members`.
        }
    }

    private func walkZip(_ spill: SpillBuffer, path: String, depth: Int) throws {
        // Before any reader reads the directory (libarchive's keeps all of it in memory, whatever its size).
        switch ZipDirectory.survey(spill, limit: limits.maxMembersPerFile) {
        case .plain: break
        case let .tooManyMembers(declared, counted, directory):
            // Only the first records are planned (never handed to libarchive, which would read the whole directory).
            let says = counted > limits.maxMembersPerFile ? "holds more than \(limits.maxMembersPerFile) entries" : "declares \(declared) entries"
            guard let reader = ZipReader(spill: spill, lenient: true, directory: directory) else {
                tell(ArchiveNote(kind: .limit, path: path,
                                 reason: "zip \(says), over the member limit of \(limits.maxMembersPerFile) (--archive-max-members): scanned as bytes, its members not opened"))
                return
            }
            tell(ArchiveNote(kind: .limit, path: path,
                             reason: "zip \(says), over the member limit of \(limits.maxMembersPerFile) (--archive-max-members): only its first \(limits.maxMembersPerFile) directory entries read"))
            return try walkZip(reader, path: path, depth: depth)
        case let .overlapping(member, inside):
            tell(ArchiveNote(kind: .unreadable, path: path,
                             reason: "hostile zip: member \"\(member)\" starts inside the bytes of \"\(inside)\" (an overlapping zip bomb): scanned as bytes, its members not opened"))
            return
        }
        if fastZips, let reader = ZipReader(spill: spill) { return try walkZip(reader, path: path, depth: depth) }
        if !SeekableZip.readsDirectory(spill), let reader = ZipReader(spill: spill, lenient: true) {
            // libarchive gives up on the whole directory for one bad entry (a zip64 size past 2^63, a malformed AES
            // field) where unzip and Python read the others: each bad entry is a note, the others are scanned.
            return try walkZip(reader, path: path, depth: depth)
        }
        guard let zip = SeekableZip(spill: spill) else {
            throw Passthrough(error: LayerError.archive(call: "archive_read_new", reason: "out of memory"))
        }
        let archive = Archive(path: path) { zip.handed }
        try members(zip.archive, archive: archive, error: { nil }, open: zip.opened, path: path, depth: depth)
    }

    private func walkStream(_ source: Source, kind: ArchiveKind, path: String, depth: Int) throws {
        let archive = Archive(path: path) { source.consumed }
        guard kind != .tar else {
            return try walkTar(archive: archive, path: path, depth: depth) { try source.read(into: $0) }
        }
        // Compressed: the decompressed bytes' first block says tar or lone file (see `InflatedStream`).
        let inflated: PeekedStream
        do {
            inflated = PeekedStream(try inflate(source, kind: kind, path: path))
            try inflated.peek(512)
        } catch let f as InflateFailed {
            tell(ArchiveNote(kind: f.limit ? .limit : .unreadable, path: path, reason: f.reason))
            return
        } catch let e as LayerError {
            // A decompressor that could not start (a bad gzip header, no memory): this file is unreadable, not the layer.
            tell(ArchiveNote(kind: .unreadable, path: path, reason: "\(e)"))
            return
        }
        if inflated.startsWithTarHeader {
            return try walkTar(archive: archive, path: path, depth: depth) { b in
                do { return try inflated.read(into: b) } catch let f as InflateFailed { throw TarSourceFailed(reason: f.reason, limit: f.limit) }
            }
        }
        // A lone compressed file is one member: the file's name without its suffix.
        let base = path.split(separator: "/").last.map(String.init) ?? "data"
        let name = [".gz", ".zst", ".xz", ".bz2"].first { base.hasSuffix($0) && base.count > $0.count }
            .map { String(base.dropLast($0.count)) } ?? base
        let memberPath = path + "!" + LayerPath.normalize(name)
        do {
            fileMembers += 1
            if fileMembers > limits.maxMembersPerFile {
                fileStopped = true
                tell(ArchiveNote(kind: .limit, path: path, reason: "more than \(limits.maxMembersPerFile) members in \(outer): the rest not scanned"))
                throw Stop.fileScope
            }
            let member = Source(depth: depth + 1, walker: self) { [unowned self] b in
                let n: Int
                do { n = try inflated.readFull(into: b) } catch let f as InflateFailed {
                    if f.limit { tell(ArchiveNote(kind: .limit, path: path, reason: f.reason)) }
                    throw MemberFailed(archive: ObjectIdentifier(archive), member: memberPath, reason: f.reason, fatal: true, noted: f.limit)
                }
                try account(n, archive: archive)
                return n
            }
            try walkFile(member, path: memberPath, depth: depth + 1, size: 0)
        } catch let m as MemberFailed where m.archive == ObjectIdentifier(archive) {
            if !m.noted { tell(ArchiveNote(kind: .unreadable, path: m.member, reason: m.reason)) }
        } catch let s as Stop where s.scope == ObjectIdentifier(archive) || (depth == 0 && s.scope == nil) {
            // Noted where it was reached, as in `members`.
        }
    }

    /// The decompressor of a compressed file's bytes: gzip by ISA-L (as layers are, about three times libarchive's
    /// zlib filter), xz by liblzma under `maxDecoderMemory`, zstd and bzip2 by libarchive's filters.
    private func inflate(_ source: Source, kind: ArchiveKind, path: String) throws -> InflatedStream {
        switch kind {
        case .gzip where nativeGzip:
            // Lent per level: one file at a time is inflated at each depth, and the inflater is gone before the next.
            let work = gzipWork(source.depth)
            let input = BlobInput(source: WalkedBytes(source), buffer: work.input)
            input.hashing = false
            return GzipInflatedStream(try GzipInflater(input: input, layer: path, deferErrors: true, state: work.state))
        case .xz:
            return try XzInflatedStream(memoryLimit: limits.maxDecoderMemory) { try source.read(into: $0) }
        default:
            return try FilterInflatedStream(kind: kind) { try source.read(into: $0) }
        }
    }

    /// The tar bytes' source failed on bad compressed data (or a decoder limit): the tar is unreadable, not the layer.
    struct TarSourceFailed: Error {
        var reason: String
        var limit: Bool
    }

    /// Walks a tar whose bytes `read` gives (the file's own, or its decompressed bytes) with libarchive's tar reader.
    private func walkTar(archive: Archive, path: String, depth: Int, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        guard let a = archive_read_new() else { throw Passthrough(error: LayerError.archive(call: "archive_read_new", reason: "out of memory")) }
        defer { archive_read_free(a) }
        archive_read_support_format_tar(a)
        archive_read_support_format_empty(a)
        let box = StreamBox(read: read)
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        let scope = ObjectIdentifier(archive)
        // A decoder limit ends this tar where it was reached: noted once as a limit, not as corrupt data.
        let sourceError: () -> Error? = { [unowned self] in
            guard let limit = box.limit else { return box.error }
            if !box.limitNoted {
                box.limitNoted = true
                tell(ArchiveNote(kind: .limit, path: path, reason: limit))
            }
            return Stop(scope: scope)
        }
        try withExtendedLifetime(box) {
            try members(a, archive: archive, error: sourceError, open: archive_read_open(a, ctx, nil, streamRead, nil),
                        path: path, depth: depth)
        }
    }

    /// Walks the members of an open archive. The archive's own stop or read failure is noted and ends it;
    /// anything else is thrown on.
    private func members(_ a: OpaquePointer, archive: Archive, error sourceError: @escaping () -> Error?, open: Int32, path: String,
                         depth: Int) throws {
        func failure(_ doing: String) -> Error {
            if let e = sourceError() { return e }
            return Failed(archive: ObjectIdentifier(archive), reason: "\(message(a)) (while \(doing))")
        }
        do {
            if open != ARCHIVE_OK && open != ARCHIVE_WARN { throw failure("opening it") }
            while true {
                var e: OpaquePointer?
                let r = archive_read_next_header(a, &e)
                if r == ARCHIVE_EOF { break }
                guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let e else { throw failure("reading a member header") }
                let type = archive_entry_filetype(e)
                let size = archive_entry_size_is_set(e) != 0 ? max(0, archive_entry_size(e)) : 0
                guard type == stowaway_ae_ifreg || (type != stowaway_ae_ifdir && size > 0) else { continue }
                fileMembers += 1
                if fileMembers > limits.maxMembersPerFile {
                    fileStopped = true
                    tell(ArchiveNote(kind: .limit, path: path, reason: "more than \(limits.maxMembersPerFile) members in \(outer): the rest not scanned"))
                    throw Stop.fileScope
                }
                let name = archive_entry_pathname(e).map { String(cString: $0) } ?? ""
                let memberPath = path + "!" + LayerPath.normalize(name)
                let member = Source(depth: depth + 1, walker: self) { [unowned self] b in
                    let n = archive_read_data(a, b.baseAddress, b.count)
                    if n < 0 {
                        if let e = sourceError() { throw e }
                        throw MemberFailed(archive: ObjectIdentifier(archive), member: memberPath, reason: message(a), fatal: n == Int(ARCHIVE_FATAL))
                    }
                    try account(n, archive: archive)
                    return n
                }
                do {
                    try walkFile(member, path: memberPath, depth: depth + 1, size: size)
                } catch let m as MemberFailed where m.archive == ObjectIdentifier(archive) {
                    tell(ArchiveNote(kind: .unreadable, path: m.member, reason: m.reason))
                    if m.fatal { break }
                }
            }
        } catch let s as Stop where s.scope == ObjectIdentifier(archive) || (depth == 0 && s.scope == nil) {
            // Noted where it was reached. At depth 0 a stop of the whole file ends here: its bytes are still read.
        } catch let f as Failed where f.archive == ObjectIdentifier(archive) {
            tell(ArchiveNote(kind: .unreadable, path: path, reason: f.reason))
        }
    }

    /// Counts bytes a member gave against the limits; throws the stop of what a limit ends.
    private func account(_ n: Int, archive: Archive) throws {
        let n64 = Int64(n)
        archive.produced += n64
        fileBytes += n64
        layerBytes += n64
        if layerBytes > limits.maxBytesPerLayer {
            layerStopped = true
            fileStopped = true
            tell(ArchiveNote(kind: .limit, path: archive.path,
                             reason: "more than \(limits.maxBytesPerLayer) bytes read from archives in this layer: archives after this one scanned as bytes only"))
            throw Stop.fileScope
        }
        if let budget, !budget.take(n64) {
            layerStopped = true
            fileStopped = true
            tell(ArchiveNote(kind: .limit, path: archive.path,
                             reason: "more than \(budget.limit) bytes read from archives in this image, every layer together: archives after this one scanned as bytes only"))
            throw Stop.fileScope
        }
        if fileBytes > limits.maxBytesPerFile {
            fileStopped = true
            tell(ArchiveNote(kind: .limit, path: archive.path,
                             reason: "more than \(limits.maxBytesPerFile) bytes read from the archives of \(outer): the rest not scanned"))
            throw Stop.fileScope
        }
        if limits.maxRatio > 0, archive.produced > ArchiveLimits.ratioGrace {
            let stored = max(1, archive.consumed())
            if archive.produced / stored > Int64(limits.maxRatio) {
                tell(ArchiveNote(kind: .limit, path: archive.path,
                                 reason: "compression ratio over \(limits.maxRatio):1 (\(archive.produced) bytes from \(stored)): the rest not scanned"))
                throw Stop(scope: ObjectIdentifier(archive))
            }
        }
    }

    private func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
    }

    /// One archive being walked: what its members gave, and how many of its own bytes were read to give it.
    final class Archive {
        let path: String
        let consumed: () -> Int64
        var produced: Int64 = 0
        init(path: String, consumed: @escaping () -> Int64) {
            self.path = path
            self.consumed = consumed
        }
    }

    struct Failed: Error {
        var archive: ObjectIdentifier
        var reason: String
    }

    struct MemberFailed: Error {
        var archive: ObjectIdentifier
        var member: String
        var reason: String
        /// libarchive cannot go on to the next member.
        var fatal: Bool
        /// Already noted (as a limit) where it happened.
        var noted = false
    }

    /// The bytes of one file at one depth: a few first bytes kept to sniff, then the rest as pulled; every byte
    /// read is handed to the visitor on its way.
    final class Source {
        let depth: Int
        unowned let walker: ArchiveWalker
        let pull: (UnsafeMutableRawBufferPointer) throws -> Int
        /// Bytes of the file read so far (what an archive at this depth consumed).
        private(set) var consumed: Int64 = 0
        private(set) var peek: [UInt8] = []
        private var peekOffset = 0
        private var peeked = false
        private var ended = false

        init(depth: Int, walker: ArchiveWalker, pull: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
            self.depth = depth
            self.walker = walker
            self.pull = pull
        }

        func fillPeek() throws {
            guard !peeked else { return }
            peeked = true
            var reachedEnd = false
            peek = try [UInt8](unsafeUninitializedCapacity: ArchiveKind.sniffLength) { b, count in
                let raw = UnsafeMutableRawBufferPointer(b)
                while count < raw.count {
                    let n = try pull(UnsafeMutableRawBufferPointer(rebasing: raw[count...]))
                    if n == 0 {
                        reachedEnd = true
                        break
                    }
                    count += n
                }
            }
            if reachedEnd { ended = true }
        }

        func read(into b: UnsafeMutableRawBufferPointer) throws -> Int {
            var n = 0
            if peekOffset < peek.count {
                n = min(b.count, peek.count - peekOffset)
                peek.withUnsafeBytes { b.baseAddress!.copyMemory(from: $0.baseAddress! + peekOffset, byteCount: n) }
                peekOffset += n
            } else if !ended {
                n = try pull(b)
                if n == 0 { ended = true }
            }
            if n == 0 { return 0 }
            consumed += Int64(n)
            try walker.emit(UnsafeRawBufferPointer(rebasing: b[..<n]), depth: depth)
            return n
        }

        func drain(into b: UnsafeMutableRawBufferPointer) throws {
            while try read(into: b) > 0 {}
        }
    }
}

/// A file's bytes as the `ByteSource` a `BlobInput` pulls from; every byte still reaches the visitor on its way.
private final class WalkedBytes: ByteSource {
    let source: ArchiveWalker.Source
    init(_ source: ArchiveWalker.Source) { self.source = source }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try source.read(into: buffer) }
}

/// The context of a tar's read callback: where its bytes come from, and the error that threw (a decoder limit that
/// stopped it is kept apart, to be noted as a limit rather than as corrupt data).
private final class StreamBox {
    let read: (UnsafeMutableRawBufferPointer) throws -> Int
    // Unsafe buffer: allocated here, freed in deinit; libarchive reads it only until the next callback, and the
    // box outlives the archive handle (freed first, in the same scope).
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveWalker.blockSize, alignment: 16)
    var error: Error?
    var limit: String?
    var limitNoted = false
    init(read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) { self.read = read }
    deinit { buffer.deallocate() }
}

private func streamRead(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
    let box = Unmanaged<StreamBox>.fromOpaque(ctx!).takeUnretainedValue()
    do {
        let n = try box.read(box.buffer)
        out?.pointee = UnsafeRawPointer(box.buffer.baseAddress)
        return n
    } catch let f as ArchiveWalker.TarSourceFailed {
        // The compressed data itself is bad: this archive is unreadable (noted), not the layer.
        if f.limit { box.limit = f.reason }
        stowaway_archive_set_error(a, f.reason)
        return -1
    } catch {
        // The file's own bytes could not be read (the layer failed, or a limit stopped it): passed on as it is.
        box.error = error
        stowaway_archive_set_error(a, "the archive's bytes could not be read")
        return -1
    }
}
