import Foundation
import NIOCore
import Synchronization
import Testing
@testable import OCI

/// The bounded hand-off between the HTTP task and the layer thread.
@Suite struct BlobStreamTests {
    /// Reads `stream` to its end on a thread of its own, as the layer reader does.
    private func drain(_ stream: BlobStream) async -> (Int, String?) {
        await withCheckedContinuation { (c: CheckedContinuation<(Int, String?), Never>) in
            Thread {
                var total = 0
                var buffer = [UInt8](repeating: 0, count: 300)
                do {
                    while true {
                        let n = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
                        if n == 0 { break }
                        total += n
                    }
                    c.resume(returning: (total, nil))
                } catch {
                    c.resume(returning: (total, "\(error)"))
                }
            }.start()
        }
    }

    @Test(.timeLimit(.minutes(1))) func everythingPushedIsReadThenTheFailure() async {
        let stream = BlobStream(limit: 2048)
        async let read = drain(stream)
        for _ in 0..<50 {
            #expect(await stream.push(ByteBuffer(repeating: 7, count: 1000)))
        }
        stream.finish(OCIError.io(path: "blob", reason: "cut"))
        let (total, failure) = await read
        #expect(total == 50_000)
        #expect(failure == "blob: cut")
    }

    @Test(.timeLimit(.minutes(1))) func closingReleasesAParkedProducer() async {
        let stream = BlobStream(limit: 1024)
        #expect(await stream.push(ByteBuffer(repeating: 1, count: 600)))
        let producer = Task { await stream.push(ByteBuffer(repeating: 1, count: 600)) }
        // The second push fills the stream past its limit and parks until the reader drains or closes.
        stream.close()
        #expect(await producer.value == false)
        #expect(await stream.push(ByteBuffer(repeating: 1, count: 10)) == false)
    }

    /// The event loop's side (a registry blob's body): `offer` never waits; `.full` says to wait for `whenDrained`,
    /// which comes once the reader has taken the stream down to half; a close stops the request through `whenClosed`.
    @Test(.timeLimit(.minutes(1))) func anEventLoopProducerIsHeldBackUntilTheReaderDrains() async throws {
        let stream = BlobStream(limit: 1024)
        #expect(stream.offer(ByteBuffer(repeating: 1, count: 600)) == .accepted)
        #expect(stream.offer(ByteBuffer(repeating: 2, count: 600)) == .full)
        let drained = Mutex(false)
        stream.whenDrained { drained.withLock { $0 = true } }
        #expect(drained.withLock { $0 } == false)
        var buffer = [UInt8](repeating: 0, count: 1000)
        let n = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
        #expect(n == 1000)
        #expect(drained.withLock { $0 } == true)
        // Below half already: at once.
        let atOnce = Mutex(false)
        stream.whenDrained { atOnce.withLock { $0 = true } }
        #expect(atOnce.withLock { $0 } == true)
    }

    @Test func closingStopsTheRequestOnce() {
        let stream = BlobStream(limit: 1024)
        let stops = Mutex(0)
        stream.whenClosed { stops.withLock { $0 += 1 } }
        stream.close()
        stream.close()
        #expect(stops.withLock { $0 } == 1)
        #expect(stream.offer(ByteBuffer(repeating: 1, count: 10)) == .closed)
        // A request that starts after the close is stopped at once.
        stream.whenClosed { stops.withLock { $0 += 1 } }
        #expect(stops.withLock { $0 } == 2)
    }
}

extension BlobStream {
    /// An async producer's hand-over, as the tests drive the stream: suspends while it is full; false once the
    /// reader closed it.
    func push(_ b: ByteBuffer) async -> Bool {
        switch offer(b) {
        case .closed: return false
        case .accepted: return true
        case .full:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in whenDrained { c.resume() } }
            return !isClosed
        }
    }
}
