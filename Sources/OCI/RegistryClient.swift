import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// How to reach registries.
public struct RegistryOptions: Sendable {
    /// Hosts (`host[:port]`) that may use plain HTTP or unverified TLS.
    public var insecureHosts: Set<String> = []
    /// A PEM file of extra CA certificates to trust.
    public var caFile: String?
    public var credentials = CredentialStore()
    /// Attempts per request on 429, 5xx and dropped connections.
    public var maxAttempts = 6
    /// Longest wait honoured from `Retry-After` or backoff, in seconds.
    public var maxBackoff = 30.0

    public init() {}
}

/// An OCI distribution client: ping, challenge-driven auth (Basic, Bearer tokens, refresh tokens), manifests and
/// streaming blobs, with retries, `Range` resume, and redirects that never carry Authorization to another origin.
public final class RegistryClient: @unchecked Sendable {
    let options: RegistryOptions
    private let secure: HTTPClient
    private let insecure: HTTPClient
    let auth = AuthState()

    private init(options: RegistryOptions, secure: HTTPClient, insecure: HTTPClient) {
        self.options = options
        self.secure = secure
        self.insecure = insecure
    }

    /// Runs `body` with a client whose HTTP connections are shut down when it returns.
    public static func with<R>(_ options: RegistryOptions, _ body: (RegistryClient) async throws -> R) async throws -> R {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = options.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw OCIError.notFound(path: ca) }
            do {
                tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca))]
            } catch {
                throw OCIError.tls(registry: ca, reason: "--ca-file is not a PEM certificate file (\(error))")
            }
        }
        let timeout = HTTPClient.Configuration.Timeout(connect: .seconds(20), read: .seconds(60))
        let secureConfig = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: timeout)
        var insecureTLS = tls
        insecureTLS.certificateVerification = .none
        let insecureConfig = HTTPClient.Configuration(tlsConfiguration: insecureTLS, redirectConfiguration: .disallow, timeout: timeout)
        return try await HTTPClient.withHTTPClient(configuration: secureConfig) { secure in
            try await HTTPClient.withHTTPClient(configuration: insecureConfig) { insecure in
                try await body(RegistryClient(options: options, secure: secure, insecure: insecure))
            }
        }
    }

    func isInsecure(_ host: String) -> Bool {
        options.insecureHosts.contains(host) || options.insecureHosts.contains(String(host.split(separator: ":").first ?? ""))
    }

    func http(for url: URL) -> HTTPClient {
        isInsecure(Self.hostPort(url)) ? insecure : secure
    }

    static func hostPort(_ url: URL) -> String {
        (url.host ?? "") + (url.port.map { ":\($0)" } ?? "")
    }

    static func origin(_ url: URL) -> String {
        "\(url.scheme ?? "")://\(hostPort(url))"
    }

    // MARK: base URL

    /// `https://host`, or for an `--insecure-registry` host whichever of `http://host` and (unverified)
    /// `https://host` answers the v2 ping; learned once per host. Plain HTTP is tried first there: a TLS
    /// server answers a plaintext request at once, while a plaintext server would sit on a TLS hello.
    func baseURL(_ host: String) async throws -> URL {
        if let known = await auth.base(host) { return known }
        let candidates = isInsecure(host) ? ["http://\(host)", "https://\(host)"] : ["https://\(host)"]
        var failure: OCIError?
        for candidate in candidates {
            do {
                let (status, challenges) = try await ping(URL(string: candidate + "/v2/")!, host: host)
                if status == 200 || status == 401 {
                    let base = URL(string: candidate)!
                    await auth.learned(host: host, base: base, challenges: challenges)
                    return base
                }
                failure = failure ?? .registryError(registry: host, url: candidate + "/v2/", status: status,
                                                    message: "not an OCI distribution (v2) registry")
            } catch {
                failure = failure ?? mapTransportError(error, host: host)
            }
        }
        throw failure!
    }

    /// `GET /v2/`, retrying 429, 5xx and dropped connections; returns the status and any challenges.
    private func ping(_ url: URL, host: String) async throws -> (Int, [Challenge]) {
        var attempt = 1
        while true {
            var req = HTTPClientRequest(url: url.absoluteString)
            req.method = .GET
            do {
                let resp = try await http(for: url).execute(req, timeout: .seconds(20))
                let status = Int(resp.status.code)
                let retryAfter = resp.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter)
                let challenges = Challenge.parse(resp.headers["WWW-Authenticate"])
                _ = try? await resp.body.collect(upTo: 64 * 1024)
                if [429, 500, 502, 503, 504].contains(status), attempt < options.maxAttempts {
                    try await pause(retryAfter, attempt: attempt)
                    attempt += 1
                    continue
                }
                return (status, challenges)
            } catch {
                guard attempt < options.maxAttempts, Self.isRetriable(error) else { throw error }
                try await pause(nil, attempt: attempt)
                attempt += 1
            }
        }
    }

    // MARK: requests

    /// Sends a request to `host` with auth for `repository`, following redirects and retrying what can be retried.
    /// The response body is left for the caller (collect it or stream it).
    func send(host: String, path: String, repository: String?, headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        var url = URL(string: try await baseURL(host).absoluteString + path)!
        let registryOrigin = Self.origin(url)
        var attempt = 1
        var redirects = 0
        var authRetried = false
        while true {
            var req = HTTPClientRequest(url: url.absoluteString)
            req.method = .GET
            for (n, v) in headers { req.headers.add(name: n, value: v) }
            // Authorization only ever goes to the registry's own origin (redirects to blob storage carry none).
            if Self.origin(url) == registryOrigin, let a = try await authorization(host: host, repository: repository) {
                req.headers.replaceOrAdd(name: "Authorization", value: a)
            }
            let resp: HTTPClientResponse
            do {
                resp = try await http(for: url).execute(req, timeout: .seconds(120))
            } catch {
                if attempt < options.maxAttempts, Self.isRetriable(error) {
                    try await pause(nil, attempt: attempt)
                    attempt += 1
                    continue
                }
                throw mapTransportError(error, host: host)
            }
            switch resp.status.code {
            case 401 where !authRetried && Self.origin(url) == registryOrigin:
                authRetried = true
                let challenges = Challenge.parse(resp.headers["WWW-Authenticate"])
                _ = try? await resp.body.collect(upTo: 64 * 1024)
                await auth.challenged(host: host, challenges: challenges)
                continue
            case 401, 403:
                let message = await Self.registryMessage(resp)
                let source = try await credential(host)?.source ?? "none (anonymous)"
                throw OCIError.authenticationFailed(registry: host, source: source, status: Int(resp.status.code), message: message)
            case 429, 500, 502, 503, 504:
                // Out of attempts: the response goes back to the caller, whose status check names it.
                guard attempt < options.maxAttempts else { return resp }
                let retryAfter = resp.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter)
                _ = try? await resp.body.collect(upTo: 64 * 1024)
                try await pause(retryAfter, attempt: attempt)
                attempt += 1
                continue
            case 301, 302, 303, 307, 308:
                guard redirects < 8, let location = resp.headers.first(name: "Location"),
                      let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                    throw OCIError.registryError(registry: host, url: url.absoluteString, status: Int(resp.status.code),
                                                 message: "redirect without a usable Location, or too many redirects")
                }
                _ = try? await resp.body.collect(upTo: 64 * 1024)
                url = next
                redirects += 1
                continue
            default:
                return resp
            }
        }
    }

    private func pause(_ retryAfter: Double?, attempt: Int) async throws {
        let backoff = retryAfter ?? min(0.25 * pow(2, Double(attempt - 1)), options.maxBackoff)
        try await Task.sleep(nanoseconds: UInt64(min(backoff, options.maxBackoff) * 1e9))
    }

    static func parseRetryAfter(_ value: String) -> Double? {
        if let s = Double(value.trimmingCharacters(in: .whitespaces)) { return max(0, s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }

    static func isRetriable(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError {
            return [.remoteConnectionClosed, .readTimeout, .connectTimeout, .getConnectionFromPoolTimeout].contains(e)
        }
        if error is ChannelError || error is HTTPParserError { return true }
        if let io = error as? IOError { return [ECONNRESET, EPIPE].contains(io.errnoCode) }
        return false
    }

    func mapTransportError(_ error: Error, host: String) -> OCIError {
        if let e = error as? OCIError { return e }
        if error is NIOSSLError || error is BoringSSLError || "\(type(of: error))".contains("SSL")
            || "\(error)".contains("certificate") || "\(error)".contains("handshake") {
            var reason = "\(error)"
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") || "\(error)".contains("certificate") {
                reason = "the server's certificate is not trusted (\(error)); use --ca-file PEM, or --insecure-registry \(host) for a test registry"
            }
            return .tls(registry: host, reason: reason)
        }
        return .network(registry: host, reason: "\(error)")
    }

    /// The registry's JSON error (`{"errors":[{"code","message"}]}`) or the start of its text.
    static func registryMessage(_ resp: HTTPClientResponse) async -> String {
        guard let body = try? await resp.body.collect(upTo: 64 * 1024) else { return "" }
        let data = Data(body.readableBytesView)
        struct Errors: Decodable { struct E: Decodable { var code: String?; var message: String? }; var errors: [E]? }
        if let e = try? JSONDecoder().decode(Errors.self, from: data), let list = e.errors, !list.isEmpty {
            return list.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
        }
        return String(String(decoding: data.prefix(200), as: UTF8.self).split(separator: "\n").first ?? "")
    }

    // MARK: documents

    static let manifestAccept = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]

    /// Fetches a manifest or index and checks its digest (against the reference when pulling by digest).
    func manifest(_ ref: Reference, reference: String) async throws -> (data: Data, mediaType: String?, digest: Digest) {
        let path = "/v2/\(ref.repository)/manifests/\(reference)"
        let resp = try await send(host: ref.apiHost, path: path, repository: ref.repository,
                                  headers: Self.manifestAccept.map { ("Accept", $0) })
        guard resp.status == .ok else {
            let message = await Self.registryMessage(resp)
            throw OCIError.registryError(registry: ref.registry, url: "\(ref.repository):\(reference)", status: Int(resp.status.code),
                                         message: message)
        }
        let data = try await collect(resp, limit: 8 << 20, what: "manifest \(reference)", host: ref.registry)
        let actual = Digest.sha256(of: data)
        let expected = (try? Digest(reference)) ?? resp.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest($0) }
        if let expected, expected.algorithm == "sha256", expected != actual {
            throw OCIError.digestMismatch(blob: "\(ref.registry)/\(ref.repository) manifest", expected: expected.description,
                                          actual: actual.description)
        }
        let type = resp.headers.first(name: "Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return (data, type, actual)
    }

    /// Fetches a small blob (a config) whole and verifies digest and size.
    func smallBlob(_ ref: Reference, _ d: Descriptor) async throws -> Data {
        let resp = try await send(host: ref.apiHost, path: "/v2/\(ref.repository)/blobs/\(d.digest)", repository: ref.repository)
        guard resp.status == .ok else {
            let message = await Self.registryMessage(resp)
            throw OCIError.registryError(registry: ref.registry, url: "blob \(d.digest)", status: Int(resp.status.code), message: message)
        }
        let data = try await collect(resp, limit: 64 << 20, what: "blob \(d.digest)", host: ref.registry)
        let actual = Digest.sha256(of: data)
        if actual != d.digest {
            throw OCIError.digestMismatch(blob: "\(ref.registry)/\(ref.repository)@\(d.digest)", expected: d.digest.description,
                                          actual: actual.description)
        }
        return data
    }

    private func collect(_ resp: HTTPClientResponse, limit: Int, what: String, host: String) async throws -> Data {
        do {
            return Data(try await resp.body.collect(upTo: limit).readableBytesView)
        } catch let e as NIOTooManyBytesError {
            throw OCIError.unsupported(what: what, reason: "larger than \(limit) bytes (\(e))")
        } catch {
            throw mapTransportError(error, host: host)
        }
    }

    // MARK: streaming blobs

    /// Opens a layer blob as a byte stream. A connection cut mid-blob resumes with `Range` from the
    /// last byte received (or restarts and skips what was read, if the registry ignores `Range`).
    func openBlob(_ ref: Reference, _ d: Descriptor, progress: (@Sendable (Int) -> Void)? = nil) -> BlobStream {
        let stream = BlobStream()
        Task.detached { [self] in
            var received: Int64 = 0
            var attempt = 1
            while true {
                do {
                    var headers: [(String, String)] = []
                    if received > 0 { headers.append(("Range", "bytes=\(received)-")) }
                    let resp = try await send(host: ref.apiHost, path: "/v2/\(ref.repository)/blobs/\(d.digest)",
                                              repository: ref.repository, headers: headers)
                    var skip: Int64 = 0
                    switch resp.status {
                    case .ok: skip = received
                    case .partialContent where received > 0:
                        let start = resp.headers.first(name: "Content-Range")?.split(separator: " ").last?
                            .split(separator: "-").first.flatMap { Int64($0) }
                        guard start == received else { skip = 0; throw OCIError.registryError(
                            registry: ref.registry, url: "blob \(d.digest)", status: 206, message: "Content-Range does not start at \(received)") }
                    default:
                        let message = await Self.registryMessage(resp)
                        throw OCIError.registryError(registry: ref.registry, url: "blob \(d.digest)", status: Int(resp.status.code),
                                                     message: message)
                    }
                    for try await var chunk in resp.body {
                        if skip > 0 {
                            let drop = Int(min(skip, Int64(chunk.readableBytes)))
                            chunk.moveReaderIndex(forwardBy: drop)
                            skip -= Int64(drop)
                            if chunk.readableBytes == 0 { continue }
                        }
                        let n = chunk.readableBytes
                        guard await stream.push(chunk) else { return }
                        received += Int64(n)
                        progress?(n)
                    }
                    if received < d.size {
                        throw HTTPClientError.remoteConnectionClosed
                    }
                    stream.finish(nil)
                    return
                } catch {
                    if stream.closed { return }
                    if attempt < options.maxAttempts, Self.isRetriable(error) {
                        try? await pause(nil, attempt: attempt)
                        attempt += 1
                        continue
                    }
                    stream.finish(mapTransportError(error, host: ref.registry))
                    return
                }
            }
        }
        return stream
    }
}
