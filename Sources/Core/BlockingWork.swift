import Foundation

/// The one bridge from async code to work that blocks (a layer stream read by libarchive, a credential helper
/// process, a whole scan that runs threads of its own): the work gets a thread of its own, off the async pool,
/// so the tasks feeding it (a registry blob's producer, other images' requests) keep running. A few such
/// threads at once would otherwise starve the pool's handful of threads and deadlock a scan.
public enum BlockingWork {
    /// The stack of each such thread: the archive walk recurses into nested archives and libarchive's readers
    /// keep sizeable frames, past the 512 KiB Foundation gives secondary threads on some platforms.
    public static let stackSize = 8 << 20

    /// `body`'s result, computed on a thread of its own.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            start { c.resume(with: Result { try body() }) }
        }
    }

    /// `body`'s result, computed on a thread of its own.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            start { c.resume(returning: body()) }
        }
    }

    private static func start(_ block: @escaping @Sendable () -> Void) {
        let thread = Thread(block: block)
        thread.stackSize = stackSize
        thread.start()
    }
}
