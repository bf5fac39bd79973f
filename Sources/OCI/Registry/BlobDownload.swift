import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One blob's download across its attempts: the stream the layer reader pulls, how many bytes it was given so far
/// (where a resumed request starts), and the descriptor's size, past which the blob is refused.
final class BlobTarget: Sendable {
    let stream: BlobStream
    let size: Int64
    let op: Operation
    let progress: (@Sendable (Int) -> Void)?
    private let state = Mutex<(received: Int64, current: BlobRequestDelegate?)>((0, nil))

    init(stream: BlobStream, size: Int64, op: Operation, progress: (@Sendable (Int) -> Void)?) {
        self.stream = stream
        self.size = size
        self.op = op
        self.progress = progress
    }

    /// Bytes handed to the stream so far.
    var received: Int64 { state.withLock { $0.received } }

    fileprivate func add(_ n: Int) {
        state.withLock { $0.received += Int64(n) }
        progress?(n)
    }

    /// The request whose answer is being read (the last of its redirects).
    var current: BlobRequestDelegate? {
        get { state.withLock { $0.current } }
        set { state.withLock { $0.current = newValue } }
    }
}

/// One request of a blob download, answered on the event loop. A 200 or 206 body goes from the event loop straight
/// into the target's stream: no task hop per socket read, and while the stream is full the loop stops reading (the
/// future `didReceiveBodyPart` returns completes when the reader has drained it to half). Any other answer (a
/// redirect, an error) keeps its body for `exchange` as an ordinary response body, at most 64 KiB of it.
final class BlobRequestDelegate: HTTPClientResponseDelegate {
    typealias Response = Void

    private struct State {
        var head: Result<HTTPResponseHead, Error>?
        var headWaiter: CheckedContinuation<HTTPResponseHead, Error>?
        /// The answer is the blob (200 or 206): its body goes to the stream.
        var streaming = false
        /// Bytes of a 200 answer to a resumed request that the stream already has.
        var skip: Int64 = 0
        /// What this side found wrong with the answer (a wrong range, a blob longer than its descriptor).
        var verdict: Error?
        var end: Result<Void, Error>?
        var endWaiter: CheckedContinuation<Void, Error>?
        var otherBytes = 0
    }

    let target: BlobTarget
    private let state = Mutex(State())
    /// The body of an answer that is not the blob.
    let otherBody: AsyncThrowingStream<ByteBuffer, Error>
    private let other: AsyncThrowingStream<ByteBuffer, Error>.Continuation
    static let otherLimit = 64 << 10

