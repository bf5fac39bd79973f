import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// What a request is for, as an error message names it: `ping`, `manifest of team/app:v1`, `blob sha256:…`.
struct Operation: Sendable {
    var registry: String
    var name: String
}

/// Where a request's `Authorization` comes from. It is only ever sent to the origin it belongs to: a redirect
/// elsewhere (blob storage) carries none.
enum RequestAuthorization: Sendable {
    case none
    /// The registry's own, for `repository`, following its challenge; redone once after a 401 with a new challenge.
    case registry(host: String, repository: String?)
    /// A fixed value (Basic credentials for a token realm) for `origin` only.
    case fixed(String, origin: String)
}

/// One request as the executor sends it (again on each attempt).
struct RequestSpec: Sendable {
    var url: URL
    var method: HTTPMethod = .GET
    var headers: [(String, String)] = []
    var body: Data?
    var authorization: RequestAuthorization = .none
}

/// A small document's final answer: the body read whole within its bound, or for a status not asked for,
/// the registry's message (bounded, redacted, one line).
struct DocumentAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
    var message: String
}

/// A failure worth another attempt: a 429/5xx answer (`status`), or a connection lost before the answer was whole.
struct TransientFailure: Error {
    var status: Int?
    var retryAfter: Double?
    /// The registry's message or what happened to the connection; redacted.
    var detail: String
}

/// The retry budget of one operation under the policy: attempts, and the time since the first attempt (for a
/// blob, since its last progress: a long download that is cut late gets a fresh budget to resume).
struct RetryBudget {
    let policy: RetryPolicy
    private var start = ContinuousClock.now
    private(set) var attempt = 1

    init(_ policy: RetryPolicy) { self.policy = policy }

    mutating func progressed() {
        start = .now
        attempt = 1
    }

    /// Seconds to wait before the next attempt, or the error that ends the operation.
    mutating func next(after failure: TransientFailure, _ op: Operation) throws -> Double {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        switch policy.decide(after: attempt, elapsed: seconds, retryAfter: failure.retryAfter) {
        case .retry(let wait):
            attempt += 1
            return wait
        case .outOfAttempts:
            throw OCIError.registryFailed(registry: op.registry, operation: op.name,
                                          failure: .gaveUp(status: failure.status, detail: failure.detail, attempts: attempt, deadline: nil))
        case .pastDeadline:
            throw OCIError.registryFailed(registry: op.registry, operation: op.name,
                                          failure: .gaveUp(status: failure.status, detail: failure.detail, attempts: attempt,
                                                           deadline: policy.deadline))
        }
    }
}

