import AsyncHTTPClient
import Foundation
import NIOCore

extension RegistryClient {
    /// Opens a layer blob as a byte stream. A connection cut mid-blob resumes with `Range` from the last byte
    /// received (or restarts and skips what was read, if the registry ignores `Range`). The stream fails,
    /// naming the registry and the digest, when the registry gives up, stalls for `timeouts.silence`, or sends
    /// more than the descriptor's size.
    func openBlob(_ ref: Reference, _ d: Descriptor, progress: (@Sendable (Int) -> Void)? = nil) -> BlobStream {
        let stream = BlobStream()
        Task.detached { [self] in
            do {
                // Once a registry has given up on one blob, the other layers' blobs fail at once rather than
                // each waiting out the same bounds in turn.
                if let earlier = unwell.withLock({ $0[ref.registry] }) {
                    throw OCIError.registryFailed(registry: ref.registry, operation: "blob \(d.digest)", failure: .skipped(earlier: earlier))
                }
                try await pump(ref, d, into: stream, progress: progress)
                stream.finish(nil)
            } catch {
                if case OCIError.registryFailed(let registry, let operation, let failure) = error, failure.registryIsUnwell {
                    unwell.withLock { $0[registry] = $0[registry] ?? "\(operation): \(failure)" }
                }
                stream.finish(error)
            }
        }
        return stream
    }

    /// Feeds `stream` until the blob is whole, the reader closes the stream, or the operation gives up.
    private func pump(_ ref: Reference, _ d: Descriptor, into stream: BlobStream, progress: (@Sendable (Int) -> Void)?) async throws {
        let op = Operation(registry: ref.registry, name: "blob \(d.digest)")
        let path = "/v2/\(ref.repository)/blobs/\(d.digest)"
        var budget = RetryBudget(options.retry)
        var received: Int64 = 0
        while true {
            do {
                let headers = received > 0 ? [("Range", "bytes=\(received)-")] : []
                let spec = try await registryRequest(host: ref.apiHost, path: path, repository: ref.repository, headers: headers)
                let (resp, deadline) = try await exchange(spec, op, document: false)
                var skip: Int64 = 0
                switch resp.status.code {
                case 200:
                    skip = received
                case 206:
                    let start = resp.headers.first(name: "Content-Range")?.split(separator: " ").last?
                        .split(separator: "-").first.flatMap { Int64($0) }
                    guard received > 0, start == received else {
                        throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .badContentRange(expectedStart: received))
                    }
                default:
                    let message = await message(resp, until: deadline)
                    throw try await refusal((Int(resp.status.code), message), op, host: ref.apiHost)
                }
                do {
                    for try await var chunk in resp.body {
                        if skip > 0 {
                            let drop = Int(min(skip, Int64(chunk.readableBytes)))
                            chunk.moveReaderIndex(forwardBy: drop)
                            skip -= Int64(drop)
                            if chunk.readableBytes == 0 { continue }
                        }
                        let room = d.size - received
                        if Int64(chunk.readableBytes) > room {
                            // Byte size + 1 is here: the blob is not what its descriptor says, and reading on
                            // could go on forever.
                            if room > 0, let rest = chunk.readSlice(length: Int(room)) {
                                guard await stream.push(rest) else { return }
                                progress?(Int(room))
                            }
                            throw OCIError.registryFailed(registry: op.registry, operation: op.name,
                                                          failure: .longerThanDescriptor(size: d.size))
                        }
                        let n = chunk.readableBytes
                        guard await stream.push(chunk) else { return }
                        received += Int64(n)
                        progress?(n)
                        budget.progressed()
                    }
                } catch {
                    throw classify(error, op, answered: true, document: false)
                }
                guard received == d.size else {
                    throw TransientFailure(detail: "the answer ended after \(received) of \(d.size) bytes")
                }
                return
            } catch let failure as TransientFailure {
                if stream.isClosed { return }
                try await Task.sleep(for: .seconds(try budget.next(after: failure, op)))
            }
        }
    }
}
