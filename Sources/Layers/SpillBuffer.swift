import Foundation
import Synchronization

/// Bytes kept to be read again at any offset (a zip, read through its central directory): in memory while the
/// process-wide budget allows, then in a temporary file under TMPDIR that is unlinked as soon as it is made
/// (nothing is left behind, whatever happens to the process). Never more than `limit` bytes.
final class SpillBuffer {
    /// Memory all spill buffers of the process may hold together; past it they go to disk. `STOWAWAY_ARCHIVE_MEMORY`
    /// (bytes) changes it, for tests that need the disk path.
    static let memoryBudget: Int64 = ProcessInfo.processInfo.environment["STOWAWAY_ARCHIVE_MEMORY"].flatMap { Int64($0) } ?? 64 << 20
    private static let inMemory = Mutex<Int64>(0)

    let limit: Int64
    private(set) var count: Int64 = 0
    // Unsafe memory: allocated and grown here, freed in deinit, never lent beyond a single copy.
    private var memory: UnsafeMutableRawPointer?
    private var capacity = 0
    private var fd: Int32 = -1

    init(limit: Int64) { self.limit = limit }

    deinit {
        if let memory {
            memory.deallocate()
            Self.release(capacity)
        }
        if fd >= 0 { close(fd) }
    }

    private static func reserve(_ n: Int) -> Bool {
        inMemory.withLock { used in
            guard used + Int64(n) <= memoryBudget else { return false }
            used += Int64(n)
            return true
        }
    }

    private static func release(_ n: Int) { inMemory.withLock { $0 -= Int64(n) } }

    /// Adds bytes; false (and nothing added) once they would pass `limit`. Throws when the temporary file fails.
    func append(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard count + Int64(bytes.count) <= limit else { return false }
        if fd < 0 {
            let needed = Int(count) + bytes.count
            if needed > capacity {
                let grown = max(needed, min(max(capacity * 2, 1 << 20), Int(limit)))
                if Self.reserve(grown - capacity) {
                    let m = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                    if let memory {
                        m.copyMemory(from: memory, byteCount: Int(count))
                        memory.deallocate()
                    }
                    memory = m
                    capacity = grown
                } else {
                    try moveToDisk()
                }
            }
            if let memory, fd < 0 {
                (memory + Int(count)).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                count += Int64(bytes.count)
                return true
            }
        }
        try writeAll(bytes)
        count += Int64(bytes.count)
        return true
    }

    private func moveToDisk() throws {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((dir + "/stowaway-spill-XXXXXX").utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard f >= 0 else { throw LayerError.archive(call: "mkstemp", reason: "cannot make a temporary file in \(dir): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        fd = f
        if let memory {
            try writeAll(UnsafeRawBufferPointer(start: memory, count: Int(count)))
            memory.deallocate()
            Self.release(capacity)
            self.memory = nil
            capacity = 0
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw LayerError.archive(call: "write", reason: "temporary file: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Whether a zip's end-of-central-directory record is where it can be: in the last 64 KB + 22 bytes.
    func endsLikeZip() -> Bool {
        let tail = Int(min(count, 65_557))
        guard tail >= 22 else { return false }
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: tail, alignment: 1)
        defer { b.deallocate() }
        var got = 0
        while got < tail {
            let n = read(at: count - Int64(tail) + Int64(got), into: UnsafeMutableRawBufferPointer(rebasing: b[got...]))
            if n <= 0 { return false }
            got += n
        }
        for i in stride(from: tail - 22, through: 0, by: -1) where b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 5 && b[i + 3] == 6 {
            return true
        }
        return false
    }

    /// Copies bytes from `offset` into `buffer`; 0 at the end, -1 when the temporary file cannot be read.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard offset >= 0, offset < count else { return 0 }
        let n = Int(min(Int64(buffer.count), count - offset))
        if let memory {
            buffer.baseAddress!.copyMemory(from: memory + Int(offset), byteCount: n)
            return n
        }
        while true {
            let r = pread(fd, buffer.baseAddress!, n, off_t(offset))
            if r < 0 && errno == EINTR { continue }
            return r
        }
    }
}
