#if !STOWAWAY_FUZZING
import Core
#endif

/// The compressed side of a layer: pulls the blob from its source into one buffer, hashes every byte
/// read (the blob digest covers all of them, trailing junk included), and lets a decompressor consume
/// the buffer in place.
final class BlobInput {
    let source: ByteSource
    /// The blob hash; off for plain tar, whose blob digest is its diffID.
    var hashing = true
    private(set) var hasher = DigestHasher()
    /// Bytes read from the source so far.
    private(set) var total: Int64 = 0
    private(set) var atEOF = false
    /// The source's own failure, kept so it wins over a decompressor's reaction to missing bytes.
    private(set) var sourceError: Error?

    // Unsafe pointer: allocated here and freed in deinit, or lent by the caller (who frees it after this object is
    // gone); never handed out beyond a decompressor call.
    let buffer: UnsafeMutableRawBufferPointer
    private let ownsBuffer: Bool
    /// `buffer[start..<end]` is read but not consumed yet.
    private(set) var start = 0
    private(set) var end = 0
    /// Consumed bytes a refill keeps in the buffer before `start`: ISA-L gives back up to 8 bytes it read ahead
    /// into its bit buffer, possibly in an earlier call, when a member ends; and the gzip trailer check reads the
    /// last 8 bytes consumed.
    static let keptBack = 16

    init(source: ByteSource, capacity: Int = 256 * 1024) {
        self.source = source
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        ownsBuffer = true
    }

    /// An input reading into `buffer`, which the caller keeps alive longer than this object and frees itself (a
    /// walker reuses one per archive level: a buffer made and freed for each of thousands of small files let the
    /// allocator's heap grow by fragments).
    init(source: ByteSource, buffer: UnsafeMutableRawBufferPointer) {
        self.source = source
        self.buffer = buffer
        ownsBuffer = false
    }

    deinit { if ownsBuffer { buffer.deallocate() } }

    var available: Int { end - start }

    /// The unconsumed bytes.
    var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[start..<end]) }

    /// Marks `n` pending bytes as consumed; a negative `n` gives back up to `canGiveBack` bytes consumed before.
    func consume(_ n: Int) {
        precondition(n >= -canGiveBack && n <= available)
        start += n
    }

    /// Consumed bytes still in the buffer, which `consume` may give back.
    var canGiveBack: Int { min(start, Self.keptBack) }

    /// Reads more from the source, keeping what is unconsumed; false at the end of the blob.
    /// Throws the source's error (I/O, network).
    @discardableResult
    func refill() throws -> Bool {
        if atEOF { return false }
        if start > Self.keptBack {
            let from = start - Self.keptBack
            let keep = end - from
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + from, byteCount: keep)
            start = Self.keptBack
            end = keep
        }
        guard end < buffer.count else { return true }
        let n: Int
        do {
            n = try StageTimes.measure(.sourceRead) { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...])) }
        } catch {
            sourceError = error
            throw error
        }
        if n == 0 {
            atEOF = true
            return false
        }
        if hashing { StageTimes.measure(.blobHash) { hasher.update(UnsafeRawBufferPointer(rebasing: buffer[end..<(end + n)])) } }
        end += n
        total += Int64(n)
        return true
    }

    /// Makes at least `n` bytes pending if the blob has them; returns how many are.
    func ensure(_ n: Int) throws -> Int {
        while available < n, try refill() {}
        return available
    }

    /// Reads straight into `out`, past the buffer (plain tar needs no second copy); 0 at the end.
    /// Pending bytes go first.
    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if available > 0 {
            let n = min(out.count, available)
            out.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: n)
            consume(n)
            return n
        }
        if atEOF { return 0 }
        let n: Int
        do {
            n = try StageTimes.measure(.sourceRead) { try source.read(into: out) }
        } catch {
            sourceError = error
            throw error
        }
        if n == 0 {
            atEOF = true
            return 0
        }
        if hashing { StageTimes.measure(.blobHash) { hasher.update(UnsafeRawBufferPointer(rebasing: out[..<n])) } }
        total += Int64(n)
        return n
    }

    /// The last `n` (at most `keptBack`) bytes consumed, oldest first: a gzip trailer just checked by ISA-L.
    func lastConsumed(_ n: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: buffer[max(0, start - min(n, Self.keptBack))..<start]))
    }
}
