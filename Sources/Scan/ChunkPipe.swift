import Foundation
import Layers

/// Hands a layer's file data from the decompressing thread to the matching thread through a fixed pool of
/// buffers, so decompression and matching of one layer overlap on two cores and memory stays bounded.
final class ChunkPipe: @unchecked Sendable {
    // Unchecked: every mutable field is read and written under `condition`'s lock; a buffer handed out by
    // `takeBuffer` belongs to the producer until `send`, then to the consumer until `giveBack`.
    enum Message {
        case begin(LayerEntry)
        case data(index: Int, count: Int)
        case end
    }

    static let bufferSize = 256 * 1024
    /// Messages waiting at most: a layer of a million empty files sends begin/end pairs without buffers, and
    /// must wait for the matcher rather than queue them all.
    static let maxQueued = 1024
    private let condition = NSCondition()
    /// Messages from `head` on are waiting; the consumed prefix is dropped in bulk, so receiving is O(1).
    private var queue: [Message] = []
    private var head = 0
    private var free: [Int]
    private var closed = false
    private(set) var buffers: [UnsafeMutableRawBufferPointer]

    init(buffers count: Int = 8) {
        buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 16) }
        free = Array(0..<count)
    }

    deinit { buffers.forEach { $0.deallocate() } }

    // MARK: producer

    /// A free buffer to fill, waiting for the consumer to return one; nil once the pipe is closed.
    func takeBuffer() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !closed { condition.wait() }
        return closed ? nil : free.removeLast()
    }

    /// Queues `m`, waiting while the queue is full; dropped once the pipe is closed.
    func send(_ m: Message) {
        condition.lock()
        while queue.count - head >= Self.maxQueued && !closed { condition.wait() }
        if closed {
            condition.unlock()
            return
        }
        queue.append(m)
        condition.broadcast()
        condition.unlock()
    }

    /// No more messages (or give up): the consumer drains what is queued, then stops.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: consumer

    func receive() -> Message? {
        condition.lock()
        defer { condition.unlock() }
        while queue.count == head && !closed { condition.wait() }
        guard queue.count > head else { return nil }
        let m = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= Self.maxQueued {
            queue.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return m
    }

    func giveBack(_ index: Int) {
        condition.lock()
        free.append(index)
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer failed: unblock the producer.
    func abort() { close() }
}
