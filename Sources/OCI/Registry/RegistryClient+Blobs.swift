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
        let target = BlobTarget(stream: stream, size: d.size, op: op, progress: progress)
        while true {
            let before = target.received
            do {
                let headers = before > 0 ? [("Range", "bytes=\(before)-")] : []
                let spec = try await registryRequest(host: ref.apiHost, path: path, repository: ref.repository, headers: headers)
                let (resp, deadline) = try await exchange(spec, op, document: false, blob: target)
                guard [200, 206].contains(resp.status.code), let answer = target.current else {
                    let message = await message(resp, until: deadline)
                    throw try await refusal((Int(resp.status.code), message), op, host: ref.apiHost)
                }
                do {
                    try await answer.finished()
                } catch {
                    if target.received > before { budget.progressed() }
                    if stream.isClosed { return }
                    throw classify(error, op, answered: true, document: false)
                }
                if stream.isClosed { return }
                guard target.received == d.size else {
                    if target.received > before { budget.progressed() }
                    throw TransientFailure(detail: "the answer ended after \(target.received) of \(d.size) bytes")
                }
                return
            } catch let failure as TransientFailure {
                if stream.isClosed { return }
                try await Task.sleep(for: .seconds(try budget.next(after: failure, op)))
            }
        }
    }
}
