#if canImport(Glibc)
import Core
import Glibc
#endif
import Foundation

/// `dir:PATH`: a directory tree (a build context, an unpacked root filesystem) read as an image of one layer.
///
/// The tree is listed once with `lstat`, never following a symbolic link: a link becomes a link entry of the
/// layer, as it would in an image, so nothing outside the tree is read however the links point. Only regular
/// files are opened (`O_NOFOLLOW`, checked again with `fstat`); FIFOs, sockets and devices are listed but not
/// read. The layer is a tar made on the fly while the scanner reads it (nothing is written); a file that
/// changes size meanwhile is cut or zero-padded to the size listed, so the tar stays well formed. The
/// layer has no real diffID: the config names it by a digest of the listing, and nothing checks it.
public struct DirectorySource: ImageSource {
    /// The directory as given.
    public let root: String
    /// What the user typed (`dir:PATH`).
    public let input: String

    /// A listing over this many entries is refused (each costs a few hundred bytes of memory).
    public static let maxEntries = 1_000_000
    /// Deeper trees are refused (a bind mount of a parent makes an endless one).
    public static let maxDepth = 256

    public var displayName: String { input }

    public init(root: String, input: String) {
        self.root = root
        self.input = input
    }

    /// One entry of the listing, in the order the layer holds them.
    struct Entry: Sendable {
        /// Relative to the root, `/`-separated.
        var path: String
        var type: UInt8
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var mtime: Int
        var linkTarget: String?
    }

    public func roots() async throws -> [ImageRoot] {
        let entries = try list()
        let listingDigest = Digest.sha256(of: Data(entries.map { "\($0.path)\t\($0.size)\t\($0.mtime)\n" }.joined().utf8))
        let config: [String: Any] = [
            "architecture": PlatformChoice.hostPlatform.architecture, "os": "linux", "config": [String: Any](),
            "rootfs": ["type": "layers", "diff_ids": [listingDigest.description]],
            "history": [["created_by": "\(input): the directory as one layer"]],
        ]
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        let tar = DirectoryTar(root: root, entries: entries)
        let blob = StreamedBlob(displayName: input, length: tar.length) { DirectoryTarSource(tar) }
        let saved = SavedImage(config: data, configDigest: Digest.sha256(of: data),
                               layers: [.init(blob: .stream(blob), namedDigest: nil, size: tar.length)], verifiesDiffIDs: false)
        return [ImageRoot(.saved(saved), name: input)]
    }

    public func document(_ d: Descriptor, kind: DocumentKind) async throws -> Data {
        throw OCIError.missingBlob(image: input, name: "\(kind.rawValue) \(d.digest) (a directory holds no documents)")
    }

    public func layerBlob(_ d: Descriptor) throws -> LayerBlob {
        throw OCIError.missingBlob(image: input, name: "layer \(d.digest) (a directory is one layer)")
    }

    /// The relative paths of the regular files whose names say they are build files: Dockerfiles,
    /// Containerfiles, compose files and shell scripts or Makefiles that may pass `--build-arg`.
    public func buildFiles() throws -> [String] {
        try list().filter { $0.type == UInt8(ascii: "0") && BuildFileCheck.isBuildFile($0.path) }.map(\.path)
    }

    /// Lists the tree depth-first in name order; throws `OCIError` naming the input for a missing or
    /// unreadable root and for a tree over the bounds.
    func list() throws -> [Entry] {
        var st = stat()
        guard stat(root, &st) == 0 else {
            if errno == ENOENT { throw OCIError.notFound(path: root) }
            throw OCIError.io(path: root, reason: String(cString: strerror(errno)))
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw OCIError.notAnImage(path: input, reason: "not a directory") }
        var out: [Entry] = []
        try walk(root, relative: "", depth: 0, into: &out)
        return out
    }

    private func walk(_ dir: String, relative: String, depth: Int, into out: inout [Entry]) throws {
        guard depth <= Self.maxDepth else {
            throw OCIError.unsupported(what: input, reason: "\(relative) is more than \(Self.maxDepth) directories deep")
        }
        guard let handle = opendir(dir) else {
            throw OCIError.io(path: dir, reason: String(cString: strerror(errno)))
        }
        var names: [String] = []
        while let e = readdir(handle) {
            // Safe: `d_name` is a NUL-terminated array inside the `dirent` that `readdir` returned, valid until
            // the next `readdir` on this handle; it is copied out at once.
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(handle)
        for name in names.sorted() {
            let host = dir + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(host, &st) == 0 else {
                if errno == ENOENT { continue } // gone since the listing
                throw OCIError.io(path: host, reason: String(cString: strerror(errno)))
            }
            guard out.count < Self.maxEntries else {
                throw OCIError.unsupported(what: input, reason: "more than \(Self.maxEntries) entries; scan a smaller directory")
            }
            var entry = Entry(path: rel, type: UInt8(ascii: "0"), mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid,
                              size: 0, mtime: st.st_mtim.tv_sec, linkTarget: nil)
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                entry.size = Int64(st.st_size)
                out.append(entry)
            case S_IFDIR:
                entry.type = UInt8(ascii: "5")
                out.append(entry)
                try walk(host, relative: rel, depth: depth + 1, into: &out)
            case S_IFLNK:
                entry.type = UInt8(ascii: "2")
                entry.linkTarget = Self.readLink(host) ?? ""
                out.append(entry)
            default:
                // A FIFO, socket or device: listed as a FIFO entry with no data, never opened (a FIFO would block).
                entry.type = UInt8(ascii: "6")
                out.append(entry)
            }
        }
    }

