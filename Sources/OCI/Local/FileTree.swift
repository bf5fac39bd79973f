#if !STOWAWAY_FUZZING
import Core
#endif
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Named files of an image container: a directory (OCI layout, extracted save) or an uncompressed tarball.
///
/// Paths come from the image itself (manifest.json names layers and configs), so every lookup is checked:
/// a path that leaves the image, or reaches a file through a symbolic link that does, is refused rather
/// than read.
public protocol FileTree: Sendable {
    /// The path the user gave.
    var displayName: String { get }
    /// The file at a relative `/`-separated path, nil when absent; throws `OCIError.unsafePath` for a path
    /// that would leave the image or is not a plain file.
    func slice(_ path: String) throws -> FileSlice?
    /// A file to stream as a layer, and its length; nil when absent. By default the file's slice.
    func layer(_ path: String) throws -> (blob: LayerBlob, length: Int64)?
    /// A small file read whole, or `missingBlob` naming it as `what`. By default the file's slice, read.
    func readFile(_ path: String, what: String?) throws -> Data
}

extension FileTree {
    public func layer(_ path: String) throws -> (blob: LayerBlob, length: Int64)? {
        try slice(path).map { (.file($0), $0.length) }
    }

    public func readFile(_ path: String, what: String?) throws -> Data {
        guard let s = try slice(path) else { throw OCIError.missingBlob(image: displayName, name: what ?? path) }
        return try s.readAll()
    }

    /// Reads a small file, or throws `missingBlob` naming it (`unsafePath` for a path that leaves the image).
    public func read(_ path: String, what: String? = nil) throws -> Data {
        try readFile(path, what: what)
    }

    /// Whether a file is present; throws like `slice`.
    public func contains(_ path: String) throws -> Bool { try slice(path) != nil }
}

/// The rules every path named by an image obeys before it touches the filesystem.
public enum ImagePath {
    /// The components of `path` after resolving `.` and `..`; throws `unsafePath` when it is empty, absolute,
    /// holds a NUL, or climbs above the image root.
    public static func components(_ path: String, image: String) throws -> [String] {
        guard !path.isEmpty else { throw OCIError.unsafePath(image: image, path: path, reason: "empty path") }
        guard !path.hasPrefix("/") else {
            throw OCIError.unsafePath(image: image, path: path, reason: "absolute path; paths in an image are relative to it")
        }
        guard !path.utf8.contains(0) else { throw OCIError.unsafePath(image: image, path: path, reason: "NUL in path") }
        var parts: [String] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                guard !parts.isEmpty else { throw OCIError.unsafePath(image: image, path: path, reason: "leaves the image") }
                parts.removeLast()
                continue
            }
            parts.append(String(c))
        }
        guard !parts.isEmpty else { throw OCIError.unsafePath(image: image, path: path, reason: "names the image root") }
        return parts
    }
}

/// A directory on disk.
///
/// Each path is walked one component at a time with `lstat`. Symbolic links are followed only while they
/// stay inside the directory (a legacy `docker save` links repeated `layer.tar`s to one copy); a link
/// anywhere under `blobs/` is refused, since content-addressed blobs are plain files in every writer.
public struct DirectoryTree: FileTree {
    public let root: String
    public var displayName: String { root }
    /// The root with its own symbolic links resolved (the user chose them), or nil if it cannot be.
    private let realRoot: String?

    public init(root: String) {
        self.root = root
        realRoot = Glibc.realpath(root, nil).map { p in
            defer { free(p) }
            return String(cString: p)
        }
    }

    public func slice(_ path: String) throws -> FileSlice? {
        _ = try ImagePath.components(path, image: root)
        guard let realRoot else { throw OCIError.io(path: root, reason: "cannot resolve the directory") }
        // Walk the components as written: `..` after a symbolic link means the link target's parent.
        var pending = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed() as [String]
        var resolved: [String] = []
        var links = 0
        var st = stat()
        while let c = pending.popLast() {
            if c == "." { continue }
            if c == ".." {
                guard !resolved.isEmpty else { throw OCIError.unsafePath(image: root, path: path, reason: "a symbolic link leads out of the image") }
                resolved.removeLast()
                continue
            }
            resolved.append(c)
            let host = realRoot + "/" + resolved.joined(separator: "/")
            guard lstat(host, &st) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw OCIError.io(path: host, reason: String(cString: strerror(errno)))
            }
            if st.st_mode & S_IFMT == S_IFLNK {
                let here = resolved.joined(separator: "/")
                if resolved.first == "blobs" {
                    throw OCIError.unsafePath(image: root, path: path, reason: "\(here) is a symbolic link; blobs must be plain files inside the image")
                }
                links += 1
                guard links <= 40 else { throw OCIError.unsafePath(image: root, path: path, reason: "too many symbolic links") }
                guard let target = Self.readLink(host) else { throw OCIError.io(path: host, reason: String(cString: strerror(errno))) }
                guard !target.hasPrefix("/") else {
                    throw OCIError.unsafePath(image: root, path: path, reason: "\(here) is a symbolic link to an absolute path, outside the image")
                }
                resolved.removeLast()
                pending += target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed()
                continue
            }
            if !pending.isEmpty, st.st_mode & S_IFMT != S_IFDIR { return nil }
        }
        guard !resolved.isEmpty else { throw OCIError.unsafePath(image: root, path: path, reason: "names the image root") }
        let mode = st.st_mode & S_IFMT
        if mode == S_IFDIR { return nil }
        guard mode == S_IFREG else {
            // A FIFO would block the reader forever; a device is not part of an image.
            throw OCIError.unsafePath(image: root, path: path, reason: "not a regular file")
        }
        return FileSlice(hostPath: realRoot + "/" + resolved.joined(separator: "/"), offset: 0, length: Int64(st.st_size),
                         displayName: root.hasSuffix("/") ? root + path : root + "/" + path)
    }

    private static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An uncompressed tarball, indexed once so every entry can be read in place.
public struct TarTree: FileTree {
    public let displayName: String
    let entries: [String: FileSlice]

    /// Indexes `path`; throws `OCIError.notAnImage` when it is not a tar, `io` when truncated or corrupt.
    public init(path: String) throws {
        displayName = path
        entries = try TarIndexer(path: path).index()
    }

    public func slice(_ path: String) throws -> FileSlice? {
        entries[try ImagePath.components(path, image: displayName).joined(separator: "/")]
    }

    public var paths: [String] { Array(entries.keys) }
}
