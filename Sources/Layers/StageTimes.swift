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
        /// The thread that walks the tar: libarchive's parsing, copying file data out, the scanner's
        /// bookkeeping; diffID hashing excluded.
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

    /// Runs `body`, adding the calling thread's CPU time it took to `stage` when counting.
    @inline(__always)
    static func measure<T>(_ stage: Stage, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let start = threadCPU()
        defer { add(stage, threadCPU() - start) }
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

private enum Environment {
    static func flag(_ name: String) -> Bool {
        guard let v = getenv(name) else { return false }
        return String(cString: v) != "" && String(cString: v) != "0"
    }
}