    init(target: BlobTarget) {
        self.target = target
        (otherBody, other) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: Error.self)
    }

    /// Ties the delegate to its request: the request is cancelled when the reader closes the stream, or when
    /// whoever reads a non-blob body stops early.
    func attach(_ task: HTTPClient.Task<Void>) {
        other.onTermination = { @Sendable _ in task.cancel() }
        target.stream.whenClosed { task.cancel() }
    }

    /// The answer's head, or the failure that came before it.
    func head() async throws -> HTTPResponseHead {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPResponseHead, Error>) in
            let ready = state.withLock { s -> Result<HTTPResponseHead, Error>? in
                if s.head == nil { s.headWaiter = c }
                return s.head
            }
            if let ready { c.resume(with: ready) }
        }
    }

    /// Whether the head has arrived.
    var answered: Bool { state.withLock { $0.head != nil } }

    /// Waits for the end of the answer: its failure, or this side's verdict on it.
    func finished() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            let ready = state.withLock { s -> Result<Void, Error>? in
                if s.end == nil { s.endWaiter = c }
                return s.end
            }
            if let ready { c.resume(with: ready) }
        }
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let status = head.status.code
        var verdict: Error?
        var skip: Int64 = 0
        let received = target.received
        if status == 200 {
            skip = received
        } else if status == 206 {
            let start = head.headers.first(name: "Content-Range")?.split(separator: " ").last?
                .split(separator: "-").first.flatMap { Int64($0) }
            if received == 0 || start != received {
                verdict = OCIError.registryFailed(registry: target.op.registry, operation: target.op.name,
                                                  failure: .badContentRange(expectedStart: received))
            }
        }
        let waiter = state.withLock { s -> CheckedContinuation<HTTPResponseHead, Error>? in
            s.head = .success(head)
            s.streaming = status == 200 || status == 206
            s.skip = skip
            s.verdict = verdict
            defer { s.headWaiter = nil }
            return s.headWaiter
        }
        waiter?.resume(returning: head)
        if let verdict { task.fail(reason: verdict) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        var chunk = buffer
        let (streaming, skip, stopped) = state.withLock { s -> (Bool, Int64, Bool) in
            if !s.streaming { s.otherBytes += chunk.readableBytes }
            let skip = min(s.skip, Int64(chunk.readableBytes))
            s.skip -= skip
            return (s.streaming, skip, s.verdict != nil)
        }
        let done = task.eventLoop.makeSucceededVoidFuture()
        if stopped { return done }
        guard streaming else {
            other.yield(chunk)
            if state.withLock({ $0.otherBytes }) >= Self.otherLimit {
                other.finish()
                task.cancel()
            }
            return done
        }
        chunk.moveReaderIndex(forwardBy: Int(skip))
        if chunk.readableBytes == 0 { return done }
        let room = target.size - target.received
        if Int64(chunk.readableBytes) > room {
            // Byte size + 1 is here: the blob is not what its descriptor says, and reading on could go on forever.
            if room > 0, let rest = chunk.readSlice(length: Int(room)), target.stream.offer(rest) != .closed { target.add(Int(room)) }
            let verdict = OCIError.registryFailed(registry: target.op.registry, operation: target.op.name,
                                                  failure: .longerThanDescriptor(size: target.size))
            state.withLock { $0.verdict = verdict }
            task.fail(reason: verdict)
            return done
        }
        let n = chunk.readableBytes
        switch target.stream.offer(chunk) {
        case .closed:
            task.cancel()
            return done
        case .accepted:
            target.add(n)
            return done
        case .full:
            target.add(n)
            let drained = task.eventLoop.makePromise(of: Void.self)
            target.stream.whenDrained { drained.succeed() }
            return drained.futureResult
        }
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) {
        finish(.failure(error))
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        finish(.success(()))
    }

    private func finish(_ result: Result<Void, Error>) {
        let (head, headWaiter, end, endWaiter) = state.withLock { s in
            // This side's verdict is the reason, not the cancellation it caused.
            if s.end == nil { s.end = s.verdict.map { .failure($0) } ?? result }
            if s.head == nil {
                s.head = .failure(s.end.flatMap { if case .failure(let e) = $0 { e } else { nil } }
                                  ?? HTTPClientError.remoteConnectionClosed)
            }
            defer {
                s.headWaiter = nil
                s.endWaiter = nil
            }
            return (s.head!, s.headWaiter, s.end!, s.endWaiter)
        }
        if case .failure(let e) = end { other.finish(throwing: e) } else { other.finish() }
        headWaiter?.resume(with: head)
        endWaiter?.resume(with: end)
    }
}

extension RegistryClient {
    /// Sends one request of a blob download through `delegate`; returns its head as a response whose body is the
    /// answer's when it is not the blob (the blob's own body goes to the target's stream). The head must come by
    /// `headBy`; the body then has the client's silence bound only.
    func executeStreaming(_ req: HTTPClientRequest, url: URL, headBy: NIODeadline, delegate: BlobRequestDelegate) async throws -> HTTPClientResponse {
        let request = try HTTPClient.Request(url: url, method: req.method, headers: req.headers)
        let task = http(for: url).execute(request: request, delegate: delegate)
        delegate.attach(task)
        delegate.target.current = delegate
        let timer = task.eventLoop.scheduleTask(deadline: headBy) {
            if !delegate.answered { task.fail(reason: HTTPClientError.deadlineExceeded) }
        }
        defer { timer.cancel() }
        let head = try await delegate.head()
        return HTTPClientResponse(version: head.version, status: head.status, headers: head.headers, body: .stream(delegate.otherBody))
    }
}
