import Core
import Dispatch
import Foundation
import NIOCore
import Synchronization

/// Bridges an HTTP body (offered on the event loop, `BlobRequestDelegate`) to the blocking `ByteSource` the layer
/// reader pulls from. At most `limit` bytes wait in between: the producer stops reading until the reader catches
/// up, so memory stays bounded however large the blob.
///
/// All state sits behind one `Mutex`. The single reader blocks on a semaphore, which is signalled exactly once
/// for each time it announced (under the lock) that it is about to wait, so no wake-up is lost or left over.
final class BlobStream: ByteSource, Sendable {
    private struct State {
        var chunks: [ByteBuffer] = []
        var buffered = 0
        var finished = false
        var failure: (any Error)?
        var closed = false
        var readerWaiting = false
        /// Resumes a producer parked until the reader drains to half (`whenDrained`).
        var producerWaiting: (@Sendable () -> Void)?
        /// Called once when the reader closes the stream (the producer stops its request).
        var onClose: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let readerWakeUp = DispatchSemaphore(value: 0)
    let limit: Int

    /// Bytes buffered before a waiting reader is woken (below `limit / 2`, so a parked producer always has one).
    let wakeBatch: Int

    init(limit: Int = 4 << 20) {
        self.limit = limit
        wakeBatch = min(256 << 10, limit / 4)
    }

    // MARK: consumer (a layer thread)

    private enum Step { case data(Int), end, failed(any Error), wait }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let (step, producer) = state.withLock { s -> (Step, (@Sendable () -> Void)?) in
                // Closed by another thread (the layer reader gave up while its inflate thread waited here).
                if s.closed { return (.failed(CancellationError()), nil) }
                guard !s.chunks.isEmpty else {
                    if let failure = s.failure { return (.failed(failure), nil) }
                    if s.finished { return (.end, nil) }
                    s.readerWaiting = true
                    return (.wait, nil)
                }
                // As much as the buffer holds, across chunks: the socket delivers tens of KB at a time, and one
                // chunk per call made the inflate thread come back thousands of times per blob.
                var n = 0
                var used = 0
                while n < buffer.count, used < s.chunks.count {
                    let k = min(buffer.count - n, s.chunks[used].readableBytes)
                    s.chunks[used].withUnsafeReadableBytes { buffer.baseAddress!.advanced(by: n).copyMemory(from: $0.baseAddress!, byteCount: k) }
                    s.chunks[used].moveReaderIndex(forwardBy: k)
                    n += k
                    if s.chunks[used].readableBytes == 0 { used += 1 }
                }
                s.chunks.removeFirst(used)
                s.buffered -= n
                guard s.buffered <= limit / 2, let p = s.producerWaiting else { return (.data(n), nil) }
                s.producerWaiting = nil
                return (.data(n), p)
            }
            producer?()
            switch step {
            case .data(let n): return n
            case .end: return 0
            case .failed(let error): throw error
            case .wait: readerWakeUp.wait()
            }
        }
    }

    func close() {
        let (producer, reader, onClose) = state.withLock { s -> ((@Sendable () -> Void)?, Bool, (@Sendable () -> Void)?) in
            let onClose = s.closed ? nil : s.onClose
            s.closed = true
            s.chunks.removeAll()
            s.buffered = 0
            defer {
                s.producerWaiting = nil
                s.readerWaiting = false
                s.onClose = nil
            }
            return (s.producerWaiting, s.readerWaiting, onClose)
        }
        producer?()
        onClose?()
        // The reader may be blocked on another thread (the layer's inflate thread): it must see the close.
        if reader { readerWakeUp.signal() }
    }

    // MARK: producer (the event loop)

    enum Offered { case accepted, full, closed }

    /// Hands a buffer to the reader without waiting, for a producer on an event loop: `.full` means it was taken but
    /// the producer should wait (`whenDrained`) before the next; `.closed`, that the reader is gone.
    func offer(_ b: ByteBuffer) -> Offered {
        let (result, wake) = state.withLock { s -> (Offered, Bool) in
            if s.closed { return (.closed, false) }
            s.chunks.append(b)
            s.buffered += b.readableBytes
            // A waiting reader is woken once a batch is buffered, not for every chunk: one wake-up (a context
            // switch each) per `wakeBatch` bytes. The end, a failure or a close wake it whatever is buffered.
            let wake = s.readerWaiting && s.buffered >= wakeBatch
            if wake { s.readerWaiting = false }
            return (s.buffered >= limit ? .full : .accepted, wake)
        }
        if wake { readerWakeUp.signal() }
        return result
    }

    /// Calls `resume` once the reader has drained to half, or the stream closed; at once if that already happened.
    func whenDrained(_ resume: @escaping @Sendable () -> Void) {
        let parked = state.withLock { s in
            guard !s.closed, s.buffered > limit / 2 else { return false }
            s.producerWaiting = resume
            return true
        }
        if !parked { resume() }
    }

    /// Sets what stops the producer when the reader closes the stream (called at once if it already did).
    func whenClosed(_ stop: @escaping @Sendable () -> Void) {
        let closed = state.withLock { s in
            if !s.closed { s.onClose = stop }
            return s.closed
        }
        if closed { stop() }
    }

    /// Whether the reader is done with the stream (the producer stops).
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends the stream: the reader sees the end, or `error`, once it has read what is buffered. Only the first
    /// call counts.
    func finish(_ error: (any Error)?) {
        let wake = state.withLock { s -> Bool in
            if !s.finished {
                s.finished = true
                s.failure = error
            }
            defer { s.readerWaiting = false }
            return s.readerWaiting
        }
        if wake { readerWakeUp.signal() }
    }
}
