#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// CPU time spent in each stage of reading layers, summed over all threads, for the benchmark's
/// breakdown. Off unless `STOWAWAY_STAGE_TIMES` is set (or `StageTimes.enable()`), so a scan pays
/// one branch per chunk for it.
public enum StageTimes {
    /// A stage of the layer pipeline.
    public enum Stage: Int, CaseIterable, Sendable {
        /// ISA-L / libzstd / libarchive filter decompression.
        case inflate
        /// SHA-256 of the compressed blob.
        case blobHash
        /// Reading the blob from its source (pread, or the registry stream's hand-off).
        case sourceRead
        /// SHA-256 of the uncompressed tar (the diffID).
        case diffIDHash
        /// libarchive's tar parsing and copying file data out of the decompressed stream.
        case tarWalk
    }

    private static let nanos = Mutex<[Int]>(Array(repeating: 0, count: Stage.allCases.count))
    private static let on = Atomic<Bool>(Environment.flag("STOWAWAY_STAGE_TIMES"))

    /// Turns the counters on (call before scanning).
    public static func enable() { on.store(true, ordering: .relaxed) }

    /// Whether the counters run.
    public static var enabled: Bool { on.load(ordering: .relaxed) }

    /// CPU seconds spent in `stage` so far.
    public static func seconds(_ stage: Stage) -> Double {
        Double(nanos.withLock { $0[stage.rawValue] }) / 1e9
    }

    /// Runs `body`, adding the calling thread's CPU time it took to `stage` when counting; time in a
    /// stage measured inside it (inflate triggered by a tar read, say) counts for the inner stage only.
    @inline(__always)
    static func measure<T>(_ stage: Stage, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let inner = Nesting.current
        let outer = inner.pointee
        inner.pointee = 0
        let start = threadCPU()
        defer {
            let spent = threadCPU() - start
            add(stage, spent - inner.pointee)
            inner.pointee = outer + spent
        }
        return try body()
    }

    static func add(_ stage: Stage, _ ns: Int) {
        nanos.withLock { $0[stage.rawValue] += ns }
    }

    /// The calling thread's CPU time in nanoseconds.
    static func threadCPU() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }
}

/// Per thread: CPU time measured by inner `measure` calls of the one running.
private enum Nesting {
    // The key is created once; each thread's counter is allocated on its first use and freed when it exits.
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { $0?.deallocate() }
        return k
    }()

    static var current: UnsafeMutablePointer<Int> {
        if let p = pthread_getspecific(key) { return p.assumingMemoryBound(to: Int.self) }
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        pthread_setspecific(key, p)
        return p
    }
}

private enum Environment {
    static func flag(_ name: String) -> Bool {
        guard let v = getenv(name) else { return false }
        return String(cString: v) != "" && String(cString: v) != "0"
    }
}
