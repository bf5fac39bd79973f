import Foundation
import NIOCore

/// Bridges an HTTP body (pushed by an async task) to the blocking `ByteSource` the layer reader pulls from.
/// At most `limit` bytes wait in between: the producer suspends until the reader catches up, so memory
/// stays bounded however large the blob.
final class BlobStream: ByteSource, @unchecked Sendable {
    private let lock = NSCondition()
    private var chunks: [ByteBuffer] = []
    private var buffered = 0
    private var finished = false
    private var failure: Error?
    private var producerWaiting: CheckedContinuation<Void, Never>?
    private(set) var closed = false
    let limit: Int

    init(limit: Int = 4 << 20) { self.limit = limit }

    // MARK: consumer (a layer thread)

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        // The reader's thread may be blocked here when another thread closes the stream (the layer reader gave up).
        while chunks.isEmpty && !finished && failure == nil && !closed { lock.wait() }
        if closed { throw CancellationError() }
        if chunks.isEmpty {
            if let failure { throw failure }
            return 0
        }
        let n = min(buffer.count, chunks[0].readableBytes)
        chunks[0].withUnsafeReadableBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        chunks[0].moveReaderIndex(forwardBy: n)
        if chunks[0].readableBytes == 0 { chunks.removeFirst() }
        buffered -= n
        if buffered <= limit / 2, let p = producerWaiting {
            producerWaiting = nil
            p.resume()
        }
        return n
    }

    func close() {
        lock.lock()
        closed = true
        chunks.removeAll()
        buffered = 0
        let p = producerWaiting
        producerWaiting = nil
        lock.broadcast()
        lock.unlock()
        p?.resume()
    }

    // MARK: producer (an async task)

    /// Hands a buffer to the reader; suspends while too much is waiting. Returns false once the reader closed.
    func push(_ b: ByteBuffer) async -> Bool {
        switch enqueue(b) {
        case .closed: return false
        case .accepted: return true
        case .full:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if !park(c) { c.resume() }
            }
            return !isClosed
        }
    }

    private enum Enqueued { case accepted, full, closed }

    private func enqueue(_ b: ByteBuffer) -> Enqueued {
        lock.lock()
        defer { lock.unlock() }
        if closed { return .closed }
        chunks.append(b)
        buffered += b.readableBytes
        lock.signal()
        return buffered >= limit ? .full : .accepted
    }

    /// Parks the producer until the reader drains to half; false if that already happened (or it closed).
    private func park(_ c: CheckedContinuation<Void, Never>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, buffered > limit / 2 else { return false }
        producerWaiting = c
        return true
    }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    func finish(_ error: Error?) {
        lock.lock()
        finished = true
        failure = error
        lock.broadcast()
        lock.unlock()
    }
}
