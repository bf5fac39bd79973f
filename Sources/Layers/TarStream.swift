import Foundation
import Core

/// The decompressed stream of one layer, produced ahead of the tar walk through a few fixed buffers.
///
/// The producer (a thread of its own for a blob of any size, or the consumer itself for a small one)
/// reads the blob, hashes it (blob digest), decompresses it and queues full buffers, which a hash thread
/// (or the producer, for a small blob) hashes (diffID) in order before they reach the consumer; the consumer
/// (libarchive's read callback on the thread walking the tar) takes them in order and gives each back
/// when it asks for the next. So inflating one layer overlaps walking and matching it, and memory
/// stays at `slots × slotSize` whatever the layer's size.
///
/// The stream has two parts: the tar stream, then the blob's bytes after the end of the compressed
/// stream (trailing data), if any, which `LayerReader` hands to the scanner before calling them an error.
final class TarStream: @unchecked Sendable {
    // @unchecked Sendable: every var below is read and written under `condition`, except `decompressor`
    // and `input`, which only the producer touches until `producerDone` is set under the lock (the
    // consumer reads `input`'s hash and counts only after seeing it); `diffID`, which only the hash thread
    // (or the producer) touches until the stream is done; and `held`/`tarEnded`/`trailingFollows`, which
    // only the single consumer thread touches. A buffer is written by the producer, then read by the hash
    // thread, then lent to the consumer, each hand-over under the lock.
    enum Part { case tar, trailing }
    private struct Chunk {
        var slot: Int
        var count: Int
        var part: Part
    }

    static let slotSize = 256 * 1024
    static let slots = 8

    let input: BlobInput
    let decompressor: Decompressor
    /// One lock, with a condition per waiting role, so that each hand-over wakes only the thread it concerns.
    private let condition = Handoff()
    // Unsafe pointers: allocated here, freed in deinit, which runs only after the producer thread ended
    // (it holds a reference) and the consumer (LayerReader) released the stream.
    private let buffers: [UnsafeMutableRawBufferPointer]
    /// Made by the producer, waiting for the hash thread (threaded mode), in order.
    private var made: [Chunk] = []
    /// Ready for the consumer, in order.
    private var ready: [Chunk] = []
    private var free: [Int]
    private var producerDone = false
    /// The hash thread forwarded everything the producer made (threaded mode).
    private var hasherDone = false
    private var failure: Error?
    private var cancelled = false
    private var inTrailing = false
    private var trailingCount: Int64 = 0
    private let threaded: Bool
    /// The diffID is hashed on a thread of its own (threaded mode, unless `STOWAWAY_DIFFID_THREAD=0`, a
    /// benchmark switch that leaves it to the producer).
    private let hashThread: Bool
    static let hashThreadAllowed = ProcessInfo.processInfo.environment["STOWAWAY_DIFFID_THREAD"] != "0"

    private var held: Int?
    /// The consumer has been told the tar stream ended.
    private(set) var tarEnded = false
    /// When it ended, trailing data was queued behind it.
    private var trailingFollows = false
    /// The diffID: every tar block is hashed as it is made, by the hash thread (threaded mode) or the
    /// producer. Read by the consumer only once the stream is done.
    private(set) var diffID = DigestHasher()

    /// Detects the compression from the first bytes; starts the producer thread when `threaded`.
    init(source: ByteSource, layer: String, threaded: Bool) throws {
        input = BlobInput(source: source)
        decompressor = try Decompressors.make(for: input, layer: layer)
        buffers = (0..<Self.slots).map { _ in .allocate(byteCount: Self.slotSize, alignment: 64) }
        free = Array((0..<Self.slots).reversed())
        self.threaded = threaded
        hashThread = threaded && Self.hashThreadAllowed
        if threaded {
            // The diffID hash gets a thread of its own: on one big layer the inflate thread (inflate, blob
            // hash) and the tar walk's thread (libarchive, matching) are then each lighter than both hashes
            // and inflate together were, and two cores share three threads' work evenly.
            var threads = [(Thread { [self] in while produce() {} }, "stowaway-inflate")]
            if hashThread { threads.append((Thread { [self] in hashMade() }, "stowaway-diffid")) }
            for (t, name) in threads {
                t.name = name
                t.stackSize = 1 << 20
                t.start()
            }
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }

    var compression: LayerCompression { decompressor.compression }

    // MARK: consumer

    /// The next block of the tar stream, valid until the next call that returns a block; nil at its end. Throws the
    /// producer's error (corrupt data, source failure) once the blocks before it were taken.
    func nextTarBlock() throws -> UnsafeRawBufferPointer? {
        if tarEnded { return nil }
        let b = try next(.tar)
        if b == nil {
            tarEnded = true
            condition.lock()
            trailingFollows = ready.first?.part == .trailing
            condition.unlock()
        }
        return b
    }

    /// The next block of trailing data (after the tar stream ended), valid until the next call; nil at its end.
    func nextTrailingBlock() throws -> UnsafeRawBufferPointer? {
        while try nextTarBlock() != nil {}
        return try next(.trailing)
    }

    /// Whether the blob has bytes after its compressed stream; reads (and hashes) what is left of the tar stream.
    func hasTrailingData() throws -> Bool {
        while try nextTarBlock() != nil {}
        return trailingFollows
    }

    /// Bytes of trailing data the producer has read so far (all of them once `drain()` returned).
    var trailingBytes: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return trailingCount
    }