/// The request executor: every request to a registry or token server goes through `fetch` (small documents)
/// or `exchange` (a blob's head, its body then streamed), under one retry policy, one set of timeouts and
/// one redirect policy.
extension RegistryClient {
    /// Fetches a small document: retried under the policy; each attempt must be whole within
    /// `timeouts.document` and at most `limit` bytes. Answers with a status in `ok` carry the body; any other
    /// final answer carries the registry's message. `probe`: a connection failure is final at once (the caller
    /// has another URL to try).
    func fetch(_ spec: RequestSpec, _ op: Operation, limit: Int, ok: Set<Int>, probe: Bool = false) async throws -> DocumentAnswer {
        var budget = RetryBudget(options.retry)
        while true {
            do {
                return try await fetchOnce(spec, op, limit: limit, ok: ok)
            } catch let failure as TransientFailure {
                if probe && failure.status == nil {
                    throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .network(reason: failure.detail))
                }
                try await Task.sleep(for: .seconds(try budget.next(after: failure, op)))
            }
        }
    }

    private func fetchOnce(_ spec: RequestSpec, _ op: Operation, limit: Int, ok: Set<Int>) async throws -> DocumentAnswer {
        let (resp, deadline) = try await exchange(spec, op, document: true)
        let status = Int(resp.status.code)
        guard ok.contains(status) else {
            let message = await message(resp, until: deadline)
            return DocumentAnswer(status: status, headers: resp.headers, body: Data(), message: message)
        }
        if let length = resp.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
            throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .tooLarge(limit: limit))
        }
        let seconds = options.timeouts.document
        do {
            let body = resp.body
            guard let buffer = try await Self.racing(deadline, { try await body.collect(upTo: limit) }) else {
                throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .notWhole(seconds: seconds))
            }
            return DocumentAnswer(status: status, headers: resp.headers, body: Data(buffer.readableBytesView), message: "")
        } catch is NIOTooManyBytesError {
            throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .tooLarge(limit: limit))
        } catch {
            throw classify(error, op, answered: true, document: true)
        }
    }

    /// One attempt's request: authorization, redirects (at most `limits.redirects`; a loop is named), and one
    /// new authorization after a 401 that brings a new challenge. A retryable status throws `TransientFailure`;
    /// any other answer comes back with its body unread, and the instant by which a document must be whole
    /// (counted from when the request went out with its final authorization).
    func exchange(_ spec: RequestSpec, _ op: Operation, document: Bool, blob: BlobTarget? = nil) async throws -> (HTTPClientResponse, NIODeadline) {
        let home = Self.origin(spec.url)
        var url = spec.url
        var seen: Set<String> = [url.absoluteString]
        var redirects = 0
        var reauthorized = false
        var authorization = try await authorizationValue(spec.authorization)
        var deadline = documentDeadline()
        while true {
            var req = HTTPClientRequest(url: url.absoluteString)
            req.method = spec.method
            for (name, value) in spec.headers { req.headers.add(name: name, value: value) }
            if let body = spec.body { req.body = .bytes(ByteBuffer(bytes: body)) }
            if let (value, origin) = authorization, Self.origin(url) == origin {
                req.headers.replaceOrAdd(name: "Authorization", value: value)
            }
            // The head must come within the silence bound (after connecting), and for a document within its own.
            let headBy = document ? deadline : .now() + Self.amount(options.timeouts.connect + options.timeouts.silence)
            let resp: HTTPClientResponse
            do {
                if let blob {
                    // A blob's body goes from the event loop into its stream (see `BlobRequestDelegate`).
                    resp = try await executeStreaming(req, url: url, headBy: headBy, delegate: BlobRequestDelegate(target: blob))
                } else {
                    resp = try await http(for: url).execute(req, deadline: headBy)
                }
            } catch {
                throw classify(error, op, answered: false, document: document)
            }
            let status = Int(resp.status.code)
            switch status {
            case 401 where !reauthorized && Self.origin(url) == home:
                guard case .registry(let host, _) = spec.authorization else { return (resp, deadline) }
                let challenges = Challenge.parse(resp.headers["WWW-Authenticate"])
                guard !challenges.isEmpty else { return (resp, deadline) }
                await discard(resp)
                reauthorized = true
                await auth.challenged(host: host, challenges: challenges)
                authorization = try await authorizationValue(spec.authorization)
                deadline = documentDeadline()
                url = spec.url
                seen = [url.absoluteString]
                redirects = 0
                continue
            case 301, 302, 303, 307, 308:
                // A redirected POST (a token request) would change meaning: it stays the answer.
                guard spec.method == .GET else { break }
                guard let location = resp.headers.first(name: "Location"),
                      let next = URL(string: location, relativeTo: url)?.absoluteURL,
                      next.scheme == "https" || next.scheme == "http" else {
                    throw OCIError.registryFailed(registry: op.registry, operation: op.name, failure: .redirectWithoutLocation(status: status))
                }
                await discard(resp)
                guard !seen.contains(next.absoluteString) else {
                    throw OCIError.registryFailed(registry: op.registry, operation: op.name,
                                                  failure: .redirectLoop(url: Self.printable(next)))
                }
                guard redirects < options.limits.redirects else {
                    throw OCIError.registryFailed(registry: op.registry, operation: op.name,
                                                  failure: .tooManyRedirects(limit: options.limits.redirects))
                }
                seen.insert(next.absoluteString)
                redirects += 1
                url = next
                continue
            default:
                break
            }
            if RetryPolicy.retryableStatuses.contains(status) {
                let retryAfter = resp.headers.first(name: "Retry-After").flatMap { RetryPolicy.retryAfter($0) }
                throw TransientFailure(status: status, retryAfter: retryAfter, detail: await message(resp, until: deadline))
            }
            return (resp, deadline)
        }
    }

    /// When a document must be whole; a stream has no such bound, but its error bodies get the document's.
    private func documentDeadline() -> NIODeadline {
        .now() + Self.amount(options.timeouts.document)
    }

    static func amount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(min(max(seconds, 0), 1e9) * 1e9))
    }

    /// The header value for `authorization` and the origin it may go to.
    private func authorizationValue(_ authorization: RequestAuthorization) async throws -> (String, String)? {
        switch authorization {
        case .none:
            return nil
        case .fixed(let value, let origin):
            await auth.remember(authorization: value)
            return (value, origin)
        case .registry(let host, let repository):
            guard let value = try await self.authorization(host: host, repository: repository) else { return nil }
            await auth.remember(authorization: value)
            return (value, Self.origin(try await baseURL(host)))
        }
    }

    /// Reads what is left of an answer not wanted (a redirect, a 401), briefly, so its connection can be reused.
    private func discard(_ resp: HTTPClientResponse) async {
        let body = resp.body
        _ = try? await Self.racing(.now() + Self.amount(min(2, options.timeouts.document)), { try await body.collect(upTo: 64 << 10) })
    }

    /// The registry's message from an error answer: `{"errors":[{"code","message"}]}` or the start of its text;
    /// read with a size and time bound, redacted, one line.
    func message(_ resp: HTTPClientResponse, until deadline: NIODeadline) async -> String {
        let body = resp.body
        let limit = options.limits.errorBody
        let bounded = min(deadline, .now() + Self.amount(options.timeouts.document))
        // Over the limit: keep what fits (collect would throw it all away).
        let read = try? await Self.racing(bounded) { () async throws -> ByteBuffer in
            var kept = ByteBuffer()
            for try await var chunk in body {
                if var slice = chunk.readSlice(length: min(chunk.readableBytes, limit - kept.readableBytes)) {
                    kept.writeBuffer(&slice)
                }
                if kept.readableBytes >= limit { break }
            }
            return kept
        }
        guard let read else { return "" }
        return await auth.redactor.clean(Self.errorText(Data(read.readableBytesView)))
    }

    /// The text of an error body: the JSON error list (`code: message; …`) or, failing that, the raw text.
    static func errorText(_ data: Data) -> String {
        struct Errors: Decodable {
            struct E: Decodable { var code: String?; var message: String? }
            var errors: [E]?
            var error: String?
            var error_description: String?
        }
        if let e = try? JSONDecoder().decode(Errors.self, from: data) {
            if let list = e.errors, !list.isEmpty {
                return list.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
            }
            let oauth = [e.error, e.error_description].compactMap { $0 }
            if !oauth.isEmpty { return oauth.joined(separator: ": ") }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `body`'s result, or nil if `deadline` passes first (`body` is then cancelled): `Deadline.within` on NIO's clock.
    static func racing<T: Sendable>(_ deadline: NIODeadline, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await Deadline.within(seconds: Double(max(0, (deadline - .now()).nanoseconds)) / 1e9, body)
    }

    /// A transport error as a retry (`TransientFailure`) or the operation's end (`OCIError`), worded for where it
    /// happened: before the answer (`answered` false), or within its body.
    func classify(_ error: Error, _ op: Operation, answered: Bool, document: Bool) -> Error {
        if error is OCIError || error is TransientFailure || error is CancellationError { return error }
        let t = options.timeouts
        func fail(_ f: RegistryFailure) -> OCIError { .registryFailed(registry: op.registry, operation: op.name, failure: f) }
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout, .getConnectionFromPoolTimeout: return fail(.connectTimeout(seconds: t.connect))
            case .readTimeout: return fail(answered ? .stalled(seconds: t.silence) : .noAnswer(seconds: t.silence))
            case .deadlineExceeded: return fail(answered ? .notWhole(seconds: t.document)
                                                    : .noAnswer(seconds: document ? t.document : t.silence))
            case .remoteConnectionClosed: return TransientFailure(detail: "the connection was closed")
            case .cancelled: return CancellationError()
            default: break
            }
        }
        if case ChannelError.connectTimeout = error { return fail(.connectTimeout(seconds: t.connect)) }
        if error is NIOSSLError || error is BoringSSLError || "\(type(of: error))".contains("SSL") {
            let said = Self.tlsReason(error)
            let reason: String
            if said.contains("WRONG_VERSION_NUMBER") || said.contains("HTTP_REQUEST") {
                reason = OCIError.plainHTTPReason + "; if it is meant to, use --insecure-registry \(op.registry)"
            } else if said.contains("CERTIFICATE_VERIFY_FAILED") || said.lowercased().contains("certificate") {
                reason = "the server's certificate is not trusted (\(said)); use --ca-file PEM, or --insecure-registry "
                    + "\(op.registry) for a test registry"
            } else {
                reason = "the TLS handshake failed (\(said))"
            }
            return OCIError.tls(registry: op.registry, reason: reason)
        }
        if error is ChannelError || error is HTTPParserError {
            return TransientFailure(detail: "the connection failed (\(error))")
        }
        if let io = error as? IOError, [ECONNRESET, EPIPE].contains(io.errnoCode) {
            return TransientFailure(detail: "the connection was reset")
        }
        return fail(.network(reason: Self.networkReason(error)))
    }

    /// What a connection error says, for people: the system's reason (no such host, connection refused), never
    /// a type dump (`SocketAddressError.UnknownHost`, `IOError`) or a library's source path.
    static func networkReason(_ error: Error) -> String {
        let text = "\(error)"
        let known: [(String, String)] = [
            ("UnknownHost", "the host name could not be resolved"), ("Name or service not known", "the host name could not be resolved"),
            ("Connection refused", "connection refused"), ("errno: 111", "connection refused"),
            ("Network is unreachable", "network unreachable"), ("No route to host", "no route to host"),
            ("Connection timed out", "connection timed out"),
        ]
        if let hit = known.first(where: { text.contains($0.0) }) { return hit.1 }
        // Whatever else: type names (`Module.Type.case:`) and file paths taken out, on one short line.
        let plain = text.replacing(/\b[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+(\([^)]*\))?:?\s*/, with: "")
            .replacing(/\s+at\s+\/\S+/, with: "").replacing(/\s+/, with: " ")
        return String((plain.isEmpty ? "the connection failed" : plain).prefix(200))
    }

    /// What a TLS error says, for people: BoringSSL's reason names (`WRONG_VERSION_NUMBER`), never a type dump or
    /// the source path of the library's build that its description carries.
    static func tlsReason(_ error: Error) -> String {
        let text = "\(error)"
        let names = text.matches(of: /OPENSSL_internal:([A-Z0-9_]+)/).map { String($0.output.1) }
        if !names.isEmpty { return Array(NSOrderedSet(array: names)).compactMap { $0 as? String }.joined(separator: ", ") }
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return "the certificate does not name this host"
        }
        if let e = error as? NIOSSLError {
            switch e {
            case .handshakeFailed: return "handshake failed"
            case .uncleanShutdown: return "the connection closed during the handshake"
            default: break
            }
        }
        // Whatever else: without type names or file paths, on one short line.
        return String(text.replacing(/\b[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+:\s*/, with: "").replacing(/\s+at\s+\/\S+/, with: "").prefix(200))
    }

    /// A URL as messages show it: scheme, host and path (no query, no user info).
    static func printable(_ url: URL) -> String {
        "\(url.scheme ?? "")://\(hostPort(url))\(url.path)"
    }
}
