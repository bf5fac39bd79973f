#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking source of bytes (a file slice today, a registry blob stream later).
public protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes; returns 0 at the end. Throws on I/O failure.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// The reader is done (or gave up): stop producing. Safe to call more than once.
    func close()
}

extension ByteSource {
    public func close() {}
}

/// A byte range of a file on disk: a whole blob file, or an entry inside an uncompressed tarball.
public struct FileSlice: Sendable, Equatable {
    public var hostPath: String
    public var offset: Int64
    public var length: Int64
    /// How a person names it: `app.tar!blobs/sha256/ab…` or `layout/blobs/sha256/ab…`.
    public var displayName: String

    public init(hostPath: String, offset: Int64, length: Int64, displayName: String) {
        self.hostPath = hostPath
        self.offset = offset
        self.length = length
        self.displayName = displayName
    }

    /// Opens the slice for streaming.
    public func open() throws -> FileSliceSource {
        try FileSliceSource(slice: self)
    }

    /// Reads the whole slice, refusing anything over `limit` bytes (configs and manifests are small).
    public func readAll(limit: Int64 = 64 << 20) throws -> Data {
        guard length >= 0 else { throw CoreError.io(path: displayName, reason: "negative length \(length)") }
        guard length <= limit else {
            throw CoreError.tooLarge(what: displayName, size: length, limit: limit)
        }
        let source = try open()
        var data = Data(count: Int(length))
        var filled = 0
        try data.withUnsafeMutableBytes { buf in
            while filled < Int(length) {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[filled...]))
                if n == 0 { break }
                filled += n
            }
        }
        guard filled == Int(length) else { throw CoreError.io(path: displayName, reason: "truncated: \(filled) of \(length) bytes") }
        return data
    }
}

/// Reads a `FileSlice` with `pread`, so many slices of one file can be read in parallel.
public final class FileSliceSource: ByteSource {
    private let fd: Int32
    private let slice: FileSlice
    private var position: Int64 = 0

    /// Opens the file; throws `CoreError.io` if it cannot.
    public init(slice: FileSlice) throws {
        fd = Glibc.open(slice.hostPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoreError.io(path: slice.hostPath, reason: String(cString: strerror(errno))) }
        self.slice = slice
    }

    deinit { Glibc.close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(buffer.count), slice.length - position))
        guard want > 0 else { return 0 }
        while true {
            let n = pread(fd, buffer.baseAddress, want, off_t(slice.offset + position))
            if n < 0 {
                if errno == EINTR { continue }
                throw CoreError.io(path: slice.displayName, reason: String(cString: strerror(errno)))
            }
            if n == 0 {
                throw CoreError.io(path: slice.displayName, reason: "truncated: file ends \(slice.length - position) bytes early")
            }
            position += Int64(n)
            return n
        }
    }
}