    /// Takes every block left, so the producer reaches the end of the blob; throws its error.
    func drain() throws {
        while try nextTrailingBlock() != nil {}
    }

    /// Stops the producer (the consumer gave up) and closes the source, which wakes a blocked read.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.signalAll()
        condition.unlock()
        input.source.close()
    }

    private func next(_ part: Part) throws -> UnsafeRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let c = ready.first {
                // The block lent last is given back only now: at the end of the tar part the tar reader's
                // unconsumed read-ahead is still read from it (`LayerReader.trailingEntry`).
                guard c.part == part else { return nil }
                ready.removeFirst()
                if let h = held {
                    free.append(h)
                    condition.signal(.producer)
                }
                held = c.slot
                return UnsafeRawBufferPointer(rebasing: buffers[c.slot][..<c.count])
            }
            if hashThread ? hasherDone : producerDone {
                if let failure { throw failure }
                return nil
            }
            if threaded {
                condition.wait(.consumer)
            } else {
                condition.unlock()
                _ = produce()
                condition.lock()
            }
        }
    }

    // MARK: producer

    /// The hash thread: hashes each tar block the producer made, in order, and passes it on to the consumer.
    private func hashMade() {
        condition.lock()
        while true {
            while made.isEmpty && !producerDone && !cancelled { condition.wait(.hasher) }
            guard !cancelled, !made.isEmpty else { break }
            let c = made.removeFirst()
            condition.unlock()
            if c.part == .tar { hashTar(UnsafeRawBufferPointer(rebasing: buffers[c.slot][..<c.count])) }
            condition.lock()
            ready.append(c)
            condition.signal(.consumer)
        }
        hasherDone = true
        condition.signal(.consumer)
        condition.unlock()
    }

    private func hashTar(_ block: UnsafeRawBufferPointer) {
        StageTimes.measure(.diffIDHash) { diffID.update(block) }
    }

    /// Fills one buffer and queues it; false once the stream ended, failed, or was cancelled.
    private func produce() -> Bool {
        condition.lock()
        while free.isEmpty && !cancelled { condition.wait(.producer) }
        if cancelled || producerDone {
            condition.unlock()
            return false
        }
        let slot = free.removeLast()
        let trailing = inTrailing
        condition.unlock()

        var count = 0
        var part = Part.tar
        var error: Error?
        do {
            if !trailing {
                count = try decompressor.read(into: buffers[slot])
                if count > 0 && !hashThread { hashTar(UnsafeRawBufferPointer(rebasing: buffers[slot][..<count])) }
                if count == 0 && decompressor.hasTrailingData {
                    condition.lock()
                    inTrailing = true
                    condition.unlock()
                }
            }
            if count == 0 && (trailing || decompressor.hasTrailingData) {
                part = .trailing
                count = try input.read(into: buffers[slot])
            }
            if count == 0 && !decompressor.hasTrailingData {
                // The compressed stream ended where the decompressor stopped; a filter that did not
                // need its last bytes (libarchive's) leaves some to hash.
                while try input.refill() { input.consume(input.available) }
            }
        } catch let e {
            error = e
        }

        condition.lock()
        defer { condition.unlock() }
        if count > 0 && error == nil {
            if hashThread { made.append(Chunk(slot: slot, count: count, part: part)) } else { ready.append(Chunk(slot: slot, count: count, part: part)) }
            if part == .trailing { trailingCount += Int64(count) }
        } else {
            free.append(slot)
            producerDone = true
            failure = error
        }
        if count > 0 && error == nil {
            condition.signal(hashThread ? .hasher : .consumer)
        } else {
            condition.signalAll()
        }
        return count > 0 && error == nil
    }
}

/// A mutex with one condition variable per role of `TarStream`'s threads: the producer waits for a free slot,
/// the hash thread for a made block, the consumer for a ready one. A hand-over signals only the role it
/// unblocks; one `NSCondition` broadcast woke all three threads for every 256 KB block.
final class Handoff: @unchecked Sendable {
    // @unchecked Sendable and unsafe pointers: the mutex and conditions are allocated and initialised here,
    // destroyed in deinit, never moved; every use goes through the pthread calls, which are thread-safe.
    enum Role: Int, CaseIterable { case producer, hasher, consumer }
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: Role.allCases.count)

    init() {
        pthread_mutex_init(mutex, nil)
        for i in Role.allCases.indices { pthread_cond_init(conditions + i, nil) }
    }

    deinit {
        for i in Role.allCases.indices { pthread_cond_destroy(conditions + i) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits (the lock held) until `role` is signalled; callers re-check their condition in a loop.
    func wait(_ role: Role) { pthread_cond_wait(conditions + role.rawValue, mutex) }
    func signal(_ role: Role) { pthread_cond_signal(conditions + role.rawValue) }
    func signalAll() { for i in Role.allCases.indices { pthread_cond_broadcast(conditions + i) } }
}
