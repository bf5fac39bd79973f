import Foundation
import Layers

/// Hands a layer's file data from the decompressing thread to the matching thread through a fixed pool of
/// buffers, so decompression and matching of one layer overlap on two cores and memory stays bounded.
final class ChunkPipe: @unchecked Sendable {
    enum Message {
        case begin(LayerEntry)
        case data(index: Int, count: Int)
        case end
    }

    static let bufferSize = 256 * 1024
    private let condition = NSCondition()
    private var queue: [Message] = []
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

    func send(_ m: Message) {
        condition.lock()
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
        while queue.isEmpty && !closed { condition.wait() }
        return queue.isEmpty ? nil : queue.removeFirst()
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
