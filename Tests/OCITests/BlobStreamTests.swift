import Foundation
import NIOCore
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
}
