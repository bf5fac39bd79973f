#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The fuzz input as a file the loaders can open by path: one file per process in /dev/shm, rewritten
/// for every input (the parsers under test take paths, as the CLI gives them).
enum FuzzInput {
    nonisolated(unsafe) static var fd: Int32 = -1
    static let path = "/dev/shm/stowaway-fuzz-\(getpid())"

    /// Writes the input and returns the path holding it.
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        if fd < 0 {
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            precondition(fd >= 0, "cannot create \(path)")
            atexit { unlink(FuzzInput.path) }
        }
        precondition(ftruncate(fd, 0) == 0)
        var done = 0
        while done < size {
            let n = pwrite(fd, data + done, size - done, off_t(done))
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
        return path
    }
}