    private static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The layer of a directory: tar headers made from the listing, file data read as the tar is read.
struct DirectoryTar: Sendable {
    let root: String
    let entries: [DirectorySource.Entry]
    /// The tar's exact length: every header, data padded to 512, and the two zero blocks at the end.
    let length: Int64

    init(root: String, entries: [DirectorySource.Entry]) {
        self.root = root
        self.entries = entries
        var n: Int64 = 1024
        for e in entries {
            n += Int64(Self.header(e).count)
            n += e.type == UInt8(ascii: "0") ? (e.size + 511) / 512 * 512 : 0
        }
        length = n
    }

    /// The ustar header of an entry, preceded by a PAX header when the path, link or size does not fit.
    static func header(_ e: DirectorySource.Entry) -> [UInt8] {
        let name = e.type == UInt8(ascii: "5") ? e.path + "/" : e.path
        let size = e.type == UInt8(ascii: "0") ? e.size : 0
        var pax: [(String, String)] = []
        if name.utf8.count > 100 { pax.append(("path", name)) }
        if let l = e.linkTarget, l.utf8.count > 100 { pax.append(("linkpath", l)) }
        if size > 0o77777777777 { pax.append(("size", String(size))) }
        var out: [UInt8] = []
        if !pax.isEmpty {
            var body: [UInt8] = []
            for (k, v) in pax {
                let rest = " \(k)=\(v)\n".utf8.count
                var len = rest + 1
                while String(len).utf8.count + rest != len { len = String(len).utf8.count + rest }
                body += Array("\(len) \(k)=\(v)\n".utf8)
            }
            out += block(name: "PaxHeader", type: UInt8(ascii: "x"), mode: 0o644, uid: 0, gid: 0, size: Int64(body.count), mtime: 0, link: "")
            out += body + [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
        }
        out += block(name: name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: min(size, 0o77777777777), mtime: e.mtime,
                     link: e.linkTarget ?? "")
        return out
    }

    private static func block(name: String, type: UInt8, mode: UInt32, uid: UInt32, gid: UInt32, size: Int64, mtime: Int, link: String) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, at: Int, width: Int) {
            for (i, b) in s.utf8.prefix(width).enumerated() { h[at + i] = b }
        }
        func octal(_ v: Int64, at: Int, width: Int) {
            let digits = String(max(0, v), radix: 8)
            let text = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            put(String(text.suffix(width - 1)), at: at, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(Int64(min(uid, 0o7777777)), at: 108, width: 8)
        octal(Int64(min(gid, 0o7777777)), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(Int64(max(0, min(mtime, 0o77777777777))), at: 136, width: 12)
        h[156] = type
        put(link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 7)
        h[155] = 0x20
        return h
    }
}

/// Reads a `DirectoryTar` from its start: each entry's header, then, for a regular file, its data.
final class DirectoryTarSource: ByteSource {
    private let tar: DirectoryTar
    private var next = 0
    /// Bytes made but not yet handed out (a header, or padding).
    private var pending: [UInt8] = []
    private var pendingAt = 0
    /// The file being read, and how much of its listed size is left.
    private var fd: Int32 = -1
    private var left: Int64 = 0
    private var padding = 0
    private var finished = false

    init(_ tar: DirectoryTar) { self.tar = tar }

    deinit { closeFile() }

    func close() { closeFile(); finished = true; pending = []; next = tar.entries.count }

    private func closeFile() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if pendingAt < pending.count {
                let n = min(buffer.count, pending.count - pendingAt)
                // Safe: `n` is at most the buffer's length and what is left of `pending`.
                pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pendingAt, byteCount: n) }
                pendingAt += n
                return n
            }
            if left > 0 {
                let want = Int(min(Int64(buffer.count), left))
                var n = 0
                if fd >= 0 {
                    n = Glibc.read(fd, buffer.baseAddress, want)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { n = 0; closeFile() }
                }
                if n == 0 {
                    // The file shrank (or could not be opened): zeros keep the listed size, so the tar stays whole.
                    closeFile()
                    buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: want)
                    n = want
                }
                left -= Int64(n)
                if left == 0 { closeFile() }
                return n
            }
            if padding > 0 {
                pending = [UInt8](repeating: 0, count: padding)
                pendingAt = 0
                padding = 0
                continue
            }
            guard next < tar.entries.count else {
                if finished { return 0 }
                finished = true
                pending = [UInt8](repeating: 0, count: 1024)
                pendingAt = 0
                continue
            }
            let e = tar.entries[next]
            next += 1
            pending = DirectoryTar.header(e)
            pendingAt = 0
            if e.type == UInt8(ascii: "0") && e.size > 0 {
                left = e.size
                padding = Int((512 - e.size % 512) % 512)
                fd = open(tar.root + "/" + e.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
                var st = stat()
                // Replaced by something else since the listing (a FIFO, a link): read nothing of it.
                if fd >= 0 && (fstat(fd, &st) != 0 || st.st_mode & S_IFMT != S_IFREG) { closeFile() }
            }
        }
    }
}
